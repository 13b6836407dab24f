"""sacct's field table: names, default widths, renderers, and how each cell is computed.

The table order and names are Slurm 22.05's ``fields[]`` (as ``sacct -e`` prints it, golden
``sacct/14_e.txt``), because ``-o`` resolves a prefix to the *first* field in table order
(slurm-semantics.md §4.2). Widths and renderers are §4.1; value formats §4.4.

A cell getter takes the query row and a :class:`Ctx`. Job lines and step lines have separate
getters; a step getter sees the step's columns (prefixed ``s_``) and its job's columns.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Sequence
from datetime import tzinfo
from enum import Enum

from jobacct.exitcode import derived_exit_code_text, sacct_exit_code_text
from jobacct.jobid import STEP_NAMES, format_job_id
from jobacct.slurmtime import format_cpu_time, format_date, format_elapsed, format_timelimit
from jobacct.units import format_size

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import Any

INFINITE = 0xFFFFFFFF
NO_VAL = 0xFFFFFFFE
_MIB = 1 << 20


class Kind(Enum):
    """How a cell is fitted to its width in fixed-width output (§4.3)."""

    STR = "str"  # cut to width-1 characters plus '+'
    NUM = "num"  # never cut: overflows the column
    DATE = "date"  # '#' * width when it does not fit
    SECS = "secs"  # padded, never cut


class Ctx(
    namedtuple("Ctx", ["now", "time_format", "tz", "allocations"], defaults=[None, None, False])
):
    """What rendering needs besides the row: the clock (epoch UTC), time format and zone.

    (A namedtuple, as the fields and columns: see :class:`jobacct.jobid.JobSelector`.)
    """

    __slots__ = ()
    now: int
    time_format: str | None  # default None
    tz: tzinfo | None  # default None
    #: ``-X``: slurmdbd reads no step rows (``JOBCOND_FLAG_NO_STEP``), so the job values that
    #: are sums over steps (TotalCPU, UserCPU, SystemCPU) print as zero (§4.5, corrected).
    #: Default False.
    allocations: bool

    def date(self, epoch: int | None) -> str:
        """A date cell (Submit, Start, End, Eligible)."""
        return format_date(epoch, self.time_format, now=self.now, tz=self.tz)


if TYPE_CHECKING:
    #: A cell getter: ``getter(row, ctx)`` -> the cell's text.
    Getter = Callable[[Any, Ctx], str]


def _blank(_row: Any, _ctx: Ctx) -> str:
    return ""


#: Getters whose row reads cannot be seen in their code (``getattr`` with a computed name):
#: getter -> the row attributes it reads. See :func:`getter_reads`.
_DECLARED_READS: dict[Getter, frozenset[str]] = {}


class Field(
    namedtuple(
        "Field",
        ["name", "width", "kind", "job", "step", "usage_column"],
        defaults=[Kind.STR, None, _blank, None],
    )
):
    """One sacct field: its name, default width (negative = left-aligned) and cell getters."""

    __slots__ = ()
    name: str
    width: int
    kind: Kind  # default Kind.STR
    job: Getter | None  # default None: not supported
    step: Getter  # default: blank
    #: The step usage column (without ``s_``) a usage statistic reads; see
    #: :func:`usage_step_columns`. Default None.
    usage_column: str | None

    @property
    def supported(self) -> bool:
        """False for fields whose data jobacct does not store (yet)."""
        return self.job is not None


# ---------------------------------------------------------------- cell helpers


def _text(value: object) -> str:
    return "" if value is None else str(value)


# DerivedExitCode prints the recorded code; ExitCode takes 128 off a code of 128 or more
# (print.c PRINT_DERIVED_EC vs PRINT_EXITCODE, §1.2). A NULL exit code (Slurm's NO_VAL) is empty.
_exit = derived_exit_code_text
_exit_sacct = sacct_exit_code_text


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


#: TotalCPU/UserCPU/SystemCPU of a job line under ``-X`` (§4.5): no step rows were summed.
_NO_STEP_CPU = format_cpu_time(0)


def _timelimit_raw(minutes: int | None) -> str:
    if minutes is None:
        return ""
    if minutes in (INFINITE, NO_VAL):
        return format_timelimit(minutes)
    return str(minutes)


def _job_id(r: Any, _ctx: Ctx) -> str:
    if r.array_job_id is None and r.het_job_id is None:
        return str(r.job_id_raw)  # the usual job: format_job_id's last case, without a call
    return format_job_id(
        r.job_id_raw,
        r.array_job_id,
        r.array_task_id,
        r.het_job_id,
        r.het_job_offset,
        r.array_task_str,
    )


#: ``.batch``, ``.extern``... : format_step_suffix of the named steps, looked up per line.
_STEP_SUFFIXES = {step: f".{name}" for step, name in STEP_NAMES.items()}


def _step_suffix(step_id: int, het: int | None) -> str:
    # format_step_suffix, inlined for speed (tests/test_fastpath.py compares the two).
    suffix = _STEP_SUFFIXES.get(step_id) or f".{step_id}"
    return suffix if het is None else f"{suffix}+{het}"


def _step_job_id(r: Any, ctx: Ctx) -> str:
    return _job_id(r, ctx) + _step_suffix(r.s_step_id, r.s_step_het_component)


def _nodelist(value: str | None) -> str:
    # as_mysql_job_start stores "None assigned" for a job that has no nodes, running or not
    # (a job cancelled while pending gets a Start but no nodes): a job line is never blank.
    return value or "None assigned"


def _uint(value: int | None) -> str:
    # print_fields_uint: NO_VAL and INFINITE print as a blank cell (§4.3).
    return "" if value is None or value in (NO_VAL, INFINITE) else str(value)


def _size(value: int | None) -> str:
    """A byte or count cell (MaxRSS, AveVMSize, MaxPages...): unit-converted, base unit none."""
    return "" if value is None else format_size(value)


def _disk(value: int | None) -> str:
    """A disk cell (MaxDiskRead, AveDiskWrite...) from bytes: sacct's ``_print_small_double``.

    The bytes become a MB double; above 1 it is unit-converted from M, up to 1 it is printed
    ``%.2fM`` (``0.00M`` for a single byte), and 0 is ``0``.
    """
    if value is None:
        return ""
    mb = value / _MIB
    if mb > 1:
        return format_size(mb, "M")
    if mb > 0:
        return f"{mb:.2f}M"
    return "0"


def _cpu_secs(seconds: int | None) -> str:
    """MinCPU/AveCPU: whole seconds in the CPU-time format (``_elapsed_time(secs, 0)``)."""
    return "" if seconds is None else format_cpu_time(seconds * 1_000_000)


def _energy(joules: int | None) -> str:
    # ConsumedEnergy: ÷1000 steps, not exact (so 1500 J is 1.50K).
    return "" if joules is None else format_size(joules, divisor=1000, exact=False)


#: ``CPU_FREQ_*`` values of ``slurm.h`` with the names ``cpu_freq_to_string`` prints.
CPU_FREQ_NAMES: dict[int, str] = {
    0x80000001: "Low",
    0x80000002: "Medium",
    0x80000004: "Highm1",
    0x80000003: "High",
    0x88000000: "Conservative",
    0x82000000: "Performance",
    0x81000000: "PowerSave",
    0x80800000: "UserSpace",
    0x84000000: "OnDemand",
}
CPU_FREQ_RANGE_FLAG = 0x80000000


def format_cpu_freq(value: int | None) -> str:
    """A ReqCPUFreq* cell (``cpu_freq_to_string``): a name, ``Unknown`` or kHz converted.

    A record without the value (a job line) is NO_VAL, which has the range flag set and so
    prints ``Unknown``, as sacct does.
    """
    freq = NO_VAL if value is None else value
    name = CPU_FREQ_NAMES.get(freq)
    if name is not None:
        return name
    if freq & CPU_FREQ_RANGE_FLAG:
        return "Unknown"
    return format_size(freq, "K", divisor=1000, exact=False)


def _ave_cpufreq(khz: int | None) -> str:
    return "" if khz is None else format_size(khz, "K", divisor=1000, exact=False)


def _planned(r: Any, ctx: Ctx) -> int:
    """Reserved (Slurm 23.02+: Planned): seconds from eligible to start, as print.c's ``int``.

    Never eligible: 0; still pending: eligible to now. A job that ended without starting
    (cancelled while pending) reaches sacct with start NO_VAL (its Start prints ``None``), so
    ``start - eligible`` is NO_VAL - eligible, which wraps negative in print.c's ``int`` and
    prints INVALID (real 22.05.8, tests/test_oracle.py).
    """
    eligible: int | None = r.time_eligible
    if eligible is None or eligible == INFINITE:
        return 0
    if r.time_start is not None:
        return _int32(int(r.time_start) - eligible)
    if r.time_end is not None:
        return _int32(NO_VAL - eligible)
    return _int32(ctx.now - eligible)


def _planned_cpu(r: Any, ctx: Ctx) -> int:
    # (start - eligible) * req_cpus is computed in time_t, then stored in print.c's int
    eligible: int | None = r.time_eligible
    if eligible is None or eligible == INFINITE:
        return 0
    if r.time_start is not None:
        span = int(r.time_start) - eligible
    elif r.time_end is not None:
        span = NO_VAL - eligible
    else:
        span = ctx.now - eligible
    return _int32(span * (r.req_cpus or 0))


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _planned_secs(value: int) -> str:
    # print_fields_time_from_secs gets (uint64_t)tmp_int: -1/-2 are INFINITE64/NO_VAL64
    # (blank), any other negative value a negative time_t (INVALID)
    return "" if value in (-1, -2) else format_elapsed(value)


def _planned_raw(value: int) -> str:
    # print_fields_uint64 of the int: a negative value prints as its uint64 wrap
    return "" if value in (-1, -2) else str(value if value >= 0 else value + (1 << 64))


def _req_nodes_step(r: Any, _ctx: Ctx) -> str:
    # PRINT_REQ_NODES on a step: its node count, unit-converted like AllocNodes.
    return format_size(r.s_nnodes or 0)


def _s(name: str, fmt: Callable[[Any], str]) -> Getter:
    """A step getter formatting one step column (``s_<name>``)."""
    attr = "s_" + name
    getter: Getter = lambda r, _c: fmt(getattr(r, attr))  # noqa: E731
    _DECLARED_READS[getter] = frozenset((attr,))
    return getter


def _stat(name: str, width: int, column: str, fmt: Callable[[Any], str], kind: Kind) -> Field:
    """A usage statistic: blank on job lines, the step's value on step lines."""
    return Field(name, width, kind, job=_blank, step=_s(column, fmt), usage_column=column)


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
        # PRINT_ALLOC_NODES prints nodes_alloc, 0 for a job that never got nodes (cancelled
        # while pending), where NNodes prints the requested count (oracle test, 22.05.8).
        job=lambda r, c: format_size(
            r.nnodes if r.nodelist not in (None, "", "None assigned") else 0
        ),
        step=lambda r, c: format_size(r.s_nnodes),
    ),
    Field(
        "AllocTRES",
        10,
        job=lambda r, c: _text(r.alloc_tres),
        step=lambda r, c: _text(r.s_alloc_tres),
    ),
    Field(
        "AssocID",
        7,
        Kind.NUM,
        job=lambda r, c: _uint(r.assoc_id),
        step=lambda r, c: _uint(r.assoc_id),
    ),
    _stat("AveCPU", 10, "ave_cpu", _cpu_secs, Kind.STR),
    _stat("AveCPUFreq", 10, "ave_cpufreq", _ave_cpufreq, Kind.STR),
    _stat("AveDiskRead", 14, "ave_disk_read", _disk, Kind.STR),
    _stat("AveDiskWrite", 14, "ave_disk_write", _disk, Kind.STR),
    _stat("AvePages", 10, "ave_pages", _size, Kind.STR),
    _stat("AveRSS", 10, "ave_rss", _size, Kind.STR),
    _stat("AveVMSize", 10, "ave_vmsize", _size, Kind.STR),
    Field("BlockID", 16, job=lambda r, c: _text(r.block_id)),
    Field("Cluster", 10, job=lambda r, c: r.cluster, step=lambda r, c: r.cluster),
    Field("Comment", 14, job=lambda r, c: _text(r.comment)),
    Field("Constraints", 19, job=lambda r, c: _text(r.constraints)),
    Field(
        "ConsumedEnergy",
        14,
        job=lambda r, c: _energy(r.consumed_energy),
        step=_s("consumed_energy", _energy),
    ),
    Field(
        "ConsumedEnergyRaw",
        17,
        Kind.NUM,
        job=lambda r, c: _text(r.consumed_energy),
        step=_s("consumed_energy", _text),
    ),
    Field(
        "Container",
        19,
        job=lambda r, c: _text(r.container),
        step=_s("container", _text),
    ),
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
    Field(
        # 22.05.8 prints DBIndex left-aligned in 10 columns (real sacct, oracle test); the
        # -21 of later releases' fields[] is not 22.05's.
        "DBIndex",
        -10,
        Kind.NUM,
        job=lambda r, c: _text(r.db_index),
        step=lambda r, c: _text(r.db_index),
    ),
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
        job=lambda r, c: _exit_sacct(r.exit_code, r.exit_signal),
        step=lambda r, c: _exit_sacct(r.s_exit_code, r.s_exit_signal),
    ),
    Field("Flags", 19, job=lambda r, c: _text(r.flags)),
    Field("GID", 6, Kind.NUM, job=lambda r, c: _text(r.gid)),
    Field("Group", 9, job=lambda r, c: _text(r.group_name)),
    Field("JobID", -12, job=_job_id, step=_step_job_id),
    Field(
        "JobIDRaw",
        -12,
        job=lambda r, c: str(r.job_id_raw),
        step=lambda r, c: str(r.job_id_raw) + _step_suffix(r.s_step_id, r.s_step_het_component),
    ),
    Field("JobName", 10, job=lambda r, c: r.job_name, step=lambda r, c: r.s_step_name),
    _stat("Layout", 9, "layout", _text, Kind.STR),
    _stat("MaxDiskRead", 12, "max_disk_read", _disk, Kind.STR),
    _stat("MaxDiskReadNode", 15, "max_disk_read_node", _text, Kind.STR),
    _stat("MaxDiskReadTask", 15, "max_disk_read_task", _uint, Kind.NUM),
    _stat("MaxDiskWrite", 12, "max_disk_write", _disk, Kind.STR),
    _stat("MaxDiskWriteNode", 16, "max_disk_write_node", _text, Kind.STR),
    _stat("MaxDiskWriteTask", 16, "max_disk_write_task", _uint, Kind.NUM),
    _stat("MaxPages", 8, "max_pages", _size, Kind.STR),
    _stat("MaxPagesNode", 12, "max_pages_node", _text, Kind.STR),
    _stat("MaxPagesTask", 14, "max_pages_task", _uint, Kind.NUM),
    _stat("MaxRSS", 10, "max_rss", _size, Kind.STR),
    _stat("MaxRSSNode", 10, "max_rss_node", _text, Kind.STR),
    _stat("MaxRSSTask", 10, "max_rss_task", _uint, Kind.NUM),
    _stat("MaxVMSize", 10, "max_vmsize", _size, Kind.STR),
    _stat("MaxVMSizeNode", 14, "max_vmsize_node", _text, Kind.STR),
    _stat("MaxVMSizeTask", 14, "max_vmsize_task", _uint, Kind.NUM),
    Field("McsLabel", 12, job=lambda r, c: _text(r.mcs_label)),
    _stat("MinCPU", 10, "min_cpu", _cpu_secs, Kind.STR),
    _stat("MinCPUNode", 10, "min_cpu_node", _text, Kind.STR),
    _stat("MinCPUTask", 10, "min_cpu_task", _uint, Kind.NUM),
    Field("NCPUS", 10, Kind.NUM, job=lambda r, c: str(r.ncpus), step=lambda r, c: str(r.s_ncpus)),
    Field("NNodes", 8, Kind.NUM, job=lambda r, c: str(r.nnodes), step=lambda r, c: str(r.s_nnodes)),
    Field(
        "NodeList",
        15,
        job=lambda r, c: _nodelist(r.nodelist),
        step=lambda r, c: _text(r.s_nodelist),
    ),
    Field("NTasks", 8, Kind.NUM, job=_blank, step=lambda r, c: str(r.s_ntasks)),
    Field("Partition", 10, job=lambda r, c: _text(r.partition)),
    Field("Priority", 10, Kind.NUM, job=lambda r, c: _text(r.priority)),
    Field("QOS", 10, job=lambda r, c: _text(r.qos)),
    Field("QOSRAW", 6, Kind.NUM, job=lambda r, c: _uint(r.qos_id)),
    # state_reason_prev is a number slurmdbd always stores; 0 (WAIT_NO_REASON) prints "None".
    Field("Reason", 22, job=lambda r, c: r.reason or "None"),
    # sacct's ReqCPUFreq is the requested maximum.
    Field(
        "ReqCPUFreq",
        10,
        job=lambda r, c: format_cpu_freq(None),
        step=_s("req_cpufreq_max", format_cpu_freq),
    ),
    Field(
        "ReqCPUFreqGov",
        13,
        job=lambda r, c: format_cpu_freq(None),
        step=_s("req_cpufreq_gov", format_cpu_freq),
    ),
    Field(
        "ReqCPUFreqMax",
        13,
        job=lambda r, c: format_cpu_freq(None),
        step=_s("req_cpufreq_max", format_cpu_freq),
    ),
    Field(
        "ReqCPUFreqMin",
        13,
        job=lambda r, c: format_cpu_freq(None),
        step=_s("req_cpufreq_min", format_cpu_freq),
    ),
    Field(
        "ReqCPUS",
        8,
        Kind.NUM,
        job=lambda r, c: _text(r.req_cpus),
        step=lambda r, c: str(r.s_ncpus),
    ),
    Field("ReqMem", 10, job=lambda r, c: "" if r.req_mem is None else format_size(r.req_mem, "M")),
    Field(
        "ReqNodes",
        8,
        job=lambda r, c: format_size(r.req_nodes or 0),
        step=_req_nodes_step,
    ),
    Field("ReqTRES", 10, job=lambda r, c: _text(r.req_tres)),
    Field("Reservation", 20, job=lambda r, c: _text(r.reservation)),
    Field("ReservationId", 8, Kind.NUM, job=lambda r, c: _uint(r.resv_id)),
    Field("Reserved", 10, Kind.SECS, job=lambda r, c: _planned_secs(_planned(r, c))),
    Field("ResvCPU", 10, Kind.SECS, job=lambda r, c: _planned_secs(_planned_cpu(r, c))),
    Field("ResvCPURAW", 10, Kind.NUM, job=lambda r, c: _planned_raw(_planned_cpu(r, c))),
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
    Field(
        "SubmitLine",
        20,
        job=lambda r, c: _text(r.submit_line),
        step=_s("submit_line", _text),
    ),
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
        job=lambda r, c: format_cpu_time(0 if c.allocations else r.system_cpu_usec or 0),
        step=lambda r, c: format_cpu_time(r.s_system_cpu_usec or 0),
    ),
    Field("Timelimit", 10, job=lambda r, c: format_timelimit(r.timelimit)),
    Field("TimelimitRaw", 10, job=lambda r, c: _timelimit_raw(r.timelimit)),
    Field(
        "TotalCPU",
        10,
        job=lambda r, c: (
            _NO_STEP_CPU
            if c.allocations
            else _cpu(r.total_cpu_usec, r.user_cpu_usec, r.system_cpu_usec)
        ),
        step=lambda r, c: _cpu(r.s_total_cpu_usec, r.s_user_cpu_usec, r.s_system_cpu_usec),
    ),
    _stat("TRESUsageInAve", 14, "tres_usage_in_ave", _text, Kind.STR),
    _stat("TRESUsageInMax", 14, "tres_usage_in_max", _text, Kind.STR),
    _stat("TRESUsageInMaxNode", 18, "tres_usage_in_max_node", _text, Kind.STR),
    _stat("TRESUsageInMaxTask", 18, "tres_usage_in_max_task", _text, Kind.STR),
    _stat("TRESUsageInMin", 14, "tres_usage_in_min", _text, Kind.STR),
    _stat("TRESUsageInMinNode", 18, "tres_usage_in_min_node", _text, Kind.STR),
    _stat("TRESUsageInMinTask", 18, "tres_usage_in_min_task", _text, Kind.STR),
    _stat("TRESUsageInTot", 14, "tres_usage_in_tot", _text, Kind.STR),
    _stat("TRESUsageOutAve", 15, "tres_usage_out_ave", _text, Kind.STR),
    _stat("TRESUsageOutMax", 15, "tres_usage_out_max", _text, Kind.STR),
    _stat("TRESUsageOutMaxNode", 19, "tres_usage_out_max_node", _text, Kind.STR),
    _stat("TRESUsageOutMaxTask", 19, "tres_usage_out_max_task", _text, Kind.STR),
    _stat("TRESUsageOutMin", 15, "tres_usage_out_min", _text, Kind.STR),
    _stat("TRESUsageOutMinNode", 19, "tres_usage_out_min_node", _text, Kind.STR),
    _stat("TRESUsageOutMinTask", 19, "tres_usage_out_min_task", _text, Kind.STR),
    _stat("TRESUsageOutTot", 15, "tres_usage_out_tot", _text, Kind.STR),
    Field("UID", 6, Kind.NUM, job=lambda r, c: str(r.uid)),
    Field("User", 9, job=lambda r, c: _text(r.user_name)),
    Field(
        "UserCPU",
        10,
        job=lambda r, c: format_cpu_time(0 if c.allocations else r.user_cpu_usec or 0),
        step=lambda r, c: format_cpu_time(r.s_user_cpu_usec or 0),
    ),
    Field("WCKey", 10, job=lambda r, c: _text(r.wckey)),
    Field("WCKeyID", 10, Kind.NUM, job=lambda r, c: _uint(r.wckey_id)),
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
    # Cancellation provenance (jobacct.signal): when the request that ended the job came,
    # its signal number, the job's state then, and the requester's --reason.
    Field(
        "CancelTime",
        19,
        Kind.DATE,
        job=lambda r, c: "" if r.cancel_time is None else c.date(r.cancel_time),
    ),
    Field("CancelSignal", 12, Kind.NUM, job=lambda r, c: _text(r.cancel_signal)),
    Field("CancelState", 11, job=lambda r, c: _text(r.cancel_state)),
    Field("CancelReason", 20, job=lambda r, c: _text(r.cancel_reason)),
    # Checkpoint accounting (jobacct.checkpoint): a step's highest error code and its message.
    Field(
        "CheckpointError",
        15,
        Kind.NUM,
        job=_blank,
        step=lambda r, c: _text(r.s_checkpoint_error_code),
    ),
    Field(
        "CheckpointErrorMsg",
        20,
        job=_blank,
        step=lambda r, c: _text(r.s_checkpoint_error_msg),
    ),
)
ALL_FIELDS: tuple[Field, ...] = FIELDS + EXTRA_FIELDS
FIELDS_BY_NAME: dict[str, Field] = {f.name.lower(): f for f in ALL_FIELDS}

