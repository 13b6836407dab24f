"""sacct's field table: names, default widths, renderers, and how each cell is computed.

The table order and names are Slurm 22.05's ``fields[]`` (as ``sacct -e`` prints it, golden
``sacct/14_e.txt``), because ``-o`` resolves a prefix to the *first* field in table order
(slurm-semantics.md §4.2). Widths and renderers are §4.1; value formats §4.4.

A cell getter takes the query row and a :class:`Ctx`. Job lines and step lines have separate
getters; a step getter sees the step's columns (prefixed ``s_``) and its job's columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from enum import Enum
from typing import Any

from jobacct.jobid import format_job_id, format_step_suffix
from jobacct.slurmtime import format_cpu_time, format_date, format_elapsed, format_timelimit
from jobacct.units import format_size

INFINITE = 0xFFFFFFFF
NO_VAL = 0xFFFFFFFE


class Kind(Enum):
    """How a cell is fitted to its width in fixed-width output (§4.3)."""

    STR = "str"  # cut to width-1 characters plus '+'
    NUM = "num"  # never cut: overflows the column
    DATE = "date"  # '#' * width when it does not fit
    SECS = "secs"  # padded, never cut


@dataclass(frozen=True)
class Ctx:
    """What rendering needs besides the row: the clock (epoch UTC), time format and zone."""

    now: int
    time_format: str | None = None
    tz: tzinfo | None = None

    def date(self, epoch: int | None) -> str:
        """A date cell (Submit, Start, End, Eligible)."""
        return format_date(epoch, self.time_format, now=self.now, tz=self.tz)


Getter = Callable[[Any, Ctx], str]


def _blank(_row: Any, _ctx: Ctx) -> str:
    return ""


@dataclass(frozen=True)
class Field:
    """One sacct field: its name, default width (negative = left-aligned) and cell getters."""

    name: str
    width: int
    kind: Kind = Kind.STR
    job: Getter | None = None
    step: Getter = field(default=_blank)

    @property
    def supported(self) -> bool:
        """False for fields whose data jobacct does not store (yet)."""
        return self.job is not None


# ---------------------------------------------------------------- cell helpers


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _exit(code: int | None, signal: int | None) -> str:
    # A NULL exit code is Slurm's NO_VAL, which sacct prints as an empty ExitCode (§1.2).
    if code is None and signal is None:
        return ""
    return f"{code or 0}:{signal or 0}"


def _state(state: str, kill_requid: int | None) -> str:
    # print.c PRINT_STATE: "CANCELLED by <uid>" when someone's kill request is recorded (§5.3).
    if state == "CANCELLED" and kill_requid is not None:
        return f"CANCELLED by {kill_requid}"
    return state


def _elapsed(start: int | None, end: int | None, suspended: int, now: int) -> int:
    if start is None:
        return 0
    stop = now if end is None else end
    return max(stop - start - (suspended or 0), 0)


def _job_elapsed(r: Any, ctx: Ctx) -> int:
    return _elapsed(r.time_start, r.time_end, r.time_suspended, ctx.now)


def _step_elapsed(r: Any, ctx: Ctx) -> int:
    return _elapsed(r.s_time_start, r.s_time_end, r.s_time_suspended, ctx.now)


def _job_start(r: Any, ctx: Ctx) -> str:
    # A job that ended without starting (cancelled while pending) prints "None" (§4.3:
    # slurmdbd reports its start as NO_VAL); one still pending prints "Unknown".
    if r.time_start is None and r.time_end is not None:
        return "None"
    return ctx.date(r.time_start)


def _cpu(total: int | None, user: int | None, system: int | None) -> str:
    return format_cpu_time(total if total is not None else (user or 0) + (system or 0))


def _timelimit_raw(minutes: int | None) -> str:
    if minutes is None:
        return ""
    if minutes in (INFINITE, NO_VAL):
        return format_timelimit(minutes)
    return str(minutes)


def _job_id(r: Any, _ctx: Ctx) -> str:
    return format_job_id(
        r.job_id_raw,
        r.array_job_id,
        r.array_task_id,
        r.het_job_id,
        r.het_job_offset,
        r.array_task_str,
    )


def _step_job_id(r: Any, ctx: Ctx) -> str:
    return _job_id(r, ctx) + format_step_suffix(r.s_step_id, r.s_step_het_component)


def _nodelist(value: str | None, started: bool) -> str:
    if value:
        return value
    return "None assigned" if not started else ""


# ---------------------------------------------------------------- the table

_J = "job"
_FIELDS: list[Field] = [
    Field("Account", 10, job=lambda r, c: _text(r.account), step=lambda r, c: _text(r.account)),
    Field("AdminComment", 15, job=lambda r, c: _text(r.admin_comment)),
    Field(
        "AllocCPUS", 10, Kind.NUM, job=lambda r, c: str(r.ncpus), step=lambda r, c: str(r.s_ncpus)
    ),
    Field(
        "AllocNodes",
        10,
        job=lambda r, c: format_size(r.nnodes),
        step=lambda r, c: format_size(r.s_nnodes),
    ),
    Field(
        "AllocTRES",
        10,
        job=lambda r, c: _text(r.alloc_tres),
        step=lambda r, c: _text(r.s_alloc_tres),
    ),
    Field("AssocID", 7, Kind.NUM),
    Field("AveCPU", 10),
    Field("AveCPUFreq", 10),
    Field("AveDiskRead", 14),
    Field("AveDiskWrite", 14),
    Field("AvePages", 10),
    Field("AveRSS", 10),
    Field("AveVMSize", 10),
    Field("BlockID", 16),
    Field("Cluster", 10, job=lambda r, c: r.cluster, step=lambda r, c: r.cluster),
    Field("Comment", 14, job=lambda r, c: _text(r.comment)),
    Field("Constraints", 19, job=lambda r, c: _text(r.constraints)),
    Field("ConsumedEnergy", 14),
    Field("ConsumedEnergyRaw", 17, Kind.NUM),
    Field("Container", 19),
    Field(
        "CPUTime",
        10,
        Kind.SECS,
        job=lambda r, c: format_elapsed(_job_elapsed(r, c) * r.ncpus),
        step=lambda r, c: format_elapsed(_step_elapsed(r, c) * r.s_ncpus),
    ),
    Field(
        "CPUTimeRAW",
        10,
        Kind.NUM,
        job=lambda r, c: str(_job_elapsed(r, c) * r.ncpus),
        step=lambda r, c: str(_step_elapsed(r, c) * r.s_ncpus),
    ),
    Field("DBIndex", -21, Kind.NUM),
    Field(
        "DerivedExitCode", 15, job=lambda r, c: _exit(r.derived_exit_code, r.derived_exit_signal)
    ),
    Field(
        "Elapsed",
        10,
        Kind.SECS,
        job=lambda r, c: format_elapsed(_job_elapsed(r, c)),
        step=lambda r, c: format_elapsed(_step_elapsed(r, c)),
    ),
    Field(
        "ElapsedRaw",
        10,
        Kind.NUM,
        job=lambda r, c: str(_job_elapsed(r, c)),
        step=lambda r, c: str(_step_elapsed(r, c)),
    ),
    # A step row's Eligible and Submit are the step's start (§4.1).
    Field(
        "Eligible",
        19,
        Kind.DATE,
        job=lambda r, c: c.date(r.time_eligible),
        step=lambda r, c: c.date(r.s_time_start),
    ),
    Field(
        "End",
        19,
        Kind.DATE,
        job=lambda r, c: c.date(r.time_end),
        step=lambda r, c: c.date(r.s_time_end),
    ),
    Field(
        "ExitCode",
        8,
        job=lambda r, c: _exit(r.exit_code, r.exit_signal),
        step=lambda r, c: _exit(r.s_exit_code, r.s_exit_signal),
    ),
    Field("Flags", 19, job=lambda r, c: _text(r.flags)),
    Field("GID", 6, Kind.NUM, job=lambda r, c: _text(r.gid)),
    Field("Group", 9, job=lambda r, c: _text(r.group_name)),
    Field("JobID", -12, job=_job_id, step=_step_job_id),
    Field(
        "JobIDRaw",
        -12,
        job=lambda r, c: str(r.job_id_raw),
        step=lambda r, c: (
            str(r.job_id_raw) + format_step_suffix(r.s_step_id, r.s_step_het_component)
        ),
    ),
    Field("JobName", 10, job=lambda r, c: r.job_name, step=lambda r, c: r.s_step_name),
    Field("Layout", 9),
    Field("MaxDiskRead", 12),
    Field("MaxDiskReadNode", 15),
    Field("MaxDiskReadTask", 15, Kind.NUM),
    Field("MaxDiskWrite", 12),
    Field("MaxDiskWriteNode", 16),
    Field("MaxDiskWriteTask", 16, Kind.NUM),
    Field("MaxPages", 8),
    Field("MaxPagesNode", 12),
    Field("MaxPagesTask", 14, Kind.NUM),
    Field(
        "MaxRSS",
        10,
        job=_blank,
        step=lambda r, c: "" if r.s_max_rss is None else format_size(r.s_max_rss),
    ),
    Field("MaxRSSNode", 10),
    Field("MaxRSSTask", 10, Kind.NUM),
    Field("MaxVMSize", 10),
    Field("MaxVMSizeNode", 14),
    Field("MaxVMSizeTask", 14, Kind.NUM),
    Field("McsLabel", 12),
    Field("MinCPU", 10),
    Field("MinCPUNode", 10),
    Field("MinCPUTask", 10, Kind.NUM),
    Field("NCPUS", 10, Kind.NUM, job=lambda r, c: str(r.ncpus), step=lambda r, c: str(r.s_ncpus)),
    Field("NNodes", 8, Kind.NUM, job=lambda r, c: str(r.nnodes), step=lambda r, c: str(r.s_nnodes)),
    Field(
        "NodeList",
        15,
        job=lambda r, c: _nodelist(r.nodelist, r.time_start is not None),
        step=lambda r, c: _text(r.s_nodelist),
    ),
    Field("NTasks", 8, Kind.NUM, job=_blank, step=lambda r, c: str(r.s_ntasks)),
    Field("Partition", 10, job=lambda r, c: _text(r.partition)),
    Field("Priority", 10, Kind.NUM, job=lambda r, c: _text(r.priority)),
    Field("QOS", 10, job=lambda r, c: _text(r.qos)),
    Field("QOSRAW", 6, Kind.NUM),
    Field("Reason", 22, job=lambda r, c: _text(r.reason)),
    Field("ReqCPUFreq", 10),
    Field("ReqCPUFreqGov", 13),
    Field("ReqCPUFreqMax", 13),
    Field("ReqCPUFreqMin", 13),
    Field("ReqCPUS", 8, Kind.NUM, job=lambda r, c: _text(r.req_cpus)),
    Field("ReqMem", 10, job=lambda r, c: "" if r.req_mem is None else format_size(r.req_mem, "M")),
    Field("ReqNodes", 8),
    Field("ReqTRES", 10, job=lambda r, c: _text(r.req_tres)),
    Field("Reservation", 20, job=lambda r, c: _text(r.reservation)),
    Field("ReservationId", 8, Kind.NUM),
    Field("Reserved", 10, Kind.SECS),
    Field("ResvCPU", 10, Kind.SECS),
    Field("ResvCPURAW", 10, Kind.NUM),
    Field("Start", 19, Kind.DATE, job=_job_start, step=lambda r, c: c.date(r.s_time_start)),
    Field(
        "State",
        10,
        job=lambda r, c: _state(r.state, r.kill_requid),
        step=lambda r, c: _state(r.s_state, r.s_kill_requid),
    ),
    Field(
        "Submit",
        19,
        Kind.DATE,
        job=lambda r, c: c.date(r.time_submit),
        step=lambda r, c: c.date(r.s_time_start),
    ),
    Field("SubmitLine", 20, job=lambda r, c: _text(r.submit_line)),
    Field(
        "Suspended",
        10,
        Kind.SECS,
        job=lambda r, c: format_elapsed(r.time_suspended or 0),
        step=lambda r, c: format_elapsed(r.s_time_suspended or 0),
    ),
    Field("SystemComment", 15, job=lambda r, c: _text(r.system_comment)),
    Field(
        "SystemCPU",
        10,
        job=lambda r, c: format_cpu_time(r.system_cpu_usec or 0),
        step=lambda r, c: format_cpu_time(r.s_system_cpu_usec or 0),
    ),
    Field("Timelimit", 10, job=lambda r, c: format_timelimit(r.timelimit)),
    Field("TimelimitRaw", 10, job=lambda r, c: _timelimit_raw(r.timelimit)),
    Field(
        "TotalCPU",
        10,
        job=lambda r, c: _cpu(r.total_cpu_usec, r.user_cpu_usec, r.system_cpu_usec),
        step=lambda r, c: _cpu(r.s_total_cpu_usec, r.s_user_cpu_usec, r.s_system_cpu_usec),
    ),
    Field("TRESUsageInAve", 14),
    Field("TRESUsageInMax", 14),
    Field("TRESUsageInMaxNode", 18),
    Field("TRESUsageInMaxTask", 18),
    Field("TRESUsageInMin", 14),
    Field("TRESUsageInMinNode", 18),
    Field("TRESUsageInMinTask", 18),
    Field("TRESUsageInTot", 14),
    Field("TRESUsageOutAve", 15),
    Field("TRESUsageOutMax", 15),
    Field("TRESUsageOutMaxNode", 19),
    Field("TRESUsageOutMaxTask", 19),
    Field("TRESUsageOutMin", 15),
    Field("TRESUsageOutMinNode", 19),
    Field("TRESUsageOutMinTask", 19),
    Field("TRESUsageOutTot", 15),
    Field("UID", 6, Kind.NUM, job=lambda r, c: str(r.uid)),
    Field("User", 9, job=lambda r, c: _text(r.user_name)),
    Field(
        "UserCPU",
        10,
        job=lambda r, c: format_cpu_time(r.user_cpu_usec or 0),
        step=lambda r, c: format_cpu_time(r.s_user_cpu_usec or 0),
    ),
    Field("WCKey", 10, job=lambda r, c: _text(r.wckey)),
    Field("WCKeyID", 10, Kind.NUM),
    Field("WorkDir", 20, job=lambda r, c: _text(r.work_dir)),
]

#: Every field sacct 22.05 knows, in its table order (what ``-e`` lists).
FIELDS: tuple[Field, ...] = tuple(_FIELDS)

#: jobacct's own fields. They come after Slurm's in prefix resolution, so no prefix that
#: selects a Slurm field ever selects one of these.
EXTRA_FIELDS: tuple[Field, ...] = (
    # DerivedExitCode as Slurm's rule computes it from the steps, whatever a user annotated.
    Field(
        "DerivedExitCodeComputed",
        23,
        job=lambda r, c: _exit(r.computed_exit_code, r.computed_exit_signal),
    ),
)
ALL_FIELDS: tuple[Field, ...] = FIELDS + EXTRA_FIELDS
FIELDS_BY_NAME: dict[str, Field] = {f.name.lower(): f for f in ALL_FIELDS}

#: ``src/sacct/sacct.h`` default and ``-b`` field lists (§4.2).
DEFAULT_FORMAT = "jobid,jobname,partition,account,alloccpus,state,exitcode"
BRIEF_FORMAT = "jobid,state,exitcode"
#: What ``sjobexitmod -l`` asks sacct for (slurm-semantics.md §3).
SJOBEXITMOD_FORMAT = "JobID,Account,NNodes,NodeList,State,ExitCode,DerivedExitCode,Comment"


class FieldError(ValueError):
    """An ``-o`` token that names no field, a bad width, or a field jobacct cannot show."""


@dataclass(frozen=True)
class Column:
    """A field chosen by ``-o`` with its effective width."""

    field: Field
    width: int


def resolve_format(spec: str) -> list[Column]:
    """Resolve an ``-o``/``--format`` value into columns (§4.2 token rules).

    Tokens are comma separated; ``name%N`` sets the width (``%-N`` left-aligns); a prefix of
    ``ALL`` selects every field; otherwise the first field in table order whose name starts
    with the token (case-insensitive) wins. As in sacct, the last width given for a field
    applies to every occurrence of it.

    Raises:
        FieldError: for an unknown name (sacct's ``Invalid field requested: "<tok>"``), a
            width that is not an integer, or a field whose data jobacct does not store.
    """
    chosen: list[Field] = []
    widths: dict[str, int] = {}
    for raw_token in spec.split(","):
        token = raw_token.lstrip()
        if not token:
            continue
        name, percent, width_text = token.partition("%")
        if name and "all".startswith(name.lower()):
            chosen.extend(f for f in FIELDS if f.supported)
            continue
        lowered = name.lower()
        match = next((f for f in ALL_FIELDS if f.name.lower().startswith(lowered)), None)
        if not name or match is None:
            raise FieldError(f'Invalid field requested: "{name}"')
        if not match.supported:
            raise FieldError(f'field "{match.name}" is not stored by jobacct')
        if percent:
            try:
                widths[match.name] = int(width_text)
            except ValueError:
                raise FieldError(f"invalid width in '{token}': expected %N or %-N") from None
        chosen.append(match)
    return [Column(f, widths.get(f.name, f.width)) for f in chosen]
