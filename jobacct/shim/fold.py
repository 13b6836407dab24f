"""A job's lifecycle events -> the values of its job and step records (pure, no I/O).

The record is a function of the *set* of a job's events, not of their arrival order: the
events are folded in the controller's sequence order (``seq``), so any permutation of a stream,
with or without duplicates, gives the same values (tracker issue 5). Within that order the
rules are:

* ``job_submit`` owns the submission fields; ``job_start`` the allocation (its node list
  replaces the requested one); ``job_end`` the terminal state, end time, exit code, reason and
  kill_requid. Of two reports of the same thing the one with the higher ``seq`` wins, value
  by value: a value the newer report lacks (None) comes from the older one, so the event
  stream and jobcomp/script (whose fixed ``seq`` comes last and which knows no canceller)
  feeding one store agree (tracker issue 11, finding 6). A job's kill_requid comes only from
  reports of the same end state.
* Job state: the last ``job_end``'s state (REQUEUED for a requeued run, §5.1), else RUNNING
  once started, else PENDING; a terminal state therefore wins over a running one whatever the
  arrival order. A terminal state written by a request (a cancel, ``jobacct.signal``) is not
  in the events: ``apply`` keeps it against a later PENDING or RUNNING (finding 5).
* Step state: the ``step_end``'s state when the controller sent one (already terminal, e.g.
  TIMEOUT, NODE_FAIL), else derived from the raw exit code as slurmdbd does
  (``as_mysql_step_complete``, slurm-semantics.md §1.6): 253 -> OUT_OF_MEMORY, signalled ->
  CANCELLED, non-zero -> FAILED, zero -> COMPLETED with kill_requid cleared. A step with no
  end while its job has ended is CANCELLED with no exit code (§1.6, NO_VAL).
* Job exit code: the controller's raw value, with slurmdbd's rewrite of exactly 1 to 256
  (§1.4 "DB quirk"); NO_VAL is no exit code (sacct prints it empty).
* DerivedExitCode: Slurm's rule (§2.1, ``store.computed_derived``) over the steps in
  completion order; when the ``job_end`` carried the controller's value, that value goes first
  and the steps' values are merged into it as slurmdbd >= 24.05 merges late steps (§2.2).
* The job's CPU times are the sums over its finished steps (as ``import slurmdbd``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jobacct.exitcode import ExitCode, derive_exit_code
from jobacct.jobid import STEP_NAMES
from jobacct.shim.events import JobEnd, JobStart, JobSubmit, StepEnd, StepStart, step_key
from jobacct.store import counts_for_derived

StepKey = tuple[int, int | None]
LifecycleEvent = JobSubmit | JobStart | StepStart | StepEnd | JobEnd

#: Values of NOT NULL job columns for a record created before its ``job_submit`` arrived
#: (constants, so a placeholder never depends on which event came first). uid NO_VAL: unknown.
JOB_PLACEHOLDER: dict[str, Any] = {
    "uid": 0xFFFFFFFE,
    "job_name": "",
    "state": "PENDING",
    "nnodes": 0,
    "ncpus": 0,
    "time_suspended": 0,
    "derived_exit_code": 0,
    "derived_exit_signal": 0,
    "derived_annotated": False,
    "computed_exit_code": 0,
    "computed_exit_signal": 0,
}
STEP_PLACEHOLDER: dict[str, Any] = {"time_suspended": 0}

_SUBMIT_FIELDS = (
    "uid",
    "user_name",
    "gid",
    "group_name",
    "account",
    "partition",
    "qos",
    "array_job_id",
    "array_task_id",
    "array_task_str",
    "het_job_id",
    "het_job_offset",
    "timelimit",
    "req_cpus",
    "req_nodes",
    "req_mem",
    "nodelist",
    "work_dir",
    "comment",
    "wckey",
    "reservation",
    "flags",
    "constraints",
)
#: Every job column the fold may set (the shim writes no other).
JOB_COLUMNS: tuple[str, ...] = (
    *_SUBMIT_FIELDS,
    "job_name",
    "time_eligible",
    "time_start",
    "nnodes",
    "ncpus",
    "time_end",
    "state",
    "exit_code",
    "exit_signal",
    "reason",
    "kill_requid",
    "computed_exit_code",
    "computed_exit_signal",
    "derived_exit_code",
    "derived_exit_signal",
    "user_cpu_usec",
    "system_cpu_usec",
    "total_cpu_usec",
)
#: Every step column the fold sets, for every step it knows.
STEP_COLUMNS: tuple[str, ...] = (
    "step_name",
    "time_start",
    "nodelist",
    "nnodes",
    "ntasks",
    "ncpus",
    "time_end",
    "state",
    "exit_code",
    "exit_signal",
    "kill_requid",
    "max_rss",
    "user_cpu_usec",
    "system_cpu_usec",
    "total_cpu_usec",
)
#: Derived columns a user's annotation protects (``Job.derived_annotated``).
ANNOTATED_COLUMNS = frozenset({"derived_exit_code", "derived_exit_signal"})
_UNFINISHED = frozenset({"PENDING", "RUNNING", "SUSPENDED"})
#: slurmdbd stores a controller exit code of exactly 1 as 256: "set by Slurm" (§1.4).
_SLURM_SET_ONE = 1


@dataclass
class Folded:
    """The record values a set of events gives: job columns, and step columns per step."""

    job: dict[str, Any] = field(default_factory=dict)
    steps: dict[StepKey, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _StepEvents:
    start: StepStart | None = None
    end: StepEnd | None = None


def _seq(event: Any) -> int:
    return int(event.seq)


class _Reports:
    """Several reports of one job event (a ``job_submit``, ``job_start`` or ``job_end``).

    One job can be fed by two transports, the event stream and jobcomp/script (§7.2), whose
    fixed sequence numbers put its reports after the stream's. jobcomp/script knows less (no
    canceller, no comment, no steps), so a value missing from the newest report (None) is
    taken from the newest report that has it: the transports complete each other, in any
    order, and a value is only replaced by another value.
    """

    def __init__(self, events: list[Any]) -> None:
        self.reports = sorted(events, key=_seq, reverse=True)
        self.last = self.reports[0]

    def get(self, name: str, among: list[Any] | None = None) -> Any:
        for report in self.reports if among is None else among:
            value = getattr(report, name)
            if value is not None:
                return value
        return None


def fold(events: Iterable[LifecycleEvent]) -> Folded:
    """Fold a job's lifecycle events (any order; duplicates by seq count once)."""
    by_seq: dict[int, LifecycleEvent] = {}
    for event in events:
        by_seq.setdefault(event.seq, event)
    submits: list[JobSubmit] = []
    starts: list[JobStart] = []
    ends: list[JobEnd] = []
    steps: dict[StepKey, _StepEvents] = {}
    for seq in sorted(by_seq):
        event = by_seq[seq]
        kind = event.type
        if kind == "job_submit":
            submits.append(event)  # type: ignore[arg-type]
        elif kind == "job_start":
            starts.append(event)  # type: ignore[arg-type]
        elif kind == "job_end":
            ends.append(event)  # type: ignore[arg-type]
        elif kind == "step_start":
            steps.setdefault(step_key(event.step), _StepEvents()).start = event  # type: ignore[union-attr,assignment]
        else:
            steps.setdefault(step_key(event.step), _StepEvents()).end = event  # type: ignore[union-attr,assignment]
    out = Folded()
    job = out.job
    if submits:
        submit = _Reports(submits)
        for name in _SUBMIT_FIELDS:
            job[name] = submit.get(name)
        job["job_name"] = submit.get("job_name") or ""
        job["time_eligible"] = submit.get("eligible")
    if starts:
        start = _Reports(starts)
        job["time_start"] = start.get("time")
        job["nodelist"] = start.get("nodelist") or None  # "": none allocated (pending cancel)
        job["nnodes"] = start.get("nnodes")
        job["ncpus"] = start.get("ncpus")
        if submits and job["time_eligible"] is None and job["nodelist"]:
            # A job that ran was eligible. Without the controller's word on when, take its
            # submission: slurmdbd writes the begin time as time_eligible at job start
            # (as_mysql_job_start), and that is the submit time unless --begin/--hold said
            # otherwise. Left NULL, the job would be hidden from every windowed sacct (§4.7).
            job["time_eligible"] = submits[0].submit
    end: JobEnd | None = None
    if ends:
        reports = _Reports(ends)
        end = reports.last
        job["time_end"] = end.time
        raw = end.raw_exit()
        if raw == _SLURM_SET_ONE:
            raw = 256
        job["exit_code"], job["exit_signal"] = _decode(raw)
        job["reason"] = reports.get("reason")
        # The canceller of this end: from a report of the same end (same state) that knows it.
        same_end = [r for r in reports.reports if r.state == end.state]
        job["kill_requid"] = reports.get("kill_requid", same_end)
    if submits or starts or ends:
        job["state"] = end.state if end is not None else "RUNNING" if starts else "PENDING"
    if submits:
        # A job that got no allocation (pending, or cancelled while pending: its late
        # job_start has no nodes) counts what it asked for: sacct's NNodes and AllocCPUS read
        # tres_alloc, or tres_req when that is empty (print.c PRINT_NNODES, PRINT_ALLOC_CPUS).
        if not job.get("nnodes") and job.get("req_nodes"):
            job["nnodes"] = job["req_nodes"]
        if not job.get("ncpus") and job.get("req_cpus"):
            job["ncpus"] = job["req_cpus"]
    for key, pair in steps.items():
        out.steps[key] = _fold_step(key, pair, end)
    # The controller's DerivedExitCode at job end: the newest report that carries one.
    newest_first = sorted(ends, key=_seq, reverse=True)
    derived = next((v for r in newest_first if (v := r.derived_value()) is not None), None)
    _job_from_steps(job, out.steps, derived)
    return out