#: ``src/sacct/sacct.h`` default, ``-b`` and ``-l`` field lists (§4.2).
DEFAULT_FORMAT = "jobid,jobname,partition,account,alloccpus,state,exitcode"
BRIEF_FORMAT = "jobid,state,exitcode"
LONG_FORMAT = (
    "jobid,jobidraw,jobname,partition,maxvmsize,maxvmsizenode,maxvmsizetask,avevmsize,maxrss,"
    "maxrssnode,maxrsstask,averss,maxpages,maxpagesnode,maxpagestask,avepages,mincpu,"
    "mincpunode,mincputask,avecpu,ntasks,alloccpus,elapsed,state,exitcode,avecpufreq,"
    "reqcpufreqmin,reqcpufreqmax,reqcpufreqgov,reqmem,consumedenergy,maxdiskread,"
    "maxdiskreadnode,maxdiskreadtask,avediskread,maxdiskwrite,maxdiskwritenode,"
    "maxdiskwritetask,avediskwrite,reqtres,alloctres,tresusageinave,tresusageinmax,"
    "tresusageinmaxn,tresusageinmaxt,tresusageinmin,tresusageinminn,tresusageinmint,"
    "tresusageintot,tresusageoutmax,tresusageoutmaxn,tresusageoutmaxt,tresusageoutave,"
    "tresusageouttot"
)
#: What ``sjobexitmod -l`` asks sacct for (slurm-semantics.md §3).
SJOBEXITMOD_FORMAT = "JobID,Account,NNodes,NodeList,State,ExitCode,DerivedExitCode,Comment"


