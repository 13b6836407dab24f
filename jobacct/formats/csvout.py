"""``--csv``: the ``-o`` columns as RFC 4180 CSV.

* The header row is the field names, as ``-P`` prints them; ``-n`` leaves it out.
* Values are the ``-P`` cells (whole, never cut or padded).
* Python's :mod:`csv` with ``QUOTE_MINIMAL``: a value is quoted only when it holds a comma, a
  double quote (doubled inside), CR or LF, so ``|``, quotes and newlines in job names and
  comments survive a round trip through any RFC 4180 reader.
* Records end with CRLF (``\\r\\n``), as RFC 4180 §2 says; a newline *inside* a quoted value is
  kept as stored (normally a bare LF). ``csv.reader``, pandas, spreadsheets and ``mlr`` all
  accept this.
* The delimiter is always a comma (``--delimiter`` belongs to ``-p``/``-P``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from jobacct.fields import Column, Ctx
from jobacct.render import cells_for

LINE_END = "\r\n"


def csv_lines(
    lines: Iterable[tuple[Any, bool]],
    columns: Sequence[Column],
    ctx: Ctx,
    *,
    header: bool = True,
    clean: Callable[[str], str] | None = None,
) -> Iterator[str]:
    """Yield one CSV record (with its CRLF) per job or step line, after an optional header.

    ``clean`` rewrites each value first (control characters on a terminal).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator=LINE_END)

    def record(values: Sequence[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    if header:
        yield record([c.field.name for c in columns])
    for row, is_step in lines:
        cells = cells_for(row, is_step, columns, ctx)
        if clean is not None:
            cells = [clean(cell) for cell in cells]
        yield record(cells)
