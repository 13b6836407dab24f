"""Small rules the report kinds share: core-hours, job ids, exit codes, signal names, tallies."""

from __future__ import annotations

import signal
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from jobacct.exitcode import derived_exit_code_text, sacct_exit_code_text

#: Slurm's SIG_OOM pseudo value prints as signal 125 (slurm-semantics.md §1.3).
OOM_SIGNAL = 125


def run_seconds(time_start: int | None, time_end: int | None, suspended: int | None) -> int:
    """sacct's Elapsed of an ended job: end - start - suspended, 0 if it never started."""
    if time_start is None or time_end is None:
        return 0
    return max(time_end - time_start - (suspended or 0), 0)


def core_hours(ncpus: int | None, seconds: int) -> float:
    """CPU-seconds as core-hours (sacct's CPUTimeRAW / 3600)."""
    return (ncpus or 0) * seconds / 3600.0


def job_id_text(r: Any) -> str:
    """sacct's JobID of a record (§4.9): ``123_4`` for array tasks, ``123+0`` het components."""
    if r.array_job_id is not None and r.array_task_id is not None:
        return f"{r.array_job_id}_{r.array_task_id}"
    if r.het_job_id is not None and r.het_job_offset is not None:
        return f"{r.het_job_id}+{r.het_job_offset}"
    return str(r.job_id_raw)


def user_text(name: str | None, uid: int) -> str:
    """A job owner as reports name it: the stored user name, else the uid."""
    return name or str(uid)


def exit_text(code: int | None, sig: int | None) -> str:
    """A DerivedExitCode as sacct prints it (the recorded code); NO_VAL is empty (§1.2)."""
    return derived_exit_code_text(code, sig)


def sacct_exit_text(code: int | None, sig: int | None) -> str:
    """An ExitCode as sacct prints it: 128 off a code of 128 or more (§1.2, PRINT_EXITCODE).

    Reports follow sacct here so that a report's ExitCode matches what ``sacct`` shows for the
    same job; DerivedExitCode keeps the recorded code (exit 137 stays ``137:0``).
    """
    return sacct_exit_code_text(code, sig)


def signal_text(number: int) -> str:
    """``9 (SIGKILL)``; 125 is Slurm's out-of-memory pseudo signal (§1.3)."""
    if number == OOM_SIGNAL:
        return f"{number} (OOM)"
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


@dataclass
class Tally:
    """A count and the core-hours of the jobs counted."""

    jobs: int = 0
    hours: float = 0.0

    def add(self, hours: float) -> None:
        """Count one job that used ``hours`` core-hours."""
        self.jobs += 1
        self.hours += hours


def tally(rows: Iterable[tuple[Hashable, float]]) -> dict[Hashable, Tally]:
    """(key, core-hours) pairs -> key -> Tally."""
    out: dict[Hashable, Tally] = {}
    for key, hours in rows:
        out.setdefault(key, Tally()).add(hours)
    return out


def ranked(
    tallies: dict[Any, Tally], *, key: Callable[[Any], Any] = str
) -> list[tuple[Any, Tally]]:
    """Tallies by job count (most first), then core-hours (most first), then key."""
    return sorted(tallies.items(), key=lambda kv: (-kv[1].jobs, -kv[1].hours, key(kv[0])))


def hours2(value: float) -> float:
    """Core-hours rounded to the 2 decimals every format shows."""
    return round(value + 0.0, 2)
