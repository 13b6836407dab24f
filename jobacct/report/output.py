"""Choosing the output format of a report and writing it.

Formats: ``text`` (Rich tables; colour and box characters only on a terminal), ``csv``,
``json``, ``markdown`` and ``html`` (one self-contained page, charts embedded as
``data:image/png;base64`` URIs). Only ``html`` (and mail) draws charts, so only they import
matplotlib.
"""

from __future__ import annotations

import base64
import io
from typing import TextIO

from jobacct.errors import UsageError
from jobacct.report.charts import NO_CHARTS, Picture, available, draw
from jobacct.report.document import Report
from jobacct.report.render_data import render_csv, render_json, render_parsable
from jobacct.report.render_markup import render_html, render_markdown
from jobacct.report.render_text import render_text
from jobacct.textsafe import escape

FORMATS = ("text", "csv", "json", "markdown", "html")


def parse_format(text: str | None) -> str:
    """The ``--format`` value, case-insensitive (None: ``text``).

    Raises:
        UsageError: for any other name.
    """
    value = (text or "text").strip().lower()
    if value not in FORMATS:
        raise UsageError(f"unknown report format '{text}' (one of {', '.join(FORMATS)})")
    return value


def draw_charts(report: Report) -> list[Picture]:
    """Every chart of ``report`` as a PNG (none for an empty report, or without matplotlib)."""
    if report.empty is not None or not available():
        return []
    return [draw(chart) for chart in report.charts]


def html_page(report: Report, pictures: list[Picture], *, cid_suffix: str | None = None) -> str:
    """The HTML page; charts are ``data:`` URIs, or ``cid:<key><suffix>`` for mail."""
    if cid_suffix is None:
        images = {
            p.key: "data:image/png;base64," + base64.b64encode(p.png).decode("ascii")
            for p in pictures
        }
    else:
        images = {p.key: f"cid:{p.key}{cid_suffix}" for p in pictures}
    sizes = {p.key: (p.width, p.height) for p in pictures}
    buffer = io.StringIO()
    note = NO_CHARTS if report.charts and not pictures and not available() else None
    render_html(report, buffer, images, sizes, note=note)
    return buffer.getvalue()


def plain_text(report: Report) -> str:
    """The report as plain ASCII text (pipes and the mail's text part)."""
    buffer = io.StringIO()
    render_text(report, buffer, terminal=False)
    return buffer.getvalue()


def write_report(
    report: Report, fmt: str, out: TextIO, *, terminal: bool = False, header: bool = True
) -> None:
    """Write ``report`` to ``out`` in format ``fmt`` (one of :data:`FORMATS`, or ``P``: -P).

    ``header``: False for ``-n`` (``P`` only).
    ``terminal``: ``out`` is a terminal, so CSV values have control characters and bidi
    overrides escaped (:mod:`jobacct.textsafe`; Markdown always has them escaped).
    """
    if fmt == "text":
        render_text(report, out, terminal=terminal)
    elif fmt == "P":
        if terminal:
            buffer = io.StringIO()
            render_parsable(report, buffer, header=header)
            out.write("\n".join(escape(line) for line in buffer.getvalue().split("\n")))
        else:
            render_parsable(report, out, header=header)
    elif fmt == "csv" and terminal:
        # Records stay records (CRLF ends); what is inside them cannot act on the terminal.
        buffer = io.StringIO()
        render_csv(report, buffer)
        out.write("\r\n".join(escape(r) for r in buffer.getvalue().split("\r\n")))
    elif fmt == "csv":
        render_csv(report, out)
    elif fmt == "json":
        render_json(report, out)
    elif fmt == "markdown":
        render_markdown(report, out)
    else:
        out.write(html_page(report, draw_charts(report)))
