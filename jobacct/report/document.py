"""What a report is, independent of how it is printed: a header, summary figures, tables, charts.

Every kind of report (failures, cancellations, utilization, ...) builds one :class:`Report`;
every output format (text, CSV, JSON, Markdown, HTML, mail) renders one. Cell values stay
numbers until rendering (:mod:`jobacct.report.cells`), so JSON gets numbers and text gets
sreport's formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from jobacct.report.units import TimeUnit
from jobacct.report.window import Window

#: How a column's values are stored and shown:
#: ``text`` (str), ``count`` (int), ``hours`` (float core-hours, 2 decimals),
#: ``percent`` (float, 2 decimals), ``usage`` (int CPU-seconds, shown in the report's unit).
ColumnKind = Literal["text", "count", "hours", "percent", "usage"]
Cell = str | int | float | None


@dataclass(frozen=True)
class Column:
    """One column: its header and the kind of its values."""

    name: str
    kind: ColumnKind = "text"

    @property
    def numeric(self) -> bool:
        """True for right-aligned number columns."""
        return self.kind != "text"


@dataclass
class Table:
    """A titled table. ``usage_total`` (CPU-seconds) is the base of its Percent values."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    usage_total: int = 0


@dataclass
class Series:
    """One coloured series of a chart: a label and one value per category."""

    label: str
    values: list[float]


@dataclass
class Chart:
    """A bar chart: ``categories`` along one axis, ``series`` stacked on each bar.

    ``horizontal`` puts categories on the y axis (long labels such as user names);
    ``integer`` keeps the value axis on whole numbers (job counts).
    """

    key: str
    title: str
    categories: list[str]
    series: list[Series]
    value_label: str
    horizontal: bool = False
    integer: bool = False


@dataclass
class Report:
    """A whole report.

    Attributes:
        kind: the command (``failures``, ``cancellations``, ``utilization``, ``top-users``,
            ``account-by-user``).
        title: the heading, e.g. ``Job Failures`` or sreport's ``Cluster Utilization``.
        window: the half-open window the report covers.
        filters: the scope as given, option name -> values (only options that were given).
        summary: (label, value, kind) figures printed above the tables.
        tables: the tables in print order.
        charts: the pictures (HTML and mail only).
        notes: sentences on what is computed and what cannot be.
        unit: the sreport time unit of ``usage`` columns (usage reports only).
        empty: the one line printed instead of everything when nothing matched.
    """

    kind: str
    title: str
    window: Window
    filters: dict[str, list[str]]
    summary: list[tuple[str, Cell, ColumnKind]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unit: TimeUnit | None = None
    empty: str | None = None

    def heading(self) -> str:
        """The first line of every format: title and sreport's window text."""
        return f"{self.title} {self.window.header()}"

    def filter_text(self) -> str:
        """The scope in one line, e.g. ``cluster=tux account=chem,ml``; empty when unscoped."""
        return " ".join(f"{name}={','.join(values)}" for name, values in self.filters.items())

    def unit_line(self) -> str | None:
        """sreport's ``Usage reported in CPU Minutes`` line, for usage reports."""
        return None if self.unit is None else self.unit.header()
