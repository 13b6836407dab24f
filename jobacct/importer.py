"""Loading real ``sacct --parsable2`` (and ``-p``) output into the store, idempotently.

The header line names the fields, in any order. Job rows carry the job's record; step rows
(``123.batch``, ``23_0.0``) attach to the job row printed before them, or to the job already in
the store. A record is keyed by (Cluster, JobIDRaw, Submit), so importing the same output twice
changes nothing. Every row is read before anything is written: a file with a bad row writes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from jobacct import store
from jobacct.errors import ImportFormatError
from jobacct.exitcode import ExitCode, ExitCodeError
from jobacct.fields import CPU_FREQ_NAMES, FIELDS_BY_NAME, NO_VAL
from jobacct.jobid import JobIdError, check_cluster_name, parse_displayed
from jobacct.jobstate import ACCOUNTED_STATES
from jobacct.slurmtime import (
    parse_cpu_time,
    parse_date,
    parse_elapsed,
    parse_timelimit,
)
from jobacct.units import parse_size
from jobacct.users import MAX_ID

Parser = Callable[[str], Any]


def _none_if_empty(text: str) -> str | None:
    return text if text != "" else None


def _int_or_none(text: str) -> int | None:
    return int(text) if text != "" else None


def _exit(text: str) -> ExitCode | None:
    return ExitCode.parse(text) if text != "" else None


def _state(text: str) -> tuple[str, int | None]:
    # "CANCELLED by 1001" is the CANCELLED state with kill_requid 1001 (print.c, §5.3).
    base, sep, uid = text.partition(" by ")
    if sep:
        if base != "CANCELLED" or not (uid.isascii() and uid.isdigit()) or int(uid) > MAX_ID:
            raise ValueError(f"invalid State '{text}'")
        return base, int(uid)
    if text not in ACCOUNTED_STATES:
        # Only what sacct can print (job_state_string of a stored state, §5.1): "EXPLODED"
        # would be stored and then match no -s filter and no report (tracker issue 14).
        raise ValueError(f"invalid State '{text}'")
    return text, None


def _nodelist(text: str) -> str | None:
    return None if text in ("", "None assigned") else text


def _start(text: str) -> int | None:
    return None if text == "None" else parse_date(text)


def _size_m(text: str) -> int | None:
    return parse_size(text, "M") if text else None


def _size(text: str) -> int | None:
    return parse_size(text) if text else None


def _cpu(text: str) -> int | None:
    return parse_cpu_time(text) if text else None


def _cpu_secs(text: str) -> int | None:
    # MinCPU/AveCPU are printed from whole seconds.
    return parse_cpu_time(text) // 1_000_000 if text else None


_MIB = 1 << 20


def _disk(text: str) -> int | None:
    """Bytes back from a disk cell (inverse of ``fields._disk``).

    ``0.00M``..``1.00M`` are sacct's ``%.2fM`` of a MB value up to 1: the bytes nearest to
    it, and at least one byte (``0.00M`` is more than nothing, ``0`` is nothing).
    """
    if not text:
        return None
    if text.endswith("M") and text[:-1].replace(".", "", 1).isdigit() and "." in text:
        megabytes = float(text[:-1])
        if megabytes <= 1:
            return max(1, round(megabytes * _MIB))
    return parse_size(text)


def _energy(text: str) -> int | None:
    return parse_size(text, divisor=1000) if text else None


def _khz(text: str) -> int | None:
    return parse_size(text, "K", divisor=1000) if text else None


_CPU_FREQ_VALUES = {name: value for value, name in CPU_FREQ_NAMES.items()}


def _cpu_freq(text: str) -> int | None:
    """A ReqCPUFreq* cell back to Slurm's value: a name, ``Unknown`` (NO_VAL) or kHz."""
    if not text:
        return None
    if text == "Unknown":
        return NO_VAL
    value = _CPU_FREQ_VALUES.get(text)
    return value if value is not None else parse_size(text, "K", divisor=1000)


def _count(text: str) -> int | None:
    return parse_size(text) if text else None


