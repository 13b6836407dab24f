"""slurmdbd's job and step rows -> the controller events that would have written them.

The oracle's second path (tracker issue 11): the same records reach jobacct once through
``import slurmdbd`` and once through the shim, and ``sacct`` must print the same values from
both stores for every field the events carry. The events are what slurmctld reports at each
point (slurm-semantics.md §7.1): submission, start, each step's start and end, the job's end,
in time order with the controller's sequence numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jobacct.shim.fold import step_state
from jobacct.slurmdbd_import import reason_text, state_name

NO_VAL = 0xFFFFFFFE
INFINITE = 0xFFFFFFFF
_STEP_NAMES = {-5: "batch", -4: "extern", -6: "interactive", -3: "pending"}
_UNFINISHED = {"PENDING", "RUNNING", "SUSPENDED"}

Row = Mapping[str, str | None]


def _int(row: Row, name: str) -> int:
    value = row.get(name)
    return int(value) if value not in (None, "", "NULL") else 0


def _text(row: Row, name: str) -> str | None:
    value = row.get(name)
    return None if value in (None, "NULL") else value


def _tres(tres: str | None, tres_id: int) -> int:
    for item in (tres or "").split(","):
        ident, _sep, count = item.partition("=")
        if ident == str(tres_id) and count.isdigit():
            return int(count)
    return 0


def _cpus(tres: str | None) -> int:
    return _tres(tres, 1)


def _step_text(step_id: int, het: int) -> str:
    name = _STEP_NAMES.get(step_id, str(step_id))
    return name if het in (NO_VAL, INFINITE) else f"{name}+{het}"


def events_from_rows(
    job_rows: Iterable[Row], step_rows: Iterable[Row], cluster: str, users: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Events for every job row (and its steps), each job's in time order (seq 0, 1, ...).

    ``users`` names uids (slurmdbd names them through the association).
    """
    steps_of: dict[str, list[Row]] = {}
    for srow in step_rows:
        steps_of.setdefault(srow["job_db_inx"] or "", []).append(srow)
    events: list[dict[str, Any]] = []
    for row in job_rows:
        events.extend(_job_events(row, steps_of.get(row["job_db_inx"] or "", []), cluster, users))
    return events


def _job_events(
    row: Row, steps: list[Row], cluster: str, users: Mapping[int, str]
) -> list[dict[str, Any]]:
    submit = _int(row, "time_submit")
    common = {"schema": 1, "cluster": cluster, "job_id_raw": _int(row, "id_job"), "submit": submit}
    uid = _int(row, "id_user")
    state, _flags = state_name(_int(row, "state"))
    timed: list[tuple[int, int, dict[str, Any]]] = []  # (time, order, event)
    submitted: dict[str, Any] = {
        "type": "job_submit",
        "uid": uid,
        "user_name": users.get(uid),
        "gid": _int(row, "id_group"),
        "account": _text(row, "account"),
        "partition": _text(row, "partition"),
        "job_name": _text(row, "job_name") or "",
        "timelimit": _int(row, "timelimit"),
        "req_cpus": _int(row, "cpus_req") or None,
        "req_nodes": _tres(_text(row, "tres_req"), 4) or None,
        "work_dir": _text(row, "work_dir"),
        "comment": _text(row, "derived_es"),
        "constraints": _text(row, "constraints") or None,
    }
    eligible = _int(row, "time_eligible")
    if eligible:
        submitted["eligible"] = eligible
    array_task = _int(row, "id_array_task")
    if _int(row, "id_array_job") and array_task not in (NO_VAL, INFINITE):
        submitted["array_job_id"] = _int(row, "id_array_job")
        submitted["array_task_id"] = array_task
    het_offset = _int(row, "het_job_offset")
    if _int(row, "het_job_id") and het_offset not in (NO_VAL, INFINITE):
        submitted["het_job_id"] = _int(row, "het_job_id")
        submitted["het_job_offset"] = het_offset
    timed.append((submit, 0, submitted))
    start = _int(row, "time_start")
    if start:
        nodes = _text(row, "nodelist") or ""
        timed.append((start, 1, {
            "type": "job_start", "time": start,
            "nodelist": "" if nodes == "None assigned" else nodes,
            "nnodes": _int(row, "nodes_alloc"), "ncpus": _cpus(_text(row, "tres_alloc")),
        }))  # fmt: skip
    for srow in steps:
        timed.extend(_step_events(srow))
    end = _int(row, "time_end")
    if state not in _UNFINISHED and end:
        ended: dict[str, Any] = {
            "type": "job_end",
            "time": end,
            "state": state,
            "exit": _int(row, "exit_code"),
            "reason": reason_text(_int(row, "state_reason_prev")),
            "derived_exit_code": _int(row, "derived_ec"),
        }
        requid = _text(row, "kill_requid")
        if requid is not None and int(requid) != -1:
            ended["kill_requid"] = int(requid)
        timed.append((end, 3, ended))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [
        {**common, "seq": seq, **{k: v for k, v in event.items() if v is not None}}
        for seq, (_t, _o, event) in enumerate(timed)
    ]


def _step_events(srow: Row) -> list[tuple[int, int, dict[str, Any]]]:
    step = _step_text(_int(srow, "id_step"), _int(srow, "step_het_comp"))
    out: list[tuple[int, int, dict[str, Any]]] = []
    start = _int(srow, "time_start")
    out.append((start, 2, {
        "type": "step_start", "step": step, "time": start,
        "nodelist": _text(srow, "nodelist"), "nnodes": _int(srow, "nodes_alloc"),
        "ntasks": _int(srow, "task_cnt"), "ncpus": _cpus(_text(srow, "tres_alloc")),
        "step_name": _text(srow, "step_name"),
    }))  # fmt: skip
    end = _int(srow, "time_end")
    raw = _int(srow, "exit_code") & 0xFFFFFFFF  # a signed INT column: -2 is NO_VAL
    if not end:
        return out
    stored, _flags = state_name(_int(srow, "state"))
    ended: dict[str, Any] = {
        "type": "step_end",
        "step": step,
        "time": end,
        "exit": raw,
        "user_cpu_usec": _int(srow, "user_sec") * 1_000_000 + _int(srow, "user_usec"),
        "system_cpu_usec": _int(srow, "sys_sec") * 1_000_000 + _int(srow, "sys_usec"),
    }
    if stored != step_state(None if raw == NO_VAL else raw):
        ended["state"] = stored  # the controller had already set a terminal state (§1.6)
    requid = _text(srow, "kill_requid")
    if requid is not None and int(requid) != -1:
        ended["kill_requid"] = int(requid)
    out.append((end, 2, ended))
    return out
