"""``jobcomp/script`` environment -> shim events (slurm-semantics.md §7.2).

slurmctld runs ``JobCompLoc`` once per finished job with an environment holding only its
own variables (``JOBID``, ``SUBMIT``, ``START``, ``END``, ``JOBSTATE``, ``EXITCODE``,
``DERIVED_EC``, ...; empty when unset). jobcomp/script gives no sequence number, so the
events get fixed sequence numbers above any a controller would use (:data:`JOBCOMP_SEQ`):
running the script again with the same environment gives the same events, which the journal
recognises as duplicates. There is no cancelling-user variable (§7.2), so a cancelled job's
``kill_requid`` stays unknown, and the job's steps are not in the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobacct.errors import UsageError
from jobacct.exitcode import ExitCode, ExitCodeError
from jobacct.slurmtime import parse_timelimit

#: seq of the jobcomp job_submit; job_start and job_end follow it (+1, +2).
JOBCOMP_SEQ = 1 << 62
#: ``ARRAYTASKID`` of a job that is not an array task (NO_VAL, §7.2).
_NO_TASK = "4294967294"
_NO_NODES = frozenset({"", "None assigned", "(null)"})
#: JOBSTATE values that are not a job's end: a resize writes a record and the job goes on.
_NOT_AN_END = frozenset({"RESIZING"})


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _int(env: Mapping[str, str], name: str, *, required: bool = False) -> int | None:
    text = _get(env, name)
    if not text:
        if required:
            raise UsageError(f"jobcomp: environment variable {name} is missing or empty")
        return None
    if not text.isdigit():
        raise UsageError(f"jobcomp: {name}='{text}' is not a number")
    return int(text)


def _text(env: Mapping[str, str], name: str) -> str | None:
    return _get(env, name) or None


def _exit_raw(env: Mapping[str, str], name: str) -> int:
    text = _get(env, name) or "0:0"
    try:
        return ExitCode.parse(text).to_wait_status()
    except ExitCodeError as exc:
        raise UsageError(f"jobcomp: {name}='{text}': {exc}") from None


def events_from_env(env: Mapping[str, str], default_cluster: str) -> list[dict[str, Any]]:
    """The job_submit, job_start (if it started) and job_end events of one jobcomp call.

    ``default_cluster`` is used when ``CLUSTER`` is empty. ``EXITCODE``/``DERIVED_EC`` are
    ``code:signal`` (NO_VAL arrives as ``0:0``, §7.2) printed by jobcomp_script.c without
    sacct's ``-128`` rule, so ``EXITCODE=137:0`` is stored as exit 137 and ``sacct`` prints
    it ``9:0`` like a record from slurmdbd (§1.2); ``LIMIT`` is ``D-HH:MM:SS`` or
    ``UNLIMITED``; ``START`` is 0 for a job cancelled while pending.

    Raises:
        UsageError: a required variable (JOBID, SUBMIT, UID, END, JOBSTATE) is missing or
            malformed.
    """
    job_id = _int(env, "JOBID", required=True)
    submit = _int(env, "SUBMIT", required=True)
    state = _get(env, "JOBSTATE")
    if not state:
        raise UsageError("jobcomp: environment variable JOBSTATE is missing or empty")
    common = {
        "schema": 1,
        "cluster": _text(env, "CLUSTER") or default_cluster,
        "job_id_raw": job_id,
        "submit": submit,
    }
    submit_event: dict[str, Any] = {
        **common,
        "type": "job_submit",
        "seq": JOBCOMP_SEQ,
        "uid": _int(env, "UID", required=True),
        "user_name": _text(env, "USERNAME"),
        "gid": _int(env, "GID"),
        "group_name": _text(env, "GROUPNAME"),
        "account": _text(env, "ACCOUNT"),
        "partition": _text(env, "PARTITION"),
        "qos": _text(env, "QOS"),
        "job_name": _get(env, "JOBNAME"),
        "work_dir": _text(env, "WORK_DIR"),
        "reservation": _text(env, "RESERVATION"),
        "flags": _text(env, "DB_FLAGS"),
        "constraints": _text(env, "CONSTRAINTS"),
    }
    eligible = _int(env, "ELIGIBLE")
    if eligible:
        submit_event["eligible"] = eligible
    task = _get(env, "ARRAYTASKID")
    array_job = _int(env, "ARRAYJOBID")
    if task and task != _NO_TASK and array_job:
        submit_event["array_job_id"] = array_job
        submit_event["array_task_id"] = _int(env, "ARRAYTASKID")
    het_job = _int(env, "HETJOBID") or _int(env, "PACKJOBID")
    if het_job:
        submit_event["het_job_id"] = het_job
        submit_event["het_job_offset"] = _int(env, "HETJOBOFFSET") or _int(env, "PACKJOBOFFSET")
    limit = _get(env, "LIMIT")
    if limit:
        try:
            submit_event["timelimit"] = parse_timelimit(limit)
        except ValueError as exc:
            raise UsageError(f"jobcomp: LIMIT='{limit}': {exc}") from None
    events = [{k: v for k, v in submit_event.items() if v is not None}]
    start = _int(env, "START") or 0
    if start:
        events.append(
            {
                **common,
                "type": "job_start",
                "seq": JOBCOMP_SEQ + 1,
                "time": start,
                # slurmctld prints a job that never got nodes as "None assigned".
                "nodelist": "" if _get(env, "NODES") in _NO_NODES else _get(env, "NODES"),
                "nnodes": _int(env, "NODECNT") or 0,
                "ncpus": _int(env, "PROCS") or 0,
            }
        )
    if state not in _NOT_AN_END:
        end: dict[str, Any] = {
            **common,
            "type": "job_end",
            "seq": JOBCOMP_SEQ + 2,
            "time": _int(env, "END", required=True),
            "state": state,
            "exit": _exit_raw(env, "EXITCODE"),
            "derived_exit_code": _get(env, "DERIVED_EC") or "0:0",
        }
        reason = _get(env, "STATEREASONPREV")
        if reason and reason != "None":
            end["reason"] = reason
        events.append(end)
    return events
