"""SMTP settings: the site config file's ``[smtp]`` table, overridden by the environment.

Precedence is jobacct's usual one (:mod:`jobacct.config`): an environment variable beats the
site config file (``$JOBACCT_CONFIG``, default ``/etc/jobacct/jobacct.toml``), which beats the
default.

=============  =========================  ===========================================
config key     environment                default
=============  =========================  ===========================================
``host``       ``JOBACCT_SMTP_HOST``      ``localhost``
``port``       ``JOBACCT_SMTP_PORT``      465 with ``ssl``, else 25
``user``       ``JOBACCT_SMTP_USER``      none (no AUTH)
``password``   ``JOBACCT_SMTP_PASSWORD``  none
``starttls``   ``JOBACCT_SMTP_STARTTLS``  false (true/false, yes/no, 1/0)
``ssl``        ``JOBACCT_SMTP_SSL``       false (SMTP over TLS from the start)
``from``       ``JOBACCT_SMTP_FROM``      ``jobacct@<this host's FQDN>``
``timeout``    ``JOBACCT_SMTP_TIMEOUT``   30 (seconds per SMTP operation)
=============  =========================  ===========================================
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from jobacct.config import TABLE_KEYS, config_path, read_config
from jobacct.errors import UsageError

KEYS = tuple(sorted(TABLE_KEYS["smtp"]))


class SmtpSettings(BaseModel):
    """Where and how to send mail (module docstring)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    host: str = Field("localhost", min_length=1)
    port: int | None = Field(None, ge=1, le=65535)
    user: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    ssl: bool = False
    sender: str | None = Field(None, alias="from")
    timeout: float = Field(30.0, gt=0)

    @property
    def effective_port(self) -> int:
        """The port, or the default for the connection kind (465 for SMTPS, else 25)."""
        return self.port or (465 if self.ssl else 25)

    @property
    def from_address(self) -> str:
        """The From address: ``from``, else ``jobacct@<FQDN>``."""
        return self.sender or f"jobacct@{socket.getfqdn()}"


def load_smtp_settings(
    environ: Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None
) -> SmtpSettings:
    """The settings by the precedence rule (module docstring).

    Raises:
        UsageError: an unknown key in ``[smtp]`` or a bad value (naming where it came from).
    """
    env = os.environ if environ is None else environ
    table = (read_config() if config is None else config).get("smtp", {})
    if not isinstance(table, Mapping):
        raise UsageError(f"[smtp] in {config_path()} must be a table")
    values: dict[str, Any] = dict(table)
    sources = {key: f"smtp.{key} in {config_path()}" for key in values}
    for key in KEYS:
        name = f"JOBACCT_SMTP_{key.upper()}"
        if env.get(name):
            values[key] = env[name]
            sources[key] = name
    try:
        return SmtpSettings.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "smtp"
        where = sources.get(key, f"smtp.{key} in {config_path()}")
        raise UsageError(f"invalid SMTP setting {where}: {error['msg']}") from None
