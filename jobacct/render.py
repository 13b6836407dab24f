"""Writing sacct lines: fixed-width tables and ``-p``/``-P`` parsable output (§4.3).

These writers produce plain text for scripts and pipes, byte for byte as sacct(1) does; no Rich
here. On a terminal, ``jobacct.formats.terminal`` hooks in through ``clean`` (escaping control
characters) and ``paint`` (colour).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from jobacct.fields import Column, Ctx, Kind, _blank

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import Any

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


def _fit_bytes(value: str, width: int, cut: bool) -> str:
    """Fit a non-ASCII cell by UTF-8 bytes, as print_fields_str's strlen/memcpy/%*.*s do.

    A cut may split a character: its leading bytes stay, as surrogate escapes that write out
    as those bytes (real 22.05.8 prints such bytes, tests/test_oracle.py).
    """
    size = abs(width)
    raw = value.encode("utf-8", "surrogateescape")
    if len(raw) > size:
        raw = raw[: size - 1] + b"+" if cut and size > 0 else raw[:size]
    fill = b" " * (size - len(raw))
    raw = raw + fill if width < 0 else fill + raw
    return raw.decode("utf-8", "surrogateescape")


def fit(value: str, width: int, kind: Kind) -> str:
    """Fit one cell to ``width`` (negative = left-aligned) as print_fields.c does."""
    size = abs(width)
    if not value.isascii() and kind is not Kind.DATE:
        return _fit_bytes(value, width, kind is Kind.STR)
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


def fitter(width: int, kind: Kind) -> Callable[[str], str]:
    """:func:`fit` for one column, specialised once: what a table cell costs is per line."""
    size = abs(width)
    pad = str.ljust if width < 0 else str.rjust
    if kind is Kind.STR:
        cut = size - 1

        def fit_str(value: str) -> str:
            if not value.isascii():
                return _fit_bytes(value, width, True)
            if len(value) > size:
                value = value[:cut] + "+" if size > 0 else ""
            return pad(value, size)

        return fit_str
    if kind is Kind.DATE:
        hashes = "#" * size

        def fit_date(value: str) -> str:
            return pad(hashes if len(value) > size else value, size)

        return fit_date
    return lambda value: pad(value, size) if value.isascii() else _fit_bytes(value, width, False)


def line_writer(
    columns: Sequence[Column],
    ctx: Ctx,
    *,
    parsable: str | None = None,
    delimiter: str = "|",
) -> Callable[[Any, bool], str]:
    """A function ``(row, is_step) -> line`` (without newline) for plain text output.

    Built once per run: the getters (and, for fixed width, the fitters) are bound into one
    generated function per line kind, so a line costs its getter calls and one join, not a
    loop over the columns (at a million lines the loop was most of the time). The result is
    byte for byte what :func:`cells_for` plus :func:`table_line` / :func:`parsable_line`
    give (tests/test_fastpath.py).
    """
    scope: dict[str, Any] = {"c": ctx}
    job_terms = []
    step_terms = []
    for i, column in enumerate(columns):
        scope[f"j{i}"] = column.field.job
        scope[f"s{i}"] = column.field.step
        fit_one = fitter(column.width, column.field.kind)
        # A blank cell (a job-only field on a step line) is a constant: no call per line.
        blank = repr(fit_one("") if parsable is None else "")
        if parsable is None:
            scope[f"f{i}"] = fit_one
            job_terms.append(blank if column.field.job is _blank else f"f{i}(j{i}(r, c))")
            step_terms.append(blank if column.field.step is _blank else f"f{i}(s{i}(r, c))")
        else:
            job_terms.append(blank if column.field.job is _blank else f"j{i}(r, c)")
            step_terms.append(blank if column.field.step is _blank else f"s{i}(r, c)")
    if parsable is None:
        scope["join"], tail = " ".join, " "
    else:
        scope["join"], tail = delimiter.join, delimiter if parsable == "p" else ""
    scope["tail"] = tail
    end = " + tail" if tail else ""
    source = (
        "def job_line(r):\n"
        f"    return join(({', '.join(job_terms)},)){end}\n"
        "def step_line(r):\n"
        f"    return join(({', '.join(step_terms)},)){end}\n"
    )
    if not columns:
        source = "def job_line(r):\n    return tail\ndef step_line(r):\n    return tail\n"
    exec(source, scope)  # the source is built above from column indexes only
    job_line, step_line = scope["job_line"], scope["step_line"]

    def line(row: Any, is_step: bool) -> str:
        return step_line(row) if is_step else job_line(row)  # type: ignore[no-any-return]

    line.job_line = job_line  # type: ignore[attr-defined]
    line.step_line = step_line  # type: ignore[attr-defined]
    return line


def text_chunks(
    lines: Iterable[tuple[Any, bool]],
    columns: Sequence[Column],
    ctx: Ctx,
    *,
    parsable: str | None = None,
    delimiter: str = "|",
    header: bool = True,
    size: int = 1000,
) -> Iterator[str]:
    """:func:`render_lines` for plain output (no clean, no paint), as chunks of ``size``
    lines with their newlines: what stdout is written with, one write per chunk."""
    write = line_writer(columns, ctx, parsable=parsable, delimiter=delimiter)
    job_line = write.job_line  # type: ignore[attr-defined]
    step_line = write.step_line  # type: ignore[attr-defined]
    batch: list[str] = []
    if header:
        if parsable is None:
            batch.extend(header_lines(columns))
        else:
            names = [c.field.name for c in columns]
            batch.append(parsable_line(names, delimiter, parsable == "p"))
    append = batch.append
    for row, is_step in lines:
        append(step_line(row) if is_step else job_line(row))
        if len(batch) >= size:
            yield "\n".join(batch) + "\n"
            batch.clear()
    if batch:
        yield "\n".join(batch) + "\n"


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
    if clean is None and paint is None:
        # Plain text (pipes, files): the generated line functions.
        write = line_writer(columns, ctx, parsable=parsable, delimiter=delimiter)
        job_line = write.job_line  # type: ignore[attr-defined]
        step_line = write.step_line  # type: ignore[attr-defined]
        if header:
            if parsable is None:
                yield from header_lines(columns)
            else:
                names = [c.field.name for c in columns]
                yield parsable_line(names, delimiter, parsable == "p")
        for row, is_step in lines:
            yield step_line(row) if is_step else job_line(row)
        return
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