#: sacct field -> (job columns, step columns, parser). The parser's result is stored in each
#: named column; State and ExitCode fan out into two columns each.
_JOB_AND_STEP: dict[str, tuple[tuple[str, ...], tuple[str, ...], Parser]] = {
    "Account": (("account",), (), _none_if_empty),
    "AdminComment": (("admin_comment",), (), _none_if_empty),
    "AllocCPUS": (("ncpus",), ("ncpus",), int),
    "NCPUS": (("ncpus",), ("ncpus",), int),
    "AllocTRES": (("alloc_tres",), ("alloc_tres",), _none_if_empty),
    "Cluster": ((), (), _none_if_empty),
    "Comment": (("comment",), (), _none_if_empty),
    "Constraints": (("constraints",), (), _none_if_empty),
    "DerivedExitCode": ((), (), _exit),
    "Eligible": (("time_eligible",), (), parse_date),
    "End": (("time_end",), ("time_end",), parse_date),
    "ExitCode": ((), (), _exit),
    "Flags": (("flags",), (), _none_if_empty),
    "GID": (("gid",), (), _int_or_none),
    "Group": (("group_name",), (), _none_if_empty),
    "JobName": (("job_name",), ("step_name",), str),
    "MaxRSS": ((), ("max_rss",), _size),
    "MaxRSSNode": ((), ("max_rss_node",), _none_if_empty),
    "MaxRSSTask": ((), ("max_rss_task",), _int_or_none),
    "AveRSS": ((), ("ave_rss",), _size),
    "MaxVMSize": ((), ("max_vmsize",), _size),
    "MaxVMSizeNode": ((), ("max_vmsize_node",), _none_if_empty),
    "MaxVMSizeTask": ((), ("max_vmsize_task",), _int_or_none),
    "AveVMSize": ((), ("ave_vmsize",), _size),
    "MaxPages": ((), ("max_pages",), _size),
    "MaxPagesNode": ((), ("max_pages_node",), _none_if_empty),
    "MaxPagesTask": ((), ("max_pages_task",), _int_or_none),
    "AvePages": ((), ("ave_pages",), _size),
    "MinCPU": ((), ("min_cpu",), _cpu_secs),
    "MinCPUNode": ((), ("min_cpu_node",), _none_if_empty),
    "MinCPUTask": ((), ("min_cpu_task",), _int_or_none),
    "AveCPU": ((), ("ave_cpu",), _cpu_secs),
    "MaxDiskRead": ((), ("max_disk_read",), _disk),
    "MaxDiskReadNode": ((), ("max_disk_read_node",), _none_if_empty),
    "MaxDiskReadTask": ((), ("max_disk_read_task",), _int_or_none),
    "AveDiskRead": ((), ("ave_disk_read",), _disk),
    "MaxDiskWrite": ((), ("max_disk_write",), _disk),
    "MaxDiskWriteNode": ((), ("max_disk_write_node",), _none_if_empty),
    "MaxDiskWriteTask": ((), ("max_disk_write_task",), _int_or_none),
    "AveDiskWrite": ((), ("ave_disk_write",), _disk),
    "AveCPUFreq": ((), ("ave_cpufreq",), _khz),
    "ReqCPUFreq": ((), ("req_cpufreq_max",), _cpu_freq),
    "ReqCPUFreqMax": ((), ("req_cpufreq_max",), _cpu_freq),
    "ReqCPUFreqMin": ((), ("req_cpufreq_min",), _cpu_freq),
    "ReqCPUFreqGov": ((), ("req_cpufreq_gov",), _cpu_freq),
    "Layout": ((), ("layout",), _none_if_empty),
    "ConsumedEnergy": (("consumed_energy",), ("consumed_energy",), _energy),
    "ConsumedEnergyRaw": (("consumed_energy",), ("consumed_energy",), _int_or_none),
    "Container": (("container",), ("container",), _none_if_empty),
    "AssocID": (("assoc_id",), (), _int_or_none),
    "DBIndex": (("db_index",), (), _int_or_none),
    "QOSRAW": (("qos_id",), (), _int_or_none),
    "WCKeyID": (("wckey_id",), (), _int_or_none),
    "ReservationId": (("resv_id",), (), _int_or_none),
    "ReqNodes": (("req_nodes",), (), _count),
    "McsLabel": (("mcs_label",), (), _none_if_empty),
    "BlockID": (("block_id",), (), _none_if_empty),
    "NNodes": (("nnodes",), ("nnodes",), int),
    "NodeList": (("nodelist",), ("nodelist",), _nodelist),
    "NTasks": ((), ("ntasks",), _int_or_none),
    "Partition": (("partition",), (), _none_if_empty),
    "Priority": (("priority",), (), _int_or_none),
    "QOS": (("qos",), (), _none_if_empty),
    "Reason": (("reason",), (), _none_if_empty),
    "ReqCPUS": (("req_cpus",), (), _int_or_none),
    "ReqMem": (("req_mem",), (), _size_m),
    "ReqTRES": (("req_tres",), (), _none_if_empty),
    "Reservation": (("reservation",), (), _none_if_empty),
    "Start": (("time_start",), ("time_start",), _start),
    "State": ((), (), _state),
    "Submit": ((), (), parse_date),
    "SubmitLine": (("submit_line",), ("submit_line",), _none_if_empty),
    "Suspended": (("time_suspended",), ("time_suspended",), parse_elapsed),
    "SystemComment": (("system_comment",), (), _none_if_empty),
    "SystemCPU": (("system_cpu_usec",), ("system_cpu_usec",), _cpu),
    "Timelimit": (("timelimit",), (), parse_timelimit),
    "TotalCPU": (("total_cpu_usec",), ("total_cpu_usec",), _cpu),
    "UID": (("uid",), (), int),
    "User": (("user_name",), (), _none_if_empty),
    "UserCPU": (("user_cpu_usec",), ("user_cpu_usec",), _cpu),
    "WCKey": (("wckey",), (), _none_if_empty),
    "WorkDir": (("work_dir",), (), _none_if_empty),
    "JobID": ((), (), str),
    "JobIDRaw": ((), (), str),
}
_JOB_AND_STEP.update(
    {
        name: ((), (column,), _none_if_empty)
        for name, column in (
            ("TRESUsageInAve", "tres_usage_in_ave"),
            ("TRESUsageInMax", "tres_usage_in_max"),
            ("TRESUsageInMaxNode", "tres_usage_in_max_node"),
            ("TRESUsageInMaxTask", "tres_usage_in_max_task"),
            ("TRESUsageInMin", "tres_usage_in_min"),
            ("TRESUsageInMinNode", "tres_usage_in_min_node"),
            ("TRESUsageInMinTask", "tres_usage_in_min_task"),
            ("TRESUsageInTot", "tres_usage_in_tot"),
            ("TRESUsageOutAve", "tres_usage_out_ave"),
            ("TRESUsageOutMax", "tres_usage_out_max"),
            ("TRESUsageOutMaxNode", "tres_usage_out_max_node"),
            ("TRESUsageOutMaxTask", "tres_usage_out_max_task"),
            ("TRESUsageOutMin", "tres_usage_out_min"),
            ("TRESUsageOutMinNode", "tres_usage_out_min_node"),
            ("TRESUsageOutMinTask", "tres_usage_out_min_task"),
            ("TRESUsageOutTot", "tres_usage_out_tot"),
        )
    }
)
#: A field left out when the named, more precise field is in the same header.
_SUPERSEDED_BY = {"ConsumedEnergy": "ConsumedEnergyRaw", "ReqCPUFreq": "ReqCPUFreqMax"}

