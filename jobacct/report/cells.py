"""How one value prints: text for tables, a JSON value for data formats.

``count``: integer; ``hours``: 2 decimals; ``percent``: 2 decimals and ``%``; ``usage``:
CPU-seconds shown in the report's sreport unit (:mod:`jobacct.report.units`), percentages
of the table's ``usage_total``.
"""

from __future__ import annotations

from jobacct.report.document import Cell, ColumnKind
from jobacct.report.units import MINUTES, TimeUnit


def cell_text(kind: ColumnKind, value: Cell, unit: TimeUnit | None = None, total: int = 0) -> str:
    """``value`` as the text formats show it."""
    if value is None:
        return ""
    if kind == "hours" and isinstance(value, (int, float)):
        return f"{value:.2f}"
    if kind == "percent" and isinstance(value, (int, float)):
        return f"{value:.2f}%"
    if kind == "usage" and isinstance(value, int):
        return (unit or MINUTES).text(value, total)
    return str(value)


def cell_value(kind: ColumnKind, value: Cell, unit: TimeUnit | None = None, total: int = 0) -> Cell:
    """``value`` for JSON: numbers stay numbers (usage converted to the report's unit)."""
    if kind == "usage" and isinstance(value, int):
        return (unit or MINUTES).value(value, total)
    return value
