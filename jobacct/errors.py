"""Exit statuses and the error hierarchy every command turns into one line on stderr."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit statuses of the ``jobacct`` command (documented in the README)."""

    SUCCESS = 0
    #: A domain error: no such job, not permitted, bad record in an import.
    ERROR = 1
    #: Bad usage: a malformed option value (job id, exit code, time, field name).
    USAGE = 2
    #: The database cannot be reached or opened.
    DB_UNAVAILABLE = 3
    #: The database schema is not at the head migration: run ``jobacct db upgrade``.
    SCHEMA_OUTDATED = 4
    INTERRUPTED = 130


class JobAcctError(Exception):
    """Base of every error a user can cause; ``str()`` is the one line shown on stderr."""

    exit_status = ExitStatus.ERROR


class UsageError(JobAcctError):
    """A malformed value on the command line."""

    exit_status = ExitStatus.USAGE


class DatabaseUnavailableError(JobAcctError):
    """The database file is missing or the server cannot be reached."""

    exit_status = ExitStatus.DB_UNAVAILABLE


class SchemaOutdatedError(JobAcctError):
    """The schema is behind (or ahead of) this version of jobacct."""

    exit_status = ExitStatus.SCHEMA_OUTDATED


class JobNotFoundError(JobAcctError):
    """No job record matches."""


class ImportFormatError(JobAcctError):
    """An input file has rows that cannot be read; nothing of it was stored."""


class AccessDeniedError(JobAcctError):
    """``ESLURM_ACCESS_DENIED`` (2002): the caller may not do this to this job."""
