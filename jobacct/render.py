"""Writing sacct lines: fixed-width tables and ``-p``/``-P`` parsable output (§4.3).

These writers produce plain text for scripts and pipes, byte for byte as sacct(1) does; no Rich
here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from jobacct.fields import Column, Ctx, Kind


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


def table_line(cells: Sequence[str], columns: Sequence[Column]) -> str:
    """One fixed-width data line (each cell followed by a space)."""
    return " ".join(fit(cell, col.width, col.field.kind) for cell, col in zip(cells, columns)) + " "


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
) -> Iterator[str]:
    """Yield sacct output lines (without newlines) for ``(row, is_step)`` pairs.

    Args:
        lines: the job and step lines to print, in order.
        columns: the resolved ``-o`` columns.
        ctx: clock and time format.
        parsable: None for fixed width, ``"p"`` for ``-p``, ``"P"`` for ``-P``.
        delimiter: ``--delimiter`` (only with ``parsable``).
        header: False for ``-n``.
    """
    if parsable is None:
        if header:
            yield from header_lines(columns)
        for row, is_step in lines:
            yield table_line(cells_for(row, is_step, columns, ctx), columns)
        return
    trailing = parsable == "p"
    if header:
        yield parsable_line([c.field.name for c in columns], delimiter, trailing)
    for row, is_step in lines:
        yield parsable_line(cells_for(row, is_step, columns, ctx), delimiter, trailing)
