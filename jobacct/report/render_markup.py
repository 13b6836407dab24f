"""The report as Markdown and as one self-contained HTML page.

Markdown: a level-1 heading (title and window), the filters, unit and summary as a list, each
table as a GitHub pipe table under a level-2 heading, notes in italics. ``|``, backslashes,
HTML (``<``, ``>``, ``&``), control characters and bidi overrides in values are escaped.
Charts are not drawn in Markdown.

HTML: one file with everything inline (CSS in a ``<style>`` element, charts as ``<img>`` whose
``src`` the caller chooses: a ``data:image/png;base64`` URI for a file, a ``cid:`` reference
for mail). The charts come right after the summary; every value is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TextIO

from jobacct.report.cells import cell_text
from jobacct.report.document import Report
from jobacct.textsafe import escape


def _md(text: str) -> str:
    # A Markdown file is read rendered, where HTML passes through (<script>): HTML-escape;
    # control characters and bidi overrides are written visibly (jobacct.textsafe).
    text = escape(html.escape(text.replace("\n", " "), quote=False))
    return text.replace("\\", "\\\\").replace("|", "\\|")


def render_markdown(report: Report, out: TextIO) -> None:
    """Write ``report`` as Markdown."""
    out.write(f"# {_md(report.heading())}\n\n")
    if report.empty is not None:
        out.write(f"{_md(report.empty[:1].upper() + report.empty[1:])}.\n")
        return
    items = []
    if report.filters:
        items.append(f"Filters: {report.filter_text()}")
    if report.unit_line():
        items.append(str(report.unit_line()))
    items += [f"{label}: **{cell_text(kind, value)}**" for label, value, kind in report.summary]
    out.writelines(f"- {_md(item)}\n" for item in items)
    for table in report.tables:
        out.write(f"\n## {_md(table.title)}\n\n")
        if not table.rows:
            out.write("None.\n")
            continue
        out.write("| " + " | ".join(_md(c.name) for c in table.columns) + " |\n")
        out.write("|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|\n")
        for row in table.rows:
            cells = (
                _md(cell_text(c.kind, v, report.unit, table.usage_total))
                for c, v in zip(table.columns, row)
            )
            out.write("| " + " | ".join(cells) + " |\n")
    if report.notes:
        out.write("\n")
        out.writelines(f"*{_md(note)}*\n\n" for note in report.notes)


_STYLE = """
body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 24px; color: #222;
       background: #fff; max-width: 1100px; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
h2 { font-size: 16px; margin: 22px 0 6px 0; }
p.meta { color: #555; margin: 2px 0; }
ul.summary { padding-left: 18px; }
figure.chart { margin: 12px 0; }
figure.chart img { display: block; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { color: #555; font-size: 12px; font-style: italic; }
"""


def render_html(
    report: Report,
    out: TextIO,
    images: Mapping[str, str],
    sizes: Mapping[str, tuple[int, int]] | None = None,
    *,
    note: str | None = None,
) -> None:
    """Write the HTML page; ``images`` maps a chart key to its ``src`` (data: or cid:).

    ``sizes`` gives each chart's pixel (width, height) for the ``<img>`` attributes;
    ``note`` is written where the charts are (charts.NO_CHARTS when they cannot be drawn).
    """
    e = html.escape
    out.write(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(report.heading())}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
    )
    out.write(f"<h1>{e(report.title)}</h1>\n")
    out.write(f'<p class="meta window">{e(report.window.header())}</p>\n')
    if report.filters:
        out.write(f'<p class="meta">Filters: {e(report.filter_text())}</p>\n')
    if report.unit_line():
        out.write(f'<p class="meta">{e(str(report.unit_line()))}</p>\n')
    if report.empty is not None:
        out.write(f'<p class="empty">{e(report.empty[:1].upper() + report.empty[1:])}.</p>\n')
        out.write("</body>\n</html>\n")
        return
    if report.summary:
        out.write('<ul class="summary">\n')
        for label, value, kind in report.summary:
            out.write(f"<li>{e(label)}: <b>{e(cell_text(kind, value))}</b></li>\n")
        out.write("</ul>\n")
    if note:
        out.write(f'<p class="note">{e(note)}</p>\n')
    for chart in report.charts:
        if chart.key not in images:
            continue
        width, height = (sizes or {}).get(chart.key, (0, 0))
        dims = f' width="{width}" height="{height}"' if width else ""
        out.write(
            f'<figure class="chart" id="chart-{e(chart.key)}">'
            f'<img src="{e(images[chart.key])}" alt="{e(chart.title)}"{dims}></figure>\n'
        )
    for table in report.tables:
        out.write(f'<h2 id="{e(table.key)}">{e(table.title)}</h2>\n')
        if not table.rows:
            out.write("<p>None.</p>\n")
            continue
        out.write("<table>\n<tr>")
        out.write("".join(f"<th>{e(c.name)}</th>" for c in table.columns))
        out.write("</tr>\n")
        for row in table.rows:
            out.write("<tr>")
            for c, v in zip(table.columns, row):
                text = e(cell_text(c.kind, v, report.unit, table.usage_total))
                out.write(f'<td class="num">{text}</td>' if c.numeric else f"<td>{text}</td>")
            out.write("</tr>\n")
        out.write("</table>\n")
    for note in report.notes:
        out.write(f'<p class="note">{e(note)}</p>\n')
    out.write("</body>\n</html>\n")
