"""Job and step objects shaped like ``sacct --json`` of Slurm 22.05 (openapi/dbv0.0.38).

The key names and nesting are those of the real 22.05.8 output (golden
``sacct/07_json.txt``, slurm-semantics.md §4.11): every job key and every step key 22.05
prints is present, in 22.05's order. Values come from the store; what jobacct does not store
is ``null`` (or an empty list where 22.05 has a list). The decisions, and where jobacct
deliberately differs from 22.05:

* ``exit_code`` / ``derived_exit_code``: ``{"status", "return_code"}`` plus ``"signal":
  {"signal_id", "name"}`` for a signal, as 22.05 prints them, but with the **right** code.
  22.05.8 prints every non-signal exit as ``{"status": "SUCCESS", "return_code": 0}`` (a
  known data_parser bug: ``exit 3`` comes out as success); jobacct prints ``{"status":
  "ERROR", "return_code": 3}``. Exit 0 is ``SUCCESS``/0; a signal is ``SIGNALED`` with
  ``return_code`` null and glibc's ``strsignal`` text as ``name`` ("Killed", "Segmentation
  fault", "Real-time signal 15", "Unknown signal 125"), fixed here so it does not depend on
  the platform. An exit code never recorded (sacct's empty ExitCode, Slurm's NO_VAL) is
  ``{"status": "PENDING", "return_code": null}``. ``CORE_DUMPED`` never appears: the
  core-dump bit is not stored. ``return_code`` is the recorded exit status as it is (a
  shell's exit 137 is 137): sacct's ``-128`` rule belongs to its text ExitCode field
  (print.c ``PRINT_EXITCODE``, slurm-semantics.md §1.2), not to the JSON dumper, which never
  used it; ``exit_code`` and ``derived_exit_code`` follow the same rule.
* ``state``: ``{"current": <base state>, "reason": <reason>}``; a cancellation's uid is not
  in ``current`` (sacct's "CANCELLED by 0") but in ``kill_request_user``, as a user name (the
  owner's name when the owner cancelled, else the passwd name, else the uid as a string).
* ``time``: epoch seconds; a time jobacct does not know (not started yet, still running) is
  0, as in 22.05; the start of a job that ended without starting is null, as in 22.05.
  ``elapsed`` is sacct's Elapsed (running jobs count up to now). ``limit`` is
  minutes, null for UNLIMITED / not set. ``user``/``system``/``total`` CPU times are the
  stored ones (22.05 prints 0 for jobs; jobacct has the values sacct shows as UserCPU, ...).
* ``flags``: sacct's Flags as data_parser names (SchedMain -> ``STARTED_ON_SCHEDULE``,
  SchedSubmit -> ``STARTED_ON_SUBMIT``, SchedBackfill -> ``STARTED_ON_BACKFILL``,
  SchedNotSet -> ``NOT_SET``, StartRecieved -> ``START_RECEIVED``). 22.05 also prints
  ``CLEAR_SCHEDULING``, a mask rather than a flag; jobacct does not.
* ``tres.allocated`` / ``tres.requested`` (and a step's ``tres.allocated``): the TRES strings
  as ``{"type", "name", "id", "count"}`` entries ordered by TRES id (``gres/gpu`` is type
  ``gres``, name ``gpu``; ids are known for the eight built-in TRES only); memory counts are
  MiB. A step's ``tres.requested`` / ``tres.consumed`` (``max``, ``min``, ``average``,
  ``total``) come from its stored TRESUsageIn* / TRESUsageOut* cells: CPU in milliseconds,
  memory and disk in bytes, ``task``/``node`` from the *Task/*Node cells (null where those
  name no task). Records stored without them get empty lists, except ``requested.max``
  holding the step's MaxRSS when known.
* ``array.task`` of an array record with pending tasks is sacct's task list text
  (``4-7%2``); 22.05.8 prints slurmdbd's stored bitmap (``0xF0``), which the store does not
  keep.
* ``statistics.CPU.actual_frequency`` is AveCPUFreq in kHz, ``statistics.energy.consumed``
  ConsumedEnergy (22.05 printed 0 for both).
* ``required.memory`` is the stored ReqMem in MiB (22.05 printed 0); ``reservation.name``
  the reservation's name (22.05 printed 0).
* Things jobacct does not store, or does not know for a record, are null: ``container``,
  ``mcs.label``, ``reservation.id`` (22.05: 0 or ""), ``association.partition``, a step's
  ``pid``; ``CPU.governor`` is an empty list.
"""

from __future__ import annotations

import functools
import pwd
from typing import Any

import hostlist

from jobacct.fields import Ctx
from jobacct.jobid import step_name
from jobacct.slurmtime import parse_cpu_time
from jobacct.units import parse_size

