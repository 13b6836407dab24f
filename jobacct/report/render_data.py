"""The report as data: JSON (one document) and CSV (one block per table).

JSON: ``{"report", "title", "window": {"start", "end", "seconds", "text"}, "filters",
"unit", "summary": {label: value}, "tables": [{"key", "title", "columns", "rows": [{column:
value}]}], "notes", "empty"}``. Times are epoch seconds UTC; numbers stay numbers (core-hours
with 2 decimals, usage in the report's sreport unit).

``-P`` (sreport's ``-P``): the window line (and the unit line) as the text report heads it,
then each block, a summary and each table, as its title, its ``|``-separated header and its
``|``-separated rows (values as the text formats show them), blocks separated by an empty
line; ``-n`` leaves out the heading, the titles and the headers (the rows only, each block
still separated by an empty line).

CSV (RFC 4180, Python's ``csv``): a ``window`` block (start and end as sreport prints them),
a ``summary`` block, then for each table a block: its title alone on a row, the header row,
the rows as the text formats show them; blocks are separated by an empty row. An empty report
is its window block and one ``empty`` row.
"""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from jobacct.report.cells import cell_text, cell_value
from jobacct.report.document import Report, Table
from jobacct.slurmtime import format_date


def report_dict(report: Report) -> dict[str, Any]:
    """The JSON document of ``report`` as plain dicts and lists."""
    return {
        "report": report.kind,
        "title": report.title,
        "window": {
            "start": report.window.start,
            "end": report.window.end,
            "seconds": report.window.seconds,
            "text": report.window.header(),
        },
        "filters": report.filters,
        "unit": report.unit.name if report.unit else None,
        "empty": report.empty,
        "summary": {label: value for label, value, _kind in report.summary},
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "columns": [c.name for c in t.columns],
                "rows": [
                    {
                        c.name: cell_value(c.kind, v, report.unit, t.usage_total)
                        for c, v in zip(t.columns, row)
                    }
                    for row in t.rows
                ],
            }
            for t in report.tables
        ],
        "notes": report.notes,
    }


def render_json(report: Report, out: TextIO) -> None:
    """Write the JSON document, indented, with a final newline."""
    json.dump(report_dict(report), out, indent=2, ensure_ascii=False)
    out.write("\n")


def render_csv(report: Report, out: TextIO) -> None:
    """Write the CSV blocks (module docstring)."""
    writer = csv.writer(out)
    writer.writerow(["window", "start", "end", "seconds"])
    writer.writerow(
        [
            report.title,
            format_date(report.window.start),
            format_date(report.window.end - 1),
            report.window.seconds,
        ]
    )
    for name, values in report.filters.items():
        writer.writerow(["filter", name, ",".join(values)])
    if report.empty is not None:
        writer.writerow(["empty", report.empty])
        return
    if report.unit is not None:
        writer.writerow(["unit", report.unit.name])
    if report.summary:
        writer.writerow([])
        writer.writerow(["summary", "value"])
        for label, value, kind in report.summary:
            writer.writerow([label, cell_text(kind, value)])
    for table in report.tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([c.name for c in table.columns])
        writer.writerows(_text_rows(report, table))


def _text_rows(report: Report, table: Table) -> list[list[str]]:
    """The rows of ``table`` as the text formats show them."""
    return [
        [cell_text(c.kind, v, report.unit, table.usage_total) for c, v in zip(table.columns, row)]
        for row in table.rows
    ]


def render_parsable(report: Report, out: TextIO, *, header: bool = True) -> None:
    """Write the ``-P`` blocks (module docstring); ``header=False`` is ``-n``."""
    if header:
        out.write(report.heading() + "\n")
        if report.unit_line():
            out.write(f"{report.unit_line()}\n")
    if report.empty is not None:
        if header:
            out.write(f"{report.empty}\n")
        return
    blocks: list[tuple[str, list[str], list[list[str]]]] = []
    if report.summary:
        rows = [[label, cell_text(kind, value)] for label, value, kind in report.summary]
        blocks.append(("Summary", ["Figure", "Value"], rows))
    for table in report.tables:
        blocks.append((table.title, [c.name for c in table.columns], _text_rows(report, table)))
    for n, (title, columns, rows) in enumerate(blocks):
        if header or n:
            out.write("\n")
        if header:
            out.write(f"{title}\n{'|'.join(columns)}\n")
        out.writelines("|".join(row) + "\n" for row in rows)
