"""What the daemon lets a peer run, before any command starts (tracker issue 13).

The permission rules of the commands themselves (annotation, modify-job, scancel, admin:
:mod:`jobacct.authz`) run inside the worker with the peer's uid as the caller. What only the
daemon can decide is checked here:

- ``db`` (schema changes) and ``serve`` never run through the daemon, and ``--db`` is
  refused: the daemon serves its own store, never one a client names.
- Controller events (``shim ingest``, ``shim jobcomp``) and imports (``import sacct``,
  ``import slurmdbd``) write records as the controller would; slurmdbd accepts them only
  from SlurmUser and root (``_validate_slurm_user``, slurmdbd's ``proc_req.c``). Here: from
  the uids of ``controllers`` in the ``[server]`` table of the site config file (user names
  or uids), by default root and the ``SlurmUser`` of ``slurm.conf``.
- ``private_data = ["jobs"]``: as ``PrivateData=jobs`` in ``slurmdbd.conf``, users below
  Operator read only their own jobs and those of the accounts they coordinate (sacct,
  ``sjobexitmod -l``, the REST API), and the reports, which list every user's jobs, need
  Operator.

Each refusal is one line naming Slurm's error, and nothing runs.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobacct.caller import JobScope
from jobacct.errors import UsageError
from jobacct.server.peer import Peer

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: Commands a client may run through the daemon.
COMMANDS = frozenset(
    {"sacct", "sjobexitmod", "modify-job", "scancel", "admin", "report", "shim", "import"}
)
#: Commands that write records as a controller does: only controllers may.
CONTROLLER_COMMANDS = frozenset({"shim", "import"})
SLURM_CONF = Path("/etc/slurm/slurm.conf")


@dataclass(frozen=True)
class Policy:
    """The daemon's own rules: controller uids and the PrivateData options."""

    controllers: frozenset[int] = frozenset({0})
    private_data: frozenset[str] = field(default_factory=frozenset)

    @property
    def private_jobs(self) -> bool:
        """``PrivateData=jobs``."""
        return "jobs" in self.private_data


def slurm_user(conf: Path | None = None) -> int | None:
    """The uid of ``SlurmUser`` in ``slurm.conf`` (``$SLURM_CONF`` or /etc/slurm/slurm.conf),
    or None without one (Slurm's default SlurmUser is root)."""
    path = conf or Path(os.environ.get("SLURM_CONF") or SLURM_CONF)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for raw in text.splitlines():
        key, sep, value = raw.split("#", 1)[0].strip().partition("=")
        if sep and key.strip().lower() == "slurmuser":
            try:
                return _uid(value.strip())
            except UsageError:
                return None
    return None


def _uid(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        raise UsageError(f"server config: unknown controller user '{text}'") from None


def load(config: Mapping[str, Any]) -> Policy:
    """The policy from the site config's ``[server]`` table.

    ``controllers``: user names or uids (default: root and SlurmUser); ``private_data``:
    a list of PrivateData words (``jobs``; others are accepted and ignored).

    Raises:
        UsageError: a malformed table or an unknown user name.
    """
    table = config.get("server", {})
    if not isinstance(table, Mapping):
        table = {}
    given = table.get("controllers")
    if given is None:
        controllers = {0}
        slurm = slurm_user()
        if slurm is not None:
            controllers.add(slurm)
    elif isinstance(given, list):
        controllers = {_uid(str(item)) for item in given}
    else:
        raise UsageError("server config: 'controllers' must be a list of user names or uids")
    private = table.get("private_data", [])
    if isinstance(private, str):
        private = [p for p in private.replace(",", " ").split() if p]
    if not isinstance(private, list):
        raise UsageError("server config: 'private_data' must be a list such as [\"jobs\"]")
    return Policy(frozenset(controllers), frozenset(str(p).lower() for p in private))


def command_of(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """(root options, command name) of a client's argv."""
    options: list[str] = []
    for arg in argv:
        if not arg.startswith("-"):
            return options, arg
        options.append(arg)
    return options, None


def refusal(policy: Policy, peer: Peer, argv: Sequence[str]) -> tuple[str, int] | None:
    """Why the daemon will not run ``argv`` for ``peer`` (one line, exit status), or None."""
    options, command = command_of(argv)
    if any(o == "--db" or o.startswith("--db=") for o in options):
        return "--db cannot be used through the jobacct server: it serves its own store", 2
    if any(o == "--server" or o.startswith("--server=") for o in options):
        return "--server cannot be sent to the jobacct server", 2
    if command is None:
        return None  # --help and the like
    if command not in COMMANDS:
        if command in ("db", "serve"):
            return (
                f"'{command}' is not run through the jobacct server: the store's owner runs"
                " it directly",
                2,
            )
        return None  # the command's own "No such command" error
    if command in CONTROLLER_COMMANDS and peer.uid not in policy.controllers:
        sub = next((a for a in argv[argv.index(command) + 1 :] if not a.startswith("-")), "")
        what = f"{command} {sub}".strip()
        return (
            f"ESLURM_ACCESS_DENIED: '{what}' writes records as the controller: only the"
            f" controller uids ({', '.join(str(u) for u in sorted(policy.controllers))}) may;"
            f" uid {peer.uid} may not",
            1,
        )
    return None


def job_scope(engine: Engine, uid: int) -> JobScope | None:
    """The jobs ``uid`` may read under ``PrivateData=jobs``: None (all) for Operators,
    Administrators and root; else its own and its coordinated accounts' jobs.

    Raises:
        sqlalchemy.exc.OperationalError: the store cannot be read.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from jobacct.authz import AdminLevel, admin_level
    from jobacct.model import Coordinator

    with Session(engine) as session:
        if admin_level(session, uid).rank >= AdminLevel.OPERATOR.rank:
            return None
        accounts = session.scalars(select(Coordinator.account).where(Coordinator.uid == uid))
        return JobScope(uid, tuple(sorted(accounts)))


class ScopeOf:
    """``job_scope`` on the store at ``url`` for a worker, asked at most once per uid."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._known: dict[int, JobScope | None] = {}

    def __call__(self, uid: int) -> JobScope | None:
        if uid not in self._known:
            from jobacct.config import make_engine

            engine = make_engine(self.url)
            try:
                self._known[uid] = job_scope(engine, uid)
            finally:
                engine.dispose()
        return self._known[uid]