#: Fields sacct computes from others (jobacct recomputes them) or that jobacct does not store.
IGNORED_COMPUTED = {
    "CPUTime",
    "CPUTimeRAW",
    "Elapsed",
    "ElapsedRaw",
    "TimelimitRaw",
    "AllocNodes",
    "Reserved",
    "ResvCPU",
    "ResvCPURAW",
}


@dataclass
class _JobRecord:
    line: int
    cluster: str
    job_id_raw: int
    time_submit: int
    values: dict[str, Any]
    state: tuple[str, int | None] | None
    exit_code: ExitCode | bool | None  # False: not in the file
    derived: ExitCode | bool | None
    steps: list[_StepRecord] = field(default_factory=list)


@dataclass
class _StepRecord:
    line: int
    job_id_raw: int
    step_id: int
    step_het_component: int | None
    values: dict[str, Any]


@dataclass
class ImportResult:
    """What an import did: counts of records inserted or changed, and fields it skipped."""

    jobs_changed: int = 0
    steps_changed: int = 0
    jobs_seen: int = 0
    steps_seen: int = 0
    ignored_fields: list[str] = field(default_factory=list)


def parse_sacct_output(
    lines: Iterable[str], default_cluster: str, source: str = "<stdin>"
) -> tuple[list[_JobRecord], list[_StepRecord], list[str]]:
    """Read parsable sacct output into job and step records, without touching the store.

    Returns (jobs, orphan steps whose job row is not in the file, ignored field names).

    Raises:
        ImportFormatError: listing every unreadable row with its line number.
    """
    errors: list[str] = []
    header: list[str] | None = None
    trailing = False
    jobs: list[_JobRecord] = []
    orphans: list[_StepRecord] = []
    last_job: dict[int, _JobRecord] = {}
    ignored: list[str] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        cells = text.split("|")
        if header is None:
            header, trailing, ignored, problem = _read_header(cells)
            if problem:
                raise ImportFormatError(f"{source}:{number}: {problem}")
            continue
        if trailing:
            if cells[-1] != "":
                errors.append(f"{source}:{number}: expected a trailing '|' (sacct -p)")
                continue
            cells = cells[:-1]
        if len(cells) != len(header):
            errors.append(f"{source}:{number}: {len(cells)} fields, the header has {len(header)}")
            continue
        try:
            record = _read_row(dict(zip(header, cells)), number, default_cluster)
        except (ValueError, JobIdError, ExitCodeError) as exc:
            errors.append(f"{source}:{number}: {exc}")
            continue
        if isinstance(record, _JobRecord):
            jobs.append(record)
            last_job[record.job_id_raw] = record
        elif record.job_id_raw in last_job:
            last_job[record.job_id_raw].steps.append(record)
        else:
            orphans.append(record)
    if header is None:
        raise ImportFormatError(f"{source}: no header line (sacct -P output needs its header)")
    if errors:
        shown = "\n".join("  " + e for e in errors[:50])
        more = f"\n  (and {len(errors) - 50} more)" if len(errors) > 50 else ""
        raise ImportFormatError(
            f"{source}: {len(errors)} unreadable rows; nothing was imported\n{shown}{more}"
        )
    return jobs, orphans, ignored