#: Slurm's sentinels for a time limit that is not a number of minutes.
_INFINITE = 0xFFFFFFFF
_NO_VAL = 0xFFFFFFFE

#: TRES with fixed ids in every slurmdbd (``tres_table``).
TRES_IDS: dict[str, int] = {
    "cpu": 1,
    "mem": 2,
    "energy": 3,
    "node": 4,
    "billing": 5,
    "fs/disk": 6,
    "vmem": 7,
    "pages": 8,
}
_MEMORY_TRES = frozenset({"mem", "vmem"})

#: sacct's Flags words -> data_parser flag names.
JOB_FLAGS: dict[str, str] = {
    "SchedNotSet": "NOT_SET",
    "SchedSubmit": "STARTED_ON_SUBMIT",
    "SchedMain": "STARTED_ON_SCHEDULE",
    "SchedBackfill": "STARTED_ON_BACKFILL",
    "StartRecieved": "START_RECEIVED",
}

#: glibc's strsignal() texts (what Slurm's data_parser prints as the signal name).
_SIGNAL_NAMES = (
    "Hangup",
    "Interrupt",
    "Quit",
    "Illegal instruction",
    "Trace/breakpoint trap",
    "Aborted",
    "Bus error",
    "Floating point exception",
    "Killed",
    "User defined signal 1",
    "Segmentation fault",
    "User defined signal 2",
    "Broken pipe",
    "Alarm clock",
    "Terminated",
    "Stack fault",
    "Child exited",
    "Continued",
    "Stopped (signal)",
    "Stopped",
    "Stopped (tty input)",
    "Stopped (tty output)",
    "Urgent I/O condition",
    "CPU time limit exceeded",
    "File size limit exceeded",
    "Virtual timer expired",
    "Profiling timer expired",
    "Window changed",
    "I/O possible",
    "Power failure",
    "Bad system call",
)
_SIGRTMIN, _SIGRTMAX = 34, 64


def signal_name(signal: int) -> str:
    """glibc's ``strsignal(signal)``, independent of the platform."""
    if 1 <= signal <= len(_SIGNAL_NAMES):
        return _SIGNAL_NAMES[signal - 1]
    if _SIGRTMIN <= signal <= _SIGRTMAX:
        return f"Real-time signal {signal - _SIGRTMIN}"
    return f"Unknown signal {signal}"


def exit_code_object(code: int | None, signal: int | None) -> dict[str, Any]:
    """An ``exit_code`` object: SUCCESS, ERROR with the code, SIGNALED, or PENDING."""
    if code is None and signal is None:
        return {"status": "PENDING", "return_code": None}
    if signal:
        return {
            "status": "SIGNALED",
            "return_code": None,
            "signal": {"signal_id": signal, "name": signal_name(signal)},
        }
    if code:
        return {"status": "ERROR", "return_code": code}
    return {"status": "SUCCESS", "return_code": 0}


def _tres_count(key: str, value: str, usage: bool) -> int | None:
    if value.isdigit():
        return int(value)
    try:
        if usage and key == "cpu":
            # Usage strings print CPU time (Slurm counts it in milliseconds).
            return parse_cpu_time(value) // 1000
        # Allocations print memory in MiB units (16000M), usage in bytes (3300K).
        return parse_size(value, "M" if key in _MEMORY_TRES and not usage else "")
    except ValueError:
        return None