def _decode(raw: int | None) -> tuple[int | None, int | None]:
    """(code, signal) of a raw status (§1.2); None (NO_VAL) gives (None, None)."""
    if raw is None:
        return None, None
    value = ExitCode.from_wait_status(raw)
    return value.code, value.signal


def _stored(values: Mapping[str, Any]) -> ExitCode | None:
    """The exit code of a folded step's stored halves; None if it never reported."""
    code, signal = values["exit_code"], values["exit_signal"]
    if code is None and signal is None:
        return None
    return ExitCode(code or 0, signal or 0)


def _fold_step(key: StepKey, pair: _StepEvents, job_end: JobEnd | None) -> dict[str, Any]:
    start, end = pair.start, pair.end
    default_name = STEP_NAMES.get(key[0], "") if key[0] < 0 else ""
    values: dict[str, Any] = {
        "step_name": (start.step_name if start and start.step_name is not None else default_name),
        "time_start": start.time if start else None,
        "nodelist": start.nodelist if start else None,
        "nnodes": (start.nnodes or 0) if start else 0,
        "ntasks": (start.ntasks or 0) if start else 0,
        "ncpus": (start.ncpus or 0) if start else 0,
        "time_end": None,
        "state": "RUNNING",
        "exit_code": None,
        "exit_signal": None,
        "kill_requid": None,
        "max_rss": None,
        "user_cpu_usec": None,
        "system_cpu_usec": None,
        "total_cpu_usec": None,
    }
    if end is not None:
        raw = end.raw_exit()
        code, signal = _decode(raw)
        state = end.state or step_state(raw)
        values.update(
            time_end=end.time,
            state=state,
            exit_code=code,
            exit_signal=signal,
            kill_requid=None if state == "COMPLETED" else end.kill_requid,
            max_rss=end.max_rss,
            user_cpu_usec=end.user_cpu_usec,
            system_cpu_usec=end.system_cpu_usec,
        )
        if end.user_cpu_usec is not None or end.system_cpu_usec is not None:
            values["total_cpu_usec"] = (end.user_cpu_usec or 0) + (end.system_cpu_usec or 0)
    elif job_end is not None:
        # The job ended first and this step never reported: NO_VAL, shown CANCELLED (§1.6).
        values.update(time_end=job_end.time, state="CANCELLED")
    return values


