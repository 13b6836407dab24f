"""The report as text: Rich tables on a terminal, the same in plain ASCII for pipes and mail.

Layout: the heading (title and sreport's window text) on the first line, the filters, the
usage unit line of sreport's usage reports, the summary figures, one table per section and
the notes. An empty report is its heading and the reason on one line.

Every value is printed literally (never read as Rich markup), and control characters in
names are shown as ``\\xNN`` (:func:`jobacct.formats.terminal.neutralise`), as in sacct.
"""

from __future__ import annotations

import io
import shutil
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from jobacct.formats.terminal import neutralise
from jobacct.report.cells import cell_text
from jobacct.report.document import Report

#: Width used when the output is not a terminal (files, pipes, mail): wide enough that
#: tables never wrap or truncate (they take only the width their cells need).
PLAIN_WIDTH = 10_000


def render_text(report: Report, out: TextIO, *, terminal: bool = False) -> None:
    """Write ``report`` to ``out``; ``terminal`` allows colour and box-drawing characters."""
    if report.empty is not None:
        out.write(f"{report.heading()}: {report.empty}\n")
        return
    # Rendered into a buffer, then written: Rich turns a closed pipe (`| head`) into
    # SystemExit(1) itself, where jobacct's writers end quietly with status 0.
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=shutil.get_terminal_size().columns if terminal else PLAIN_WIDTH,
        force_terminal=terminal,
        no_color=not terminal,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )
    lines = [report.heading()]
    if report.filters:
        lines.append(f"Filters: {report.filter_text()}")
    unit_line = report.unit_line()
    if unit_line:
        lines.append(unit_line)
    for line in lines:
        console.print(Text(neutralise(line)), soft_wrap=True)
    if report.summary:
        console.print()
        for label, value, kind in report.summary:
            console.print(Text(f"{label}: {cell_text(kind, value)}"), soft_wrap=True)
    for table in report.tables:
        rich_table = RichTable(
            box=box.SIMPLE_HEAD if terminal else box.ASCII2,
            show_edge=not terminal,
        )
        for column in table.columns:
            rich_table.add_column(
                Text(column.name),
                justify="right" if column.numeric else "left",
                no_wrap=column.numeric,
                overflow="fold",
            )
        for row in table.rows:
            rich_table.add_row(
                *(
                    Text(neutralise(cell_text(c.kind, v, report.unit, table.usage_total)))
                    for c, v in zip(table.columns, row)
                )
            )
        console.print()
        title = neutralise(table.title)
        if not table.rows:
            console.print(Text(f"{title}: none"), soft_wrap=True)
            continue
        console.print(Text(title, style="bold" if terminal else ""), soft_wrap=True)
        console.print(rich_table)
    if report.notes:
        console.print()
        for note in report.notes:
            console.print(Text(f"Note: {neutralise(note)}"), soft_wrap=True)
    out.write(buffer.getvalue())
