"""The ``jobacct`` command: a thin Typer layer over the library's plain functions."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from typer._click import exceptions as click_exceptions

from jobacct.cli import admin, importcmd, modifyjob, sacct, sjobexitmod
from jobacct.cli import db as db_cmd
from jobacct.cli.context import AppContext
from jobacct.errors import ExitStatus, JobAcctError

app = typer.Typer(
    name="jobacct",
    help="Job accounting and exit codes for batch clusters: sacct, sjobexitmod and scancel "
    "on a SQL store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL or SQLite path (default: $JOBACCT_DATABASE_URL, the site "
            "config file, then a SQLite file in your data directory).",
            metavar="URL",
        ),
    ] = None,
) -> None:
    ctx.obj = AppContext(db_option=db)


app.command("sacct", context_settings={"ignore_unknown_options": False})(sacct.sacct)
app.command("sjobexitmod")(sjobexitmod.sjobexitmod)
app.command("modify-job")(modifyjob.modify_job)
app.add_typer(admin.app, name="admin")
app.add_typer(db_cmd.app, name="db")
app.add_typer(importcmd.app, name="import")


def error_line(message: str) -> None:
    """Print one error line on stderr, prefixed like every jobacct error."""
    sys.stderr.write(f"jobacct: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status (errors.ExitStatus)."""
    try:
        app(args=argv, standalone_mode=False, prog_name="jobacct")
    except JobAcctError as exc:
        error_line(str(exc))
        return int(exc.exit_status)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("\n")
        return int(ExitStatus.INTERRUPTED)
    except click_exceptions.ClickException as exc:
        error_line(exc.format_message())
        return int(ExitStatus.USAGE)
    except OperationalError as exc:
        error_line(f"cannot use the database: {_first_line(exc)}")
        return int(ExitStatus.DB_UNAVAILABLE)
    except SQLAlchemyError as exc:
        error_line(f"database error: {_first_line(exc)}")
        return int(ExitStatus.ERROR)
    except KeyboardInterrupt:
        return int(ExitStatus.INTERRUPTED)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error of ours.
        sys.stderr.close()
        return int(ExitStatus.SUCCESS)
    return int(ExitStatus.SUCCESS)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def run() -> None:
    """Console-script wrapper: exit with main()'s status."""
    sys.exit(main())