def _pairs(text: str | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in (text or "").split(","):
        key, sep, value = item.partition("=")
        if sep and key:
            pairs[key] = value
    return pairs


def tres_list(
    text: str | None,
    *,
    usage: bool = False,
    nodes: str | None = None,
    tasks: str | None = None,
) -> list[dict[str, Any]]:
    """A TRES string as data_parser TRES entries ``{"type", "name", "id", "count"}``, by id.

    ``billing=1,cpu=1,mem=16000M,node=1`` is an allocation (memory in MiB); with ``usage``
    the string is a step's TRESUsage* cell (CPU as a time -> milliseconds, memory in bytes).
    ``nodes``/``tasks`` (the matching ``*Node``/``*Task`` cells) add ``"task"`` and ``"node"``
    to each entry, as 22.05 does for max and min.
    """
    if not text:
        return []
    # TRES strings repeat from job to job: parse each distinct one once. The entries are
    # shared between jobs and must not be changed.
    return list(_parse_tres(text, usage, nodes, tasks))


@functools.lru_cache(maxsize=4096)
def _parse_tres(
    text: str, usage: bool, nodes: str | None, tasks: str | None
) -> tuple[dict[str, Any], ...]:
    node_of = _pairs(nodes)
    task_of = _pairs(tasks)
    with_where = nodes is not None or tasks is not None
    entries: list[dict[str, Any]] = []
    for key, value in _pairs(text).items():
        kind, _, name = key.partition("/")
        entry: dict[str, Any] = {
            "type": kind,
            "name": name or None,
            "id": TRES_IDS.get(key),
            "count": _tres_count(key, value, usage),
        }
        if with_where:
            task = task_of.get(key)
            entry["task"] = int(task) if task is not None and task.isdigit() else None
            entry["node"] = node_of.get(key)
        entries.append(entry)
    entries.sort(key=lambda e: (e["id"] is None, e["id"] or 0, e["type"], e["name"] or ""))
    return tuple(entries)


_USAGE_STATS = ("max", "max_node", "max_task", "min", "min_node", "min_task", "ave", "tot")
#: The row attributes of each direction's statistics, in :data:`_USAGE_STATS` order.
_USAGE_ATTRS = {
    direction: tuple(f"s_tres_usage_{direction}_{stat}" for stat in _USAGE_STATS)
    for direction in ("in", "out")
}


def _step_usage(r: Any, direction: str) -> dict[str, list[dict[str, Any]]]:
    values = [getattr(r, attr, None) for attr in _USAGE_ATTRS[direction]]
    mx, mx_node, mx_task, mn, mn_node, mn_task, ave, tot = (
        v if isinstance(v, str) else None for v in values
    )
    usage: dict[str, list[dict[str, Any]]] = {
        "max": tres_list(mx, usage=True, nodes=mx_node or "", tasks=mx_task or "") if mx else [],
        "min": tres_list(mn, usage=True, nodes=mn_node or "", tasks=mn_task or "") if mn else [],
        "average": tres_list(ave, usage=True) if ave else [],
        "total": tres_list(tot, usage=True) if tot else [],
    }
    if direction == "in" and not usage["max"] and r.s_max_rss is not None:
        # Stores without the TRES usage strings still know the step's MaxRSS.
        usage["max"].append(
            {"type": "mem", "name": None, "id": 2, "count": r.s_max_rss, "task": None, "node": None}
        )
    return usage


def _cpu_time(usec: int | None) -> dict[str, int]:
    seconds, micro = divmod(usec or 0, 1_000_000)
    return {"seconds": seconds, "microseconds": micro}


def _total_cpu(total: int | None, user: int | None, system: int | None) -> int:
    return total if total is not None else (user or 0) + (system or 0)


def _elapsed(start: int | None, end: int | None, suspended: int | None, now: int) -> int:
    if start is None:
        return 0
    stop = now if end is None else end
    return max(stop - start - (suspended or 0), 0)


def _time_limit(minutes: int | None) -> int | None:
    if minutes is None or minutes in (_INFINITE, _NO_VAL):
        return None
    return minutes


def _frequency(value: int | None) -> int | None:
    # A requested CPU frequency in kHz; NO_VAL (not requested) is null. Values with the
    # CPU_FREQ_RANGE_FLAG bit (Low, High, a governor...) are Slurm's raw flag values.
    if value is None or value in (_INFINITE, _NO_VAL):
        return None
    return value


def _flags(text: str | None) -> list[str]:
    if not text or text == "None":
        return []
    return [JOB_FLAGS.get(word, word) for word in text.split(",") if word]


class UserNames:
    """uid -> user name for ``kill_request_user``, looked up once per uid."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}

    def name(self, uid: int | None, owner_uid: int | None, owner_name: str | None) -> str | None:
        """The name of ``uid`` (None for None): the owner's stored name, passwd, or the uid."""
        if uid is None:
            return None
        if uid == owner_uid and owner_name:
            return owner_name
        known = self._names.get(uid)
        if known is None:
            try:
                known = pwd.getpwuid(uid).pw_name
            except (KeyError, OverflowError):
                known = str(uid)
            self._names[uid] = known
        return known


def job_object(r: Any, ctx: Ctx, users: UserNames) -> dict[str, Any]:
    """The job part of a query row (columns of the ``job`` table), without its steps.

    ``steps`` is an empty list, to be filled with :func:`step_object` results.
    """
    return {
        "account": r.account,
        "comment": {
            "administrator": r.admin_comment,
            "job": r.comment,
            "system": r.system_comment,
        },
        "allocation_nodes": r.nnodes,
        "array": {
            "job_id": r.array_job_id or 0,
            "limits": {"max": {"running": {"tasks": r.array_max_tasks or 0}}},
            "task": r.array_task_str or None,
            "task_id": r.array_task_id,
        },
        "association": {
            "account": r.account,
            "cluster": r.cluster,
            "partition": None,
            "user": r.user_name,
        },
        "cluster": r.cluster,
        "constraints": r.constraints or "",
        "container": getattr(r, "container", None),
        "derived_exit_code": exit_code_object(r.derived_exit_code, r.derived_exit_signal),
        "time": {
            "elapsed": _elapsed(r.time_start, r.time_end, r.time_suspended, ctx.now),
            "eligible": r.time_eligible or 0,
            "end": r.time_end or 0,
            # A job that ended without starting reaches sacct with start NO_VAL, which the
            # 22.05 data_parser prints as null (real 22.05.8, tests/test_oracle.py).
            "start": (r.time_start or 0) if r.time_start or r.time_end is None else None,
            "submission": r.time_submit or 0,
            "suspended": r.time_suspended or 0,
            "system": _cpu_time(r.system_cpu_usec),
            "limit": _time_limit(r.timelimit),
            "total": _cpu_time(_total_cpu(r.total_cpu_usec, r.user_cpu_usec, r.system_cpu_usec)),
            "user": _cpu_time(r.user_cpu_usec),
        },
        "exit_code": exit_code_object(r.exit_code, r.exit_signal),
        "flags": _flags(r.flags),
        "group": r.group_name,
        "het": {"job_id": r.het_job_id or 0, "job_offset": r.het_job_offset},
        "job_id": r.job_id_raw,
        "name": r.job_name,
        "mcs": {"label": getattr(r, "mcs_label", None)},
        "nodes": r.nodelist or "None assigned",
        "partition": r.partition,
        "priority": r.priority,
        "qos": r.qos,
        "required": {"CPUs": r.req_cpus, "memory": r.req_mem},
        "kill_request_user": users.name(r.kill_requid, r.uid, r.user_name),
        "reservation": {"id": getattr(r, "resv_id", None), "name": r.reservation},
        "state": {"current": r.state, "reason": r.reason or "None"},
        "steps": [],
        "tres": {"allocated": tres_list(r.alloc_tres), "requested": tres_list(r.req_tres)},
        "user": r.user_name,
        "wckey": {"wckey": r.wckey or "", "flags": []},
        "working_directory": r.work_dir,
    }


def _hosts(nodelist: str | None) -> list[str]:
    return list(_expand(nodelist)) if nodelist else []


@functools.lru_cache(maxsize=4096)
def _expand(nodelist: str) -> tuple[str, ...]:
    try:
        return tuple(hostlist.expand_hostlist(nodelist))
    except hostlist.BadHostlist:
        return (nodelist,)


def step_object(r: Any, ctx: Ctx, users: UserNames) -> dict[str, Any]:
    """A step of a query row (its ``s_*`` columns), as an element of a job's ``steps``."""
    step_id: int | str = r.s_step_id if r.s_step_id >= 0 else step_name(r.s_step_id)
    return {
        "nodes": {
            "list": _hosts(r.s_nodelist),
            "count": r.s_nnodes,
            "range": r.s_nodelist or "",
        },
        "tres": {
            "requested": _step_usage(r, "in"),
            "consumed": _step_usage(r, "out"),
            "allocated": tres_list(r.s_alloc_tres),
        },
        "time": {
            "elapsed": _elapsed(r.s_time_start, r.s_time_end, r.s_time_suspended, ctx.now),
            "end": r.s_time_end or 0,
            "start": r.s_time_start or 0,
            "suspended": r.s_time_suspended or 0,
            "system": _cpu_time(r.s_system_cpu_usec),
            "total": _cpu_time(
                _total_cpu(r.s_total_cpu_usec, r.s_user_cpu_usec, r.s_system_cpu_usec)
            ),
            "user": _cpu_time(r.s_user_cpu_usec),
        },
        "exit_code": exit_code_object(r.s_exit_code, r.s_exit_signal),
        "tasks": {"count": r.s_ntasks},
        "pid": None,
        "CPU": {
            "requested_frequency": {
                "min": _frequency(getattr(r, "s_req_cpufreq_min", None)),
                "max": _frequency(getattr(r, "s_req_cpufreq_max", None)),
            },
            "governor": [],
        },
        "kill_request_user": users.name(r.s_kill_requid, r.uid, r.user_name),
        "state": r.s_state,
        "statistics": {
            "CPU": {"actual_frequency": getattr(r, "s_ave_cpufreq", None)},
            "energy": {"consumed": getattr(r, "s_consumed_energy", None)},
        },
        "step": {
            "job_id": r.job_id_raw,
            "het": {"component": r.s_step_het_component},
            "id": step_id,
            "name": r.s_step_name,
        },
        "task": {"distribution": getattr(r, "s_layout", None)},
    }