#: The step columns only the usage statistics read (TRESUsage text, MaxRSS, AveCPU...).
USAGE_STEP_COLUMNS: frozenset[str] = frozenset(
    f.usage_column for f in FIELDS if f.usage_column is not None
)


def usage_step_columns(columns: Sequence[Column]) -> set[str]:
    """The usage step columns the chosen fields read: a query may leave the others of
    :data:`USAGE_STEP_COLUMNS` out (the TRESUsage text makes step rows several times wider).
    """
    return {c.field.usage_column for c in columns if c.field.usage_column is not None}


#: Names in a getter's code that mean "reads attributes it does not name".
_DYNAMIC = frozenset({"getattr", "vars", "__dict__", "__getattribute__", "attrgetter"})


def getter_reads(getter: Getter) -> frozenset[str] | None:
    """Every name a getter may read from its row, or None when that cannot be known.

    An over-approximation taken from the code: the attribute and global names of the getter,
    of the code nested in it, and of the Python functions it calls (its globals and closure
    cells, recursively). A getter reading by ``getattr`` with a computed name is unknown
    unless it is declared in :data:`_DECLARED_READS`. The query intersects the result with
    the table's columns and fetches only those (a row without a column raises
    AttributeError, so an undercount fails loudly; tests/test_fastpath.py renders every
    field of the golden store from rows holding only what this returns).
    """
    names: set[str] = set()
    return frozenset(names) if _collect(getter, names, set()) else None


