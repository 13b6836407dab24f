"""Exit statuses and the error hierarchy every command turns into one line on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable
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


def error_line(message: str) -> None:
    """Print one error line on stderr, prefixed like every jobacct error."""
    from jobacct.textsafe import encodable

    sys.stderr.write(encodable(f"jobacct: error: {message}\n"))


def run_command(call: Callable[[], object]) -> int:
    """Run a command (``call()``) and return its exit status, its errors reported as one line.

    The one handling of every direct command's errors, shared by :func:`jobacct.cli.main`
    (around Typer) and ``sacct``'s Typer-free path (:mod:`jobacct.sacct_fastpath`):
    :class:`JobAcctError` is its line and status, an interrupt :attr:`ExitStatus.INTERRUPTED`,
    a reader gone away (EPIPE) success, a SQLAlchemy error one line (:func:`database_error`).
    An int ``call()`` returns is the status; anything else is success.

    Raises:
        Exception: any other error of ``call()``, unchanged (a bug: its traceback).
    """
    try:
        result = call()
    except JobAcctError as exc:
        error_line(str(exc))
        return int(exc.exit_status)
    except KeyboardInterrupt:
        return int(ExitStatus.INTERRUPTED)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error of ours.
        sys.stderr.close()
        return int(ExitStatus.SUCCESS)
    except Exception as exc:
        status = database_error(exc)
        if status is None:
            raise
        return int(status)
    return result if isinstance(result, int) else int(ExitStatus.SUCCESS)


def database_error(exc: Exception) -> ExitStatus | None:
    """Report a SQLAlchemy error in one line; None if ``exc`` is not one."""
    # Only a command that loaded SQLAlchemy can raise its errors: no import needed here.
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None:
        return None
    if isinstance(exc, sa_exc.OperationalError):
        error_line(f"cannot use the database: {_first_line(exc)}")
        return ExitStatus.DB_UNAVAILABLE
    if isinstance(exc, sa_exc.SQLAlchemyError):
        error_line(f"database error: {_first_line(exc)}")
        return ExitStatus.ERROR
    return None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