def _read_header(cells: list[str]) -> tuple[list[str], bool, list[str], str | None]:
    if cells and cells[0].startswith("\ufeff"):
        cells = [cells[0][1:], *cells[1:]]  # a UTF-8 byte-order mark (files saved on Windows)
    trailing = len(cells) > 1 and cells[-1] == ""
    names = cells[:-1] if trailing else cells
    ignored = []
    for name in names:
        if name not in _JOB_AND_STEP:
            if name.lower() not in FIELDS_BY_NAME:
                return names, trailing, [], f"unknown field '{name}' in the header"
            ignored.append(name)
    if "JobID" not in names and "JobIDRaw" not in names:
        return names, trailing, [], "the header needs JobID or JobIDRaw"
    if "Submit" not in names:
        return names, trailing, [], "the header needs Submit (records are keyed by it)"
    return names, trailing, ignored, None


def _read_row(row: dict[str, str], line: int, default_cluster: str) -> _JobRecord | _StepRecord:
    shown = parse_displayed(row["JobID"]) if "JobID" in row else None
    raw = parse_displayed(row["JobIDRaw"]) if "JobIDRaw" in row else None
    ident = raw or shown
    assert ident is not None
    if raw is None and shown is not None and shown.array_task is not None:
        raise ValueError(f"array task {row['JobID']} needs the JobIDRaw field to be imported")
    step_id = ident.step_id
    is_step = step_id is not None
    values: dict[str, Any] = {}
    parsed: dict[str, Any] = {}
    for name, text in row.items():
        spec = _JOB_AND_STEP.get(name)
        if spec is None or _SUPERSEDED_BY.get(name) in row:
            continue
        job_cols, step_cols, parse = spec
        if is_step and not step_cols and name not in _STEP_SPECIAL:
            continue  # job-only fields are blank on step rows
        try:
            value = parse(text)
        except ValueError as exc:
            raise ValueError(f"bad {name} '{text}': {exc}") from None
        parsed[name] = value
        for column in step_cols if is_step else job_cols:
            values[column] = value
    if is_step:
        assert step_id is not None
        if "State" in parsed:
            values["state"], values["kill_requid"] = parsed["State"]
        if "ExitCode" in parsed:
            values.update(_exit_columns(parsed["ExitCode"]))
        return _StepRecord(line, ident.job_id, step_id, ident.step_het_component, values)
    if shown is not None:
        if shown.array_task is not None:
            values["array_job_id"], values["array_task_id"] = shown.job_id, shown.array_task
        if shown.array_task_str is not None:
            values["array_job_id"], values["array_task_str"] = shown.job_id, shown.array_task_str
        if shown.het_offset is not None:
            values["het_job_id"], values["het_job_offset"] = shown.job_id, shown.het_offset
    if "State" in parsed:
        values["state"], values["kill_requid"] = parsed["State"]
    submit = parsed["Submit"]
    if submit is None:
        raise ValueError("a job row needs a Submit time")
    return _JobRecord(
        line=line,
        cluster=check_cluster_name(parsed.get("Cluster") or default_cluster),
        job_id_raw=ident.job_id,
        time_submit=submit,
        values=values,
        state=parsed.get("State"),
        exit_code=parsed.get("ExitCode", False),
        derived=parsed.get("DerivedExitCode", False),
    )