def step_state(raw: int | None) -> str:
    """The state slurmdbd derives from a step's raw exit status (§1.6); None is NO_VAL."""
    if raw is None:
        return "CANCELLED"
    if raw & 0xFF == 253:
        return "OUT_OF_MEMORY"
    low = raw & 0x7F
    if low not in (0, 0x7F):
        return "CANCELLED"
    return "FAILED" if raw != 0 else "COMPLETED"


def _job_from_steps(
    job: dict[str, Any],
    steps: Mapping[StepKey, Mapping[str, Any]],
    reported: ExitCode | None,
) -> None:
    counted = sorted(
        ((key, s) for key, s in steps.items() if counts_for_derived(key[0])),
        key=lambda item: (
            item[1]["time_end"] is None,
            item[1]["time_end"] or 0,
            item[0][0],
            item[0][1] or 0,
        ),
    )
    # Slurm's rule (§2.1): the computed value from the steps alone; the shown value starts
    # from what the controller reported at job end, and later steps still replace it.
    codes = [_stored(s) for _, s in counted]
    computed = derive_exit_code(codes)
    shown = computed if reported is None else derive_exit_code(codes, start=reported)
    if steps or reported is not None:
        job["computed_exit_code"], job["computed_exit_signal"] = computed.code, computed.signal
        job["derived_exit_code"], job["derived_exit_signal"] = shown.code, shown.signal
    finished = [s for s in steps.values() if s["state"] not in _UNFINISHED]
    if any(s["user_cpu_usec"] is not None or s["system_cpu_usec"] is not None for s in finished):
        user = sum(s["user_cpu_usec"] or 0 for s in finished)
        system = sum(s["system_cpu_usec"] or 0 for s in finished)
        job.update(user_cpu_usec=user, system_cpu_usec=system, total_cpu_usec=user + system)
