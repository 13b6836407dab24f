"""Writing sacct lines: fixed-width tables and ``-p``/``-P`` parsable output (§4.3).

These writers produce plain text for scripts and pipes, byte for byte as sacct(1) does; no Rich
here. On a terminal, ``jobacct.formats.terminal`` hooks in through ``clean`` (escaping control
characters) and ``paint`` (colour).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from jobacct.fields import Column, Ctx, Kind

#: Rewrites one cell's text before it is fitted or joined (e.g. escaping control characters).
Cleaner = Callable[[str], str]
#: Decorates a fitted table cell: ``(column, cell text, fitted cell) -> printed cell``. It
#: must not change the printed width (colour codes only).
Painter = Callable[[Column, str, str], str]


def header_lines(columns: Sequence[Column]) -> list[str]:
    """The two header lines of fixed-width output: names, then dashes.

    Names longer than the width are cut without a '+' (print_fields.c prints the header with
    ``%*.*s``); every cell, the last included, is followed by one space.
    """
    names = []
    dashes = []
    for column in columns:
        width = abs(column.width)
        name = column.field.name[:width]
        names.append(name.ljust(width) if column.width < 0 else name.rjust(width))
        dashes.append("-" * width)
    return [" ".join(names) + " ", " ".join(dashes) + " "]


def fit(value: str, width: int, kind: Kind) -> str:
    """Fit one cell to ``width`` (negative = left-aligned) as print_fields.c does."""
    size = abs(width)
    if len(value) > size:
        if kind is Kind.STR:
            value = value[: size - 1] + "+" if size > 0 else ""
        elif kind is Kind.DATE:
            value = "#" * size
    return value.ljust(size) if width < 0 else value.rjust(size)


def table_line(
    cells: Sequence[str], columns: Sequence[Column], paint: Painter | None = None
) -> str:
    """One fixed-width data line (each cell followed by a space)."""
    if paint is None:
        fitted = (fit(cell, col.width, col.field.kind) for cell, col in zip(cells, columns))
    else:
        fitted = (
            paint(col, cell, fit(cell, col.width, col.field.kind))
            for cell, col in zip(cells, columns)
        )
    return " ".join(fitted) + " "


def parsable_line(cells: Sequence[str], delimiter: str, trailing: bool) -> str:
    """One ``-p`` (``trailing``) or ``-P`` line: no padding, no truncation."""
    line = delimiter.join(cells)
    return line + delimiter if trailing else line


def cells_for(row: Any, is_step: bool, columns: Sequence[Column], ctx: Ctx) -> list[str]:
    """The cell texts of one job or step line."""
    if is_step:
        return [col.field.step(row, ctx) for col in columns]
    return [col.field.job(row, ctx) for col in columns]  # type: ignore[misc]


def render_lines(
    lines: Iterable[tuple[Any, bool]],
    columns: Sequence[Column],
    ctx: Ctx,
    *,
    parsable: str | None = None,
    delimiter: str = "|",
    header: bool = True,
    clean: Cleaner | None = None,
    paint: Painter | None = None,
) -> Iterator[str]:
    """Yield sacct output lines (without newlines) for ``(row, is_step)`` pairs.

    Args:
        lines: the job and step lines to print, in order.
        columns: the resolved ``-o`` columns.
        ctx: clock and time format.
        parsable: None for fixed width, ``"p"`` for ``-p``, ``"P"`` for ``-P``.
        delimiter: ``--delimiter`` (only with ``parsable``).
        header: False for ``-n``.
        clean: applied to every data cell first (jobacct.formats.terminal on a terminal).
        paint: applied to every fitted table cell (colour; fixed width only).
    """
    rows: Iterator[list[str]] = (cells_for(row, s, columns, ctx) for row, s in lines)
    if clean is not None:
        rows = ([clean(cell) for cell in cells] for cells in rows)
    if parsable is None:
        if header:
            yield from header_lines(columns)
        for cells in rows:
            yield table_line(cells, columns, paint)
        return
    trailing = parsable == "p"
    if header:
        yield parsable_line([c.field.name for c in columns], delimiter, trailing)
    for cells in rows:
        yield parsable_line(cells, delimiter, trailing)
