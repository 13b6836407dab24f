"""``jobacct man [COMMAND...]``: man pages in roff, generated from the command tree.

The pages come from the same Click commands, help texts and metavars as ``--help``
(:mod:`jobacct.cli.helpfmt`), so the two cannot drift apart. ``jobacct man sacct | man -l -``
reads one; ``jobacct man --dir /usr/local/share/man/man1`` writes every page
(``jobacct.1``, ``jobacct-sacct.1``, ``jobacct-report-failures.1``, ...) for a package.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from jobacct.errors import UsageError


def _roff(text: str) -> str:
    """Text escaped for roff: backslashes, hyphens, and a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = [("\\&" + line if line.startswith((".", "'")) else line) for line in text.split("\n")]
    return "\n".join(lines)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]


def render(command: Any, ctx: Any) -> str:
    """The roff man page (section 1) of ``command`` in its context ``ctx``."""
    from importlib.metadata import version

    path = ctx.command_path  # "jobacct sacct"
    name = path.replace(" ", "-")
    out = [
        f'.TH "{name.upper()}" "1" "" "jobacct {version("jobacct")}" "jobacct manual"',
        ".SH NAME",
        f"{_roff(name)} \\- {_roff(command.short_help or command.help or '')}",
        ".SH SYNOPSIS",
        f".B {_roff(path)}",
        _roff(" ".join(command.collect_usage_pieces(ctx))),
    ]
    paragraphs = _paragraphs(command.help or "")
    if paragraphs:
        out.append(".SH DESCRIPTION")
        out.append("\n.PP\n".join(_roff(p) for p in paragraphs))
    records = [r for r in (p.get_help_record(ctx) for p in command.get_params(ctx)) if r]
    if records:
        out.append(".SH OPTIONS")
        for names, help_text in records:
            out += [".TP", _option_term(names), _roff(" ".join(help_text.split()))]
    subcommands = list(_subcommands(command, ctx))
    if subcommands:
        out.append(".SH COMMANDS")
        for sub_name, sub in subcommands:
            page = f"{name}-{sub_name}"
            out += [
                ".TP",
                f"\\fB{_roff(sub_name)}\\fR",
                f"{_roff(sub.short_help or sub.help or '')} See \\fB{_roff(page)}\\fR(1).",
            ]
    return "\n".join(out) + "\n"


def _option_term(names: str) -> str:
    """``-j, --jobs JOBID`` as bold names and an italic metavar."""
    head, _, metavar = names.partition(" ")
    while metavar and metavar.startswith("-"):  # "-u, --user, --uid USER": more names
        more, _, metavar = metavar.partition(" ")
        head += " " + more
    term = f"\\fB{_roff(head)}\\fR"
    return term + (f" \\fI{_roff(metavar)}\\fR" if metavar else "")


def _subcommands(command: Any, ctx: Any) -> Iterator[tuple[str, Any]]:
    if not hasattr(command, "list_commands"):
        return
    for sub_name in command.list_commands(ctx):
        sub = command.get_command(ctx, sub_name)
        if sub is not None and not getattr(sub, "hidden", False):
            yield sub_name, sub


def _pages(command: Any, ctx: Any) -> Iterator[tuple[str, str]]:
    """(file name, page) of ``command`` and every command below it."""
    yield ctx.command_path.replace(" ", "-") + ".1", render(command, ctx)
    for sub_name, sub in _subcommands(command, ctx):
        sub_ctx = sub.make_context(sub_name, [], parent=ctx, resilient_parsing=True)
        yield from _pages(sub, sub_ctx)


def man(
    ctx: typer.Context,
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="[COMMAND]...", help="A command path: sacct, report failures."),
    ] = None,
    directory: Annotated[
        str | None,
        typer.Option(
            "--dir", metavar="DIR", help="Write every page as DIR/jobacct-COMMAND.1 instead."
        ),
    ] = None,
) -> None:
    """Print the man page (roff) of jobacct or of one of its commands."""
    root_ctx = ctx.find_root()
    current, current_ctx = root_ctx.command, root_ctx
    for word in command or []:
        sub = current.get_command(current_ctx, word) if hasattr(current, "get_command") else None
        if sub is None:
            raise UsageError(f"no such command: {' '.join(command or [])}")
        current_ctx = sub.make_context(word, [], parent=current_ctx, resilient_parsing=True)
        current = sub
    if directory is None:
        sys.stdout.write(render(current, current_ctx))
        return
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for file_name, page in _pages(current, current_ctx):
        (target / file_name).write_text(page, encoding="utf-8")
