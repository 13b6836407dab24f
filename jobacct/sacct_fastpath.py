"""``jobacct sacct`` without Typer for its common one-shot command lines (tracker issue 16).

Typer and its vendored Click take about 35 ms to import, more than the rest of a ``sacct -j
ID`` on a SQLite file. :func:`run` recognises a strict subset of ``sacct`` command lines
(:data:`OPTIONS`, in the forms listed below) and runs them with the same function the Typer
command calls (:func:`jobacct.sacct_command.run_sacct`) and the same error handling
(:func:`jobacct.errors.run_command`), so stdout, stderr and the exit status are the Typer
path's. Everything else returns None and takes the Typer path, which parses again and prints
Click's usual errors: an option outside the subset, ``--help``, an option given twice, a
missing value, a positional argument or ``--``, a short group holding ``=``, a ``--server``
or any root option but ``--db``, an argument that is not UTF-8, a database read through
SQLAlchemy (anything but a SQLite file or a plain server URL), the shell-completion
variable, or ``JOBACCT_SACCT_FASTPATH=0``.

Accepted forms, each with the meaning Click's parser gives it (``typer._click.parser``):
``--db URL``/``--db=URL`` before ``sacct`` (:func:`jobacct.client.hoist_root_options` has
moved one given after it); long options ``--jobs ID`` and ``--jobs=ID``; short flags alone or
grouped (``-X``, ``-XPn``); a short option with its value next (``-j 1``) or attached
(``-j1``), also at the end of a group (``-Xj1``). A value given in the next argument is that
argument whatever it looks like (``-u -1``), as Click takes it.

Run only after :func:`jobacct.client.main` decided the command runs directly (no daemon).
Set ``JOBACCT_SACCT_FASTPATH=0`` to always take the Typer path (the tests compare the two).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

ENV_SWITCH = "JOBACCT_SACCT_FASTPATH"

#: The options taken here: each name -> (parameter of run_sacct, takes a value). Every name of
#: an option is listed (the Typer command's, jobacct/cli/sacct.py); all are plain strings or
#: flags there, whose values Typer passes through unchanged (jobacct.cli.plain_text_options).
OPTIONS: dict[str, tuple[str, bool]] = {
    "-j": ("jobs", True),
    "--jobs": ("jobs", True),
    "-u": ("users", True),
    "--user": ("users", True),
    "--uid": ("users", True),
    "-A": ("accounts", True),
    "--accounts": ("accounts", True),
    "-M": ("clusters", True),
    "--clusters": ("clusters", True),
    "--name": ("names", True),
    "-s": ("states", True),
    "--state": ("states", True),
    "-S": ("start", True),
    "--starttime": ("start", True),
    "-E": ("end", True),
    "--endtime": ("end", True),
    "-r": ("partitions", True),
    "--partition": ("partitions", True),
    "-o": ("fmt", True),
    "--format": ("fmt", True),
    "--fields": ("fmt", True),
    "--delimiter": ("delimiter", True),
    "-a": ("all_users", False),
    "--allusers": ("all_users", False),
    "-X": ("allocations", False),
    "--allocations": ("allocations", False),
    "-D": ("duplicates", False),
    "--duplicates": ("duplicates", False),
    "-L": ("all_clusters", False),
    "--allclusters": ("all_clusters", False),
    "-T": ("truncate", False),
    "--truncate": ("truncate", False),
    "-b": ("brief", False),
    "--brief": ("brief", False),
    "-l": ("long", False),
    "--long": ("long", False),
    "-n": ("noheader", False),
    "--noheader": ("noheader", False),
    "-p": ("parsable", False),
    "--parsable": ("parsable", False),
    "-P": ("parsable2", False),
    "--parsable2": ("parsable2", False),
}


def parse(argv: Sequence[str]) -> tuple[str | None, dict[str, object]] | None:
    """(the ``--db`` value, run_sacct's keyword arguments) of a command line, or None.

    ``argv`` is the command line after the program name, root options first (as
    :func:`jobacct.client.hoist_root_options` leaves it). None: not a form this module takes
    (module docstring); the caller then runs the Typer path.
    """
    db: str | None = None
    i = 0
    while i < len(argv) and argv[i] != "sacct":
        arg = argv[i]
        if db is not None:
            return None  # --db twice, or another root option
        if arg == "--db" and i + 1 < len(argv):
            db, i = argv[i + 1], i + 2
        elif arg.startswith("--db="):
            db, i = arg[5:], i + 1
        else:
            return None
    if i == len(argv) or db == "":
        return None
    options: dict[str, object] = {}
    rest = list(argv[i + 1 :])
    while rest:
        arg = rest.pop(0)
        if arg.startswith("--"):
            name, eq, attached = arg.partition("=")
            spec = OPTIONS.get(name)
            if spec is None or (eq and not spec[1]):
                return None  # unknown (or --, --help), or a value given to a flag
            param, takes_value = spec
            if not takes_value:
                value: str | bool = True
            elif eq:
                value = attached
            elif rest:
                value = rest.pop(0)
            else:
                return None
            if param in options:
                return None
            options[param] = value
        elif arg.startswith("-") and len(arg) > 1 and "=" not in arg:
            # A group of short options: flags, then at most one option with a value (the
            # rest of the group, else the next argument).
            for at in range(1, len(arg)):
                spec = OPTIONS.get("-" + arg[at])
                if spec is None:
                    return None
                param, takes_value = spec
                if param in options:
                    return None
                if not takes_value:
                    options[param] = True
                    continue
                if at + 1 < len(arg):
                    options[param] = arg[at + 1 :]
                elif rest:
                    options[param] = rest.pop(0)
                else:
                    return None
                break
        else:
            return None  # a positional argument, "-", or a short group holding "="
    if "fmt" in options:
        options["fmt"] = [options["fmt"]]  # Typer's -o is a list (it may be repeated)
    return db, options


def _is_utf8(argv: Sequence[str]) -> bool:
    try:
        for arg in argv:
            arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lean_store(db: str | None) -> bool:
    """Whether the store ``db`` names (jobacct's precedence rule) is read without
    SQLAlchemy: a SQLite file (jobacct.fastread) or a plain PostgreSQL/MariaDB URL
    (jobacct.serverread, whose start-up is then mostly the driver's import)."""
    from jobacct.config import resolve_database_url
    from jobacct.errors import JobAcctError
    from jobacct.fastread import sqlite_url_path

    try:
        url = resolve_database_url(db)
    except JobAcctError:
        return False  # the Typer path reports it, in its order
    if sqlite_url_path(url) is not None:
        return True
    from jobacct.serverread import driver_params

    return driver_params(url) is not None


def run(argv: Sequence[str]) -> int | None:
    """Run a ``sacct`` command line this module takes (module docstring); its exit status.

    None: not taken (nothing was written); run it through :func:`jobacct.cli.main`.
    """
    from jobacct.client import COMPLETE_VAR

    if os.environ.get(ENV_SWITCH) == "0" or COMPLETE_VAR in os.environ:
        return None
    parsed = parse(argv)
    if parsed is None or not _is_utf8(argv) or not _lean_store(parsed[0]):
        return None
    db, options = parsed

    from jobacct.errors import ExitStatus, run_command
    from jobacct.sacct_command import run_sacct

    def invoke() -> object:
        # What Typer's main loop (typer.core._main) makes of these, as jobacct.cli.main gets
        # them: EOF is Click's Abort (a newline, then jobacct.cli.main's newline), ^C exit
        # status 130, EPIPE exit status 1 with stdout and stderr made quiet.
        try:
            # options: values of the types run_sacct's parameters of those names take
            run_sacct(db_option=db, **options)  # type: ignore[arg-type]
        except EOFError:
            sys.stderr.write("\n")
            sys.stderr.flush()
            sys.stderr.write("\n")
            return int(ExitStatus.INTERRUPTED)
        except KeyboardInterrupt:
            return int(ExitStatus.INTERRUPTED)
        except OSError as exc:
            import errno

            if exc.errno != errno.EPIPE:
                raise
            from typer._click.utils import PacifyFlushWrapper

            sys.stdout = PacifyFlushWrapper(sys.stdout)
            sys.stderr = PacifyFlushWrapper(sys.stderr)
            sys.exit(1)
        return None

    return run_command(invoke)