def _collect(fn: Any, names: set[str], seen: set[int]) -> bool:
    if id(fn) in seen:
        return True
    seen.add(id(fn))
    declared = _DECLARED_READS.get(fn)
    if declared is not None:
        names.update(declared)
        closure = getattr(fn, "__closure__", None) or ()
        # Its formatter may not read the row, but look anyway (it costs nothing).
        return all(_collect_value(cell.cell_contents, names, seen) for cell in closure)
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    scope = getattr(fn, "__globals__", {})
    if not _collect_code(code, scope, names, seen):
        return False
    closure = getattr(fn, "__closure__", None) or ()
    return all(_collect_value(cell.cell_contents, names, seen) for cell in closure)


def _collect_code(code: Any, scope: dict[str, Any], names: set[str], seen: set[int]) -> bool:
    if _DYNAMIC.intersection(code.co_names):
        return False
    names.update(code.co_names)
    for name in code.co_names:
        value = scope.get(name)
        if value is not None and not _collect_value(value, names, seen):
            return False
    return all(
        _collect_code(const, scope, names, seen)
        for const in code.co_consts
        if hasattr(const, "co_names")
    )


def _collect_value(value: Any, names: set[str], seen: set[int]) -> bool:
    # Python functions are followed; modules, classes, builtins and data are not (they are
    # never handed the row by a getter here).
    if hasattr(value, "__code__") and hasattr(value, "__globals__"):
        return _collect(value, names, seen)
    return True


