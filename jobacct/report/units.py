"""sreport's ``-t`` time units and how usage values print in each (slurm-semantics.md §8).

Names are matched case-insensitively as prefixes, in sreport's order: ``SecPer``, ``MinPer``,
``HourPer`` need at least 6 characters, then ``Seconds``, ``Minutes``, ``Hours``, ``Percent``
take any prefix (``m``, ``hour``, ``p``). Formats (``sreport_get_time_str``): seconds as an
integer, minutes and hours rounded to an integer (``%.0lf``), percent with 2 decimals of the
report total (``%.2lf%%``), the ``*Per`` units as ``N(P.PP%)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobacct.errors import UsageError


@dataclass(frozen=True)
class TimeUnit:
    """One sreport time unit. ``seconds`` is the unit's size (0: percent only)."""

    name: str
    seconds: int
    with_percent: bool
    min_prefix: int

    def header(self) -> str:
        """sreport's second header line, e.g. ``Usage reported in CPU Minutes``."""
        if self.seconds == 0:
            return "Usage reported in Percentage of Total"
        suffix = "/Percentage of Total" if self.with_percent else ""
        return f"Usage reported in CPU {self.plural()}{suffix}"

    def plural(self) -> str:
        """``Seconds``, ``Minutes`` or ``Hours``."""
        return {1: "Seconds", 60: "Minutes", 3600: "Hours"}[self.seconds]

    def value(self, cpu_seconds: int, total: int) -> int | float | str:
        """A usage value for JSON: a number in this unit, or sreport's text for ``*Per``."""
        if self.with_percent:
            return self.text(cpu_seconds, total)
        if self.seconds == 0:
            return round(percent(cpu_seconds, total), 2)
        if self.seconds == 1:
            return cpu_seconds
        return int(float(f"{cpu_seconds / self.seconds:.0f}"))

    def text(self, cpu_seconds: int, total: int) -> str:
        """A usage value as sreport prints it (``sreport_get_time_str``)."""
        share = f"{percent(cpu_seconds, total):.2f}%"
        if self.seconds == 0:
            return share
        amount = str(cpu_seconds) if self.seconds == 1 else f"{cpu_seconds / self.seconds:.0f}"
        return f"{amount}({share})" if self.with_percent else amount


def percent(part: int, total: int) -> float:
    """``part`` as a percentage of ``total`` (0 when the total is 0)."""
    return 100.0 * part / total if total else 0.0


#: In sreport's matching order.
UNITS: tuple[TimeUnit, ...] = (
    TimeUnit("SecPer", 1, True, 6),
    TimeUnit("MinPer", 60, True, 6),
    TimeUnit("HourPer", 3600, True, 6),
    TimeUnit("Seconds", 1, False, 1),
    TimeUnit("Minutes", 60, False, 1),
    TimeUnit("Hours", 3600, False, 1),
    TimeUnit("Percent", 0, False, 1),
)
MINUTES = UNITS[4]


def parse_unit(text: str | None) -> TimeUnit:
    """The unit named by ``-t`` (None: sreport's default, Minutes).

    Raises:
        UsageError: for a name that is no unit's prefix.
    """
    if text is None:
        return MINUTES
    lowered = text.strip().lower()
    for unit in UNITS:
        if len(lowered) >= unit.min_prefix and unit.name.lower().startswith(lowered):
            return unit
    names = ", ".join(u.name for u in UNITS)
    raise UsageError(f"unknown time format '{text}' (one of {names})")
