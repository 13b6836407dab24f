"""The local record of mailed reports, so that a retry never sends a report twice.

SMTP servers do not drop duplicates, so jobacct keeps, per report (its Message-ID, which is
deterministic: :func:`jobacct.report.mail.message_key`), a small JSON file in the user's
state directory: ``$XDG_STATE_HOME/jobacct/sent-reports/<key>.json`` (default
``~/.local/state/jobacct/...``), holding which recipients accepted it and when (epoch UTC).
A file, not a table: the store's schema is not changed for this, and a report mailed by cron
on one host is that host's business.

Concurrent runs for the same report are serialised by an exclusive ``flock`` on
``<key>.lock``, held from the check to the record, so two cron runs cannot both send.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def state_dir() -> Path:
    """``<user state dir>/jobacct/sent-reports`` (XDG on Linux; honours ``XDG_STATE_HOME``)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("jobacct")) / "sent-reports"


@dataclass
class SentRecord:
    """What was sent of one report: Message-ID, subject, recipient -> epoch accepted, and
    recipient -> epoch of a send whose outcome is not known (``unconfirmed``).

    A recipient is written to ``unconfirmed`` *before* the message goes out and moved to
    ``recipients`` when the server accepts it, or dropped when the server refused it before
    taking the message. One still there after a run (killed, or the server's final reply
    lost) may have the message: it is not sent again without ``--resend``.
    """

    message_id: str
    subject: str
    recipients: dict[str, int] = field(default_factory=dict)
    unconfirmed: dict[str, int] = field(default_factory=dict)


class SentLog:
    """The records in one directory (default :func:`state_dir`)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or state_dir()

    def _path(self, key: str, suffix: str) -> Path:
        return self.directory / f"{key}{suffix}"

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold the report's lock (blocks while another run holds it)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._path(key, ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self, key: str) -> SentRecord | None:
        """The record of report ``key``, or None if it was never sent."""
        try:
            data = json.loads(self._path(key, ".json").read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable: treat as unsent rather than never sending again
        return SentRecord(
            data.get("message_id", ""),
            data.get("subject", ""),
            dict(data.get("recipients", {})),
            dict(data.get("unconfirmed", {})),
        )

    def remove(self, key: str) -> None:
        """Forget report ``key`` (nobody got it: a failed first send leaves no record)."""
        self._path(key, ".json").unlink(missing_ok=True)

    def write(self, key: str, record: SentRecord) -> None:
        """Store ``record`` atomically (write a temporary file, then rename it).

        Raises:
            OSError: the directory cannot be written.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(key, ".json")
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(
            json.dumps(
                {
                    "message_id": record.message_id,
                    "subject": record.subject,
                    "recipients": record.recipients,
                    "unconfirmed": record.unconfirmed,
                },
                indent=1,
            )
        )
        os.replace(tmp, path)
