"""``jobacct sacct`` output modes beyond sacct's text formats: ``--json``, ``--ndjson``, ``--csv``,
and the terminal safety (control characters, colour) of the fixed-width table.

One module per job:

* :mod:`jobacct.formats.jsondoc` turns query rows into sacct-22.05-shaped job objects;
* :mod:`jobacct.formats.jsonout` streams them as one ``--json`` document or ``--ndjson`` lines;
* :mod:`jobacct.formats.csvout` writes the ``-o`` columns as RFC 4180 CSV;
* :mod:`jobacct.formats.terminal` decides what a terminal gets (escaped control characters,
  ANSI colours on State and ExitCode cells);
* :mod:`jobacct.formats.stream` writes text chunks to stdout, quietly stopping at a closed pipe.

:func:`write_sacct` picks the writer for an :class:`OutputMode`; the CLI calls only it and
:func:`output_mode`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import Enum

from jobacct.errors import UsageError
from jobacct.fields import Column, Ctx
from jobacct.formats import terminal
from jobacct.formats.stream import write_chunks
from jobacct.render import render_lines, text_chunks

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import Any, TextIO


class OutputMode(Enum):
    """How ``jobacct sacct`` prints its lines."""

    TABLE = "table"  # fixed width (sacct's default)
    PARSABLE = "p"  # -p: '|' after every field
    PARSABLE2 = "P"  # -P: '|' between fields
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"


def output_mode(
    *, json: bool, ndjson: bool, csv: bool, parsable: bool, parsable2: bool
) -> OutputMode:
    """The output mode chosen by sacct's flags.

    ``-p`` and ``-P`` may be combined (``-P`` wins, as in sacct); ``--json``, ``--ndjson`` and
    ``--csv`` exclude each other and ``-p``/``-P``.

    Raises:
        UsageError: naming the two conflicting options.
    """
    given = [
        name
        for name, on in (
            ("--json", json),
            ("--ndjson", ndjson),
            ("--csv", csv),
            ("-p/--parsable", parsable),
            ("-P/--parsable2", parsable2),
        )
        if on
    ]
    machine = [name for name in given if name in ("--json", "--ndjson", "--csv")]
    if machine and len(given) > 1:
        other = next(name for name in given if name != machine[0])
        raise UsageError(f"{machine[0]} and {other} cannot be used together")
    if json:
        return OutputMode.JSON
    if ndjson:
        return OutputMode.NDJSON
    if csv:
        return OutputMode.CSV
    if parsable2:
        return OutputMode.PARSABLE2
    if parsable:
        return OutputMode.PARSABLE
    return OutputMode.TABLE


def write_sacct(
    lines: Iterable[tuple[Any, bool]],
    mode: OutputMode,
    columns: Sequence[Column],
    ctx: Ctx,
    *,
    delimiter: str = "|",
    header: bool = True,
    out: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Write sacct's ``(row, is_step)`` lines to ``out`` (stdout) in ``mode``, streaming.

    Returns False if the reader went away before the end (``| head``), True otherwise.

    ``columns``, ``delimiter`` and ``header`` are ignored by ``--json``/``--ndjson``, as sacct
    ignores its format options for ``--json`` (slurm-semantics.md §4.11). On a terminal,
    control characters in text output are escaped and the table may be coloured
    (:mod:`jobacct.formats.terminal`); piped output is exact.
    """
    stream = sys.stdout if out is None else out
    env = os.environ if environ is None else environ
    # The JSON and CSV writers are imported when used: a few hundredths of a second of
    # start-up that a -j lookup need not pay.
    if mode is OutputMode.JSON:
        from jobacct.formats import jsonout

        return write_chunks(jsonout.json_document(lines, ctx), stream)
    if mode is OutputMode.NDJSON:
        from jobacct.formats import jsonout

        return write_chunks(jsonout.ndjson_lines(lines, ctx), stream)
    term = terminal.detect(stream, env)
    clean = terminal.neutralise if term.is_tty else None
    if mode is OutputMode.CSV:
        from jobacct.formats import csvout

        return write_chunks(
            csvout.csv_lines(lines, columns, ctx, header=header, clean=clean), stream
        )
    parsable = None if mode is OutputMode.TABLE else mode.value
    paint = terminal.paint_cell if term.colour and mode is OutputMode.TABLE else None
    if clean is None and paint is None:
        # Pipes and files: whole chunks of lines from the generated line functions.
        chunks = text_chunks(
            lines, columns, ctx, parsable=parsable, delimiter=delimiter, header=header
        )
        return write_chunks(chunks, stream)
    text = render_lines(
        lines,
        columns,
        ctx,
        parsable=parsable,
        delimiter=delimiter,
        header=header,
        clean=clean,
        paint=paint,
    )
    return write_chunks(_joined(text), stream)


def _joined(lines: Iterable[str], size: int = 1000) -> Iterator[str]:
    """Lines joined ``size`` at a time, each with its newline: one write per chunk."""
    batch: list[str] = []
    append = batch.append
    for line in lines:
        append(line)
        if len(batch) >= size:
            yield "\n".join(batch) + "\n"
            batch.clear()
    if batch:
        yield "\n".join(batch) + "\n"
