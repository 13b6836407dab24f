"""Charts as PNG images, drawn by matplotlib's Agg backend (no display, no pyplot state).

matplotlib is imported here only, when an HTML page or a mail is made, so the other commands
and formats do not pay for its import. It is the optional extra ``jobacct[charts]``: without
it, HTML pages and mails carry :data:`NO_CHARTS` where the charts would be.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass

from jobacct.report.document import Chart

#: Pixels per inch of the PNGs; with the figure sizes below, charts are 900 px wide.
DPI = 100
WIDTH_IN = 9.0


@dataclass(frozen=True)
class Picture:
    """A chart drawn: PNG bytes and its size in pixels."""

    key: str
    title: str
    png: bytes
    width: int
    height: int


#: What a report says in place of its charts when matplotlib is not installed.
NO_CHARTS = "Charts omitted: matplotlib is not installed (pip install 'jobacct[charts]')."


def available() -> bool:
    """Whether matplotlib can be imported (the ``charts`` extra is installed)."""
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):  # a finder refusing it, or a broken entry
        return False


def draw(chart: Chart) -> Picture:
    """Draw ``chart`` as stacked bars (vertical, or horizontal for long labels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = max(len(chart.categories), 1)
    height_in = max(2.6, 0.9 + 0.32 * n) if chart.horizontal else 3.6
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(chart.categories)))
    base = [0.0] * len(chart.categories)
    for series in chart.series:
        if chart.horizontal:
            axes.barh(positions, series.values, left=base, label=series.label, height=0.7)
        else:
            axes.bar(positions, series.values, bottom=base, label=series.label, width=0.7)
        base = [b + v for b, v in zip(base, series.values)]
    if chart.horizontal:
        axes.set_yticks(positions, chart.categories)
        axes.invert_yaxis()
        axes.set_xlabel(chart.value_label)
    else:
        axes.set_xticks(positions, chart.categories, rotation=45 if n > 10 else 0)
        axes.set_ylabel(chart.value_label)
    if chart.integer:
        from matplotlib.ticker import MaxNLocator

        (axes.xaxis if chart.horizontal else axes.yaxis).set_major_locator(
            MaxNLocator(integer=True)
        )
    if n < 4 and not chart.horizontal:
        axes.set_xlim(-1, 4)  # a day or two: keep bars a bar's width, not the whole plot
    axes.set_title(chart.title)
    axes.grid(axis="x" if chart.horizontal else "y", alpha=0.3)
    axes.set_axisbelow(True)
    if len(chart.series) > 1:
        axes.legend(fontsize="small", loc="best")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    width, height = (round(float(v)) for v in figure.get_size_inches() * DPI)
    return Picture(chart.key, chart.title, buffer.getvalue(), width, height)
