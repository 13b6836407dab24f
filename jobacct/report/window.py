"""The report window: sacct's ``-S``/``-E`` syntax, sreport's default day, sreport's header.

Rules:

* ``--start``/``--end`` are read by :func:`jobacct.slurmtime.parse_time`, the syntax of
  ``sacct -S/-E`` (slurm-semantics.md §4.6): ``2026-11-21``, ``now-7days``, ``midnight``...
* Without them the window is sreport's default (§8, releases up to 24.11): yesterday 00:00 to
  today 00:00, local time. Given times are used as they are: sreport rounds them to the hour
  because its rollup tables are hourly, while reports here read the job records themselves.
* The window is half-open, ``[start, end)``: a job that ended at midnight belongs to the next
  day's report only, so consecutive daily reports never count a job twice.
* An end before (or equal to) the start is a usage error (exit status 2).
* The header is sreport's: ``<start> - <end - 1 s> (<end - start> secs)`` (§8).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jobacct.errors import UsageError
from jobacct.slurmtime import TimeSpecError, format_date, parse_time

DAY = 86_400


@dataclass(frozen=True)
class Window:
    """A half-open report window ``[start, end)`` in epoch seconds UTC."""

    start: int
    end: int

    @property
    def seconds(self) -> int:
        """The window's length in seconds."""
        return self.end - self.start

    def header(self) -> str:
        """sreport's window text: ``2026-11-21T00:00:00 - 2026-11-21T23:59:59 (86400 secs)``.

        The end shown is the last second inside the window, as sreport prints it (§8).
        """
        return f"{format_date(self.start)} - {format_date(self.end - 1)} ({self.seconds} secs)"

    def days(self) -> list[int]:
        """Local midnights (epoch) of every calendar day the window touches, in order."""
        first = dt.datetime.fromtimestamp(self.start).date()
        last = dt.datetime.fromtimestamp(self.end - 1).date()
        days: list[int] = []
        day = first
        while day <= last:
            days.append(int(dt.datetime.combine(day, dt.time()).timestamp()))
            day += dt.timedelta(days=1)
        return days


def local_midnight(now: int, days_back: int = 0) -> int:
    """Epoch of local 00:00 ``days_back`` calendar days before the day of ``now``."""
    today = dt.datetime.fromtimestamp(now).date() - dt.timedelta(days=days_back)
    return int(dt.datetime.combine(today, dt.time()).timestamp())


def resolve_window(start: str | None, end: str | None, now: int) -> Window:
    """The window of a report from its ``--start``/``--end`` text (None: not given).

    Defaults (sreport, slurm-semantics.md §8): start yesterday 00:00, end today 00:00, both
    local. A given start without an end ends at today 00:00 if that is later, else now.

    Raises:
        UsageError: a time sacct would refuse (naming it), or an end not after the start.
    """
    try:
        first = parse_time(start, now) if start else local_midnight(now, 1)
        last = parse_time(end, now) if end else None
    except TimeSpecError as exc:
        raise UsageError(str(exc)) from exc
    if last is None:
        midnight = local_midnight(now)
        last = midnight if midnight > first else max(now, first + 1)
    if last <= first:
        raise UsageError(
            f"end time {format_date(last)} is not after start time {format_date(first)}"
        )
    return Window(first, last)