def columns_read(columns: Sequence[Column]) -> set[str] | None:
    """The row attributes the job and step getters of ``columns`` may read (None: unknown)."""
    reads: set[str] = set()
    for column in columns:
        for getter in (column.field.job, column.field.step):
            if getter is None or getter is _blank:
                continue
            names = getter_reads(getter)
            if names is None:
                return None
            reads.update(names)
    return reads


class FieldError(ValueError):
    """An ``-o`` token that names no field, a bad width, or a field jobacct cannot show."""


class Column(namedtuple("Column", ["field", "width"])):
    """A field chosen by ``-o`` with its effective width."""

    __slots__ = ()
    field: Field
    width: int


#: The widest column ``%N`` may ask for (sacct allocates it unchecked; 4096 is wider than any
#: value a field holds, and keeps a line's padding bounded).
MAX_FIELD_WIDTH = 4096
_WIDTH = re.compile(r"-?[0-9]{1,12}", re.ASCII)


def resolve_format(spec: str) -> list[Column]:
    """Resolve an ``-o``/``--format`` value into columns (§4.2 token rules).

    Tokens are comma separated; ``name%N`` sets the width (``%-N`` left-aligns); a prefix of
    ``ALL`` selects every field; otherwise the first field in table order whose name starts
    with the token (case-insensitive) wins. As in sacct, the last width given for a field
    applies to every occurrence of it.

    Raises:
        FieldError: for an unknown name (sacct's ``Invalid field requested: "<tok>"``), a
            width that is not an ASCII integer or is wider than :data:`MAX_FIELD_WIDTH`
            either way, or a field whose data jobacct does not store.
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
            if not _WIDTH.fullmatch(width_text):
                raise FieldError(f"invalid width in '{token}': expected %N or %-N")
            width = int(width_text)
            if abs(width) > MAX_FIELD_WIDTH:
                # A width is padding the process allocates per line: bound it (issue 14).
                raise FieldError(
                    f"invalid width in '{token}': at most {MAX_FIELD_WIDTH} either way"
                )
            widths[match.name] = width
        chosen.append(match)
    return [Column(f, widths.get(f.name, f.width)) for f in chosen]
