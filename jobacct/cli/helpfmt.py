"""How ``--help`` looks: plain text, meaningful metavars, nothing cut or reinterpreted.

Typer renders help with Rich by default: boxes, ``<str>``/``<bool>`` type labels for every
option, help text read as Rich markup with emoji codes (``HH:MM:SS`` became ``HⓂS``), and a
command list whose descriptions are cut with ``...``. jobacct's help is Click's plain
layout everywhere (the layout of Slurm's own ``--help`` and of the man pages, which are
generated from the same command tree, :mod:`jobacct.cli.manpage`): option names, a metavar
that says what the value is (``JOBID[,...]``, ``TIME``), none for flags, and each
command's whole first paragraph in a group's command list.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

#: The help's width when stdout is not a terminal (Click would take 80 columns and break
#: long words such as field lists across lines).
PIPE_WIDTH = 120

#: Metavars by option name: what the value is, in the words of the fields (sacct's man page
#: style). A name with a comma-list help text gets ``[,...]`` (:func:`metavar_for`).
METAVARS: dict[str, str] = {
    "--jobs": "JOBID",
    "--user": "USER",
    "--uid": "USER",
    "--accounts": "ACCOUNT",
    "--account": "ACCOUNT",
    "--clusters": "CLUSTER",
    "--cluster": "CLUSTER",
    "--name": "NAME",
    "--state": "STATE",
    "--starttime": "TIME",
    "--endtime": "TIME",
    "--start": "TIME",
    "--end": "TIME",
    "--group": "GROUP",
    "--partition": "PARTITION",
    "--qos": "QOS",
    "--wckeys": "WCKEY",
    "--wckey": "WCKEY",
    "--reason": "REASON",
    "--constraints": "FEATURE",
    "--flags": "FLAG",
    "--nodelist": "NODES",
    "--nnodes": "N[-M]",
    "--ncpus": "N[-M]",
    "--timelimit-min": "TIME",
    "--timelimit-max": "TIME",
    "--whole-hetjob": "yes|no",
    "--fields": "FIELD[%WIDTH][,...]",
    "--delimiter": "CHARS",
    "-e": "CODE[:SIGNAL]",
    "-r": "REASON",
    "-c": "CLUSTER",
    "--signal": "SIGNAL",
    "--reservation": "RESERVATION",
    "--admin-comment": "TEXT",
    "--time-format": "UNIT",
    "--top": "N",
    "--batch-size": "N",
    "--threads": "N",
    "--output-format": "text|csv|json|markdown|html",
}
#: Options whose help says "comma list" but whose value is one item per name above.
_LIST_WORDS = ("comma list", "comma-list")


def metavar_for(param: Any) -> str:
    """The metavar of an option or argument that has none: from :data:`METAVARS`, else its
    upper-cased name; ``[,...]`` appended when its help speaks of a comma list."""
    if param.param_type_name == "argument":
        return str(param.name).upper()
    for opt in param.opts:
        if opt in METAVARS:
            base = METAVARS[opt]
            break
    else:
        longs = [o for o in param.opts if o.startswith("--")]
        base = (longs[0][2:] if longs else str(param.name)).upper().replace("-", "_")
    help_text = (getattr(param, "help", None) or "").lower()
    if any(word in help_text for word in _LIST_WORDS) and not base.endswith("...]"):
        base += "[,...]"
    return base


def _no_type(ctx: Any) -> str:
    return ""


def _argument_usage(param: Any) -> str:
    """An argument in the usage line, as Click writes it: ``JOBID``, ``[FILE]...``."""
    name = str(param.metavar)
    if "..." in name or "[" in name:
        return name  # the metavar already says it
    name = name if param.required else f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")


def plain_help(command: Any) -> None:
    """Make ``command`` (and its loaded subcommands) render plain help (module docstring).

    Called on each command when it is built; a lazy group's subcommands get it when loaded.
    """
    command.rich_markup_mode = None  # Click's plain formatter: no boxes, markup or emoji
    for param in command.params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if param.metavar is None:
            param.metavar = metavar_for(param)
        if param.param_type_name == "argument":
            # Typer (0.29) adds "<str>" after an argument's name and writes a required one
            # as "{JOBID}" in the usage line; Click's (and man pages') way is "JOBID".
            param.display_type_rich = _no_type
            param._usage_display_name = functools.partial(str, _argument_usage(param))
    if command.short_help is None and command.help:
        # The whole first paragraph: Click would cut it to fit the line with "...".
        command.short_help = " ".join(command.help.strip().split("\n\n")[0].split())
    commands = getattr(command, "commands", None)
    if commands is not None and type(commands) is dict:
        for sub in commands.values():
            plain_help(sub)


def help_width() -> dict[str, int]:
    """Context settings for the help's width: the terminal's, or :data:`PIPE_WIDTH` in a pipe."""
    try:
        if sys.stdout.isatty():
            return {}
    except (AttributeError, ValueError, OSError):
        pass
    return {"terminal_width": PIPE_WIDTH, "max_content_width": PIPE_WIDTH}