def _exit_columns(value: ExitCode | None) -> dict[str, int | None]:
    if value is None:
        return {"exit_code": None, "exit_signal": None}
    return {"exit_code": value.code, "exit_signal": value.signal}


def import_sacct(
    session: Session,
    lines: Iterable[str],
    default_cluster: str,
    source: str = "<stdin>",
) -> ImportResult:
    """Import one sacct output into the store, inside the caller's transaction.

    Raises:
        ImportFormatError: for unreadable rows, or step rows whose job is in neither the file
            nor the store. Nothing is written then (the caller rolls back).
    """
    jobs, orphans, ignored = parse_sacct_output(lines, default_cluster, source)
    result = ImportResult(ignored_fields=ignored)
    for rec in jobs:
        values = dict(rec.values)
        if rec.exit_code is not False:
            values.update(_exit_columns(rec.exit_code))  # type: ignore[arg-type]
        if (
            "uid" not in values
            and store.find_job(session, rec.cluster, rec.job_id_raw, rec.time_submit) is None
        ):
            raise ImportFormatError(f"{source}:{rec.line}: a new job record needs the UID field")
        job, changed = store.upsert_job(
            session, rec.cluster, rec.job_id_raw, rec.time_submit, values, _JOB_DEFAULTS
        )
        result.jobs_seen += 1
        steps_changed = _store_steps(session, job, rec.steps, result)
        before = (job.derived_exit_code, job.derived_exit_signal, job.derived_annotated)
        if isinstance(rec.derived, ExitCode):
            store.set_derived_from_record(session, job, rec.derived)
        elif steps_changed:
            store.refresh_derived(session, job)
        after = (job.derived_exit_code, job.derived_exit_signal, job.derived_annotated)
        if changed or before != after:
            result.jobs_changed += 1
    for step in orphans:
        start = step.values.get("time_start")
        owner = store.newest_job(session, default_cluster, step.job_id_raw, start)
        if owner is None:
            owner = store.newest_job(session, None, step.job_id_raw, start)
        if owner is None:
            raise ImportFormatError(
                f"{source}:{step.line}: step of job {step.job_id_raw}, which is in neither"
                " the file nor the store"
            )
        if _store_steps(session, owner, [step], result):
            store.refresh_derived(session, owner)
    return result


_STEP_SPECIAL = {"State", "ExitCode", "JobID", "JobIDRaw"}
_JOB_DEFAULTS = {"state": "PENDING"}
_STEP_DEFAULTS = {"state": "PENDING"}


def _store_steps(
    session: Session, job: Any, steps: list[_StepRecord], result: ImportResult
) -> bool:
    seen, changed, counted = store.store_steps(session, job, steps, _STEP_DEFAULTS)
    result.steps_seen += seen
    result.steps_changed += changed
    return counted
