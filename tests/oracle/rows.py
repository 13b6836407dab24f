"""Deterministic rows for the oracle's ``oracle_job_table`` and ``oracle_step_table``.

No job runs: these rows are written straight into slurmdbd's tables (as a real slurmctld
would have had slurmdbd write them) and the real ``sacct`` prints them. Column defaults come
from real 22.05.8 rows (``/work/shared/golden/db/golden_*_table.tsv``, job 1 and its batch
step); each group below overrides what it is about:

* ``EXIT_VALUES``: every raw wait status class (exits 0-255, signals 1-64 with and without
  the core bit 0x80, SIG_OOM 253, a stopped status 0x7f, NO_VAL, INFINITE, high bits), each
  once as a job's ``exit_code``, a job's ``derived_ec``, a batch step's and a numbered step's
  ``exit_code`` (signed INT in the step table: NO_VAL is -2, INFINITE -1);
* every job state (bases 3-11, REQUEUED 1024, RESIZING 8192, REVOKED 524288), cancels by
  uid, cancels while pending (no start, ``None assigned``);
* batch (-5), extern (-4), interactive (-6), pending (-3, TBD) and numbered steps, het steps,
  a step ending after its job, a step with no exit code (NO_VAL);
* array tasks (the last task carries the array's own id), a throttled array, het components,
  a requeued job's two records (``-D``);
* NULL and empty text fields, ``|`` in comments and names, long and non-ASCII names.

Every job of the main groups is eligible and ended inside ``MAIN_WINDOW``; jobs whose printing
depends on the clock (RUNNING, SUSPENDED, a pending array) are eligible inside ``LIVE_WINDOW``
only, which starts after ``MAIN_WINDOW`` ends, so option sets over the main window never see
them.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NO_VAL = 0xFFFFFFFE
INFINITE = 0xFFFFFFFF
NO_VAL64 = 0xFFFFFFFFFFFFFFFE


def _ts(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


#: sacct -S/-E of the main option sets (UTC, as the tests run with TZ=UTC).
MAIN_WINDOW = ("2026-12-01T00:00:00", "2026-12-03T00:00:00")
#: the window holding the clock-dependent jobs (RUNNING, SUSPENDED, PENDING).
LIVE_WINDOW = ("2026-12-04T00:00:00", "2026-12-04T12:00:00")
T0 = _ts(MAIN_WINDOW[0])
T_LIVE = _ts(LIVE_WINDOW[0])

#: name -> (uid, account): the users up.sh creates; none of them exists in /etc/passwd.
USERS: dict[str, tuple[int, str]] = {
    "orc_alice": (50001, "physics"),
    "orc_bob": (50002, "physics"),
    "orc_carol": (50003, "chem"),
    "root": (0, "root"),
}
USER_CYCLE = ("orc_alice", "orc_bob", "orc_carol", "root")
#: the cluster's nodes, as a slurmctld registers them in ``<cluster>_event_table``: sacct -N
#: maps node names to the node_inx bitmaps of the jobs through it (node_name '' rows).
CLUSTER_NODES = "oracle[1-9]"
#: TRES a slurmctld with GPUs registers in ``tres_table`` beside the built-in ones (1-8):
#: (id, type, name)
EXTRA_TRES: tuple[tuple[int, str, str], ...] = ((1001, "gres", "gpu"), (1002, "license", "matlab"))

# ------------------------------------------------------------------ exit status classes

EXIT_VALUES: tuple[int, ...] = (
    tuple(n << 8 for n in range(256))
    + tuple(range(1, 65))  # killed by signal 1..64
    + tuple(s | 0x80 for s in range(1, 65))  # ... with a core dump
    + (253, 0x7F, 0xFFFF, 0x10000, 0x10000 | (3 << 8), NO_VAL, INFINITE)
)


def signed32(value: int) -> int:
    """How slurmdbd writes a uint32 status into the step table's signed INT (``%d``)."""
    return value - (1 << 32) if value >= 0x80000000 else value


def _step_state(raw: int) -> int:
    # as_mysql_step_complete: a step that died of a signal is CANCELLED, a non-zero exit
    # FAILED (golden README "How exit codes are stored").
    if raw in (NO_VAL, INFINITE):
        return 3
    if raw & 0x7F == 0:
        return 3 if (raw >> 8) & 0xFF == 0 else 5
    return 4


# ------------------------------------------------------------------ row templates

_JOB_DEFAULTS: dict[str, Any] = {
    "mod_time": 0,
    "deleted": 0,
    "account": None,
    "admin_comment": None,
    "array_task_str": None,
    "array_max_tasks": 0,
    "array_task_pending": 0,
    "constraints": "",
    "container": None,
    "cpus_req": 2,
    "derived_ec": 0,
    "derived_es": None,
    "env_hash_inx": 0,
    "exit_code": 0,
    "flags": 20,
    "job_name": "job",
    "id_assoc": 0,
    "id_array_job": 0,
    "id_array_task": NO_VAL,
    "id_block": None,
    "id_job": 0,
    "id_qos": 1,
    "id_resv": 0,
    "id_wckey": 0,
    "id_user": 0,
    "id_group": 0,
    "het_job_id": 0,
    "het_job_offset": NO_VAL,
    "kill_requid": None,
    "state_reason_prev": 0,
    "mcs_label": "",
    "mem_req": 2000,
    "nodelist": "oracle1",
    "nodes_alloc": 1,
    "node_inx": "0",
    "partition": "batch",
    "priority": 4294901759,
    "script_hash_inx": 0,
    "state": 3,
    "timelimit": 60,
    "time_submit": 0,
    "time_eligible": 0,
    "time_start": 0,
    "time_end": 0,
    "time_suspended": 0,
    "gres_used": "",
    "wckey": "",
    "work_dir": "/srv/oracle",
    "submit_line": None,
    "system_comment": None,
    "tres_alloc": f"1=2,2=2000,3={NO_VAL64},4=1,5=2",
    "tres_req": "1=2,2=2000,4=1,5=2",
}

_STEP_DEFAULTS: dict[str, Any] = {
    "deleted": 0,
    "exit_code": 0,
    "id_step": 0,
    "step_het_comp": NO_VAL,
    "kill_requid": None,
    "nodelist": "oracle1",
    "nodes_alloc": 1,
    "node_inx": "0",
    "state": 3,
    "step_name": "step",
    "task_cnt": 1,
    "task_dist": 1,
    "time_start": 0,
    "time_end": 0,
    "time_suspended": 0,
    "user_sec": 0,
    "user_usec": 0,
    "sys_sec": 0,
    "sys_usec": 0,
    "act_cpufreq": 2596,
    "consumed_energy": 0,
    "container": None,
    "req_cpufreq_min": NO_VAL,
    "req_cpufreq": NO_VAL,
    "req_cpufreq_gov": NO_VAL,
    "submit_line": None,
    "tres_alloc": "1=2,2=2000,4=1",
    "tres_usage_in_ave": "1=1000,2=3379200,3=0,6=4096,7=78278656,8=0",
    "tres_usage_in_max": "1=1000,2=3379200,3=0,6=4096,7=78278656,8=0",
    "tres_usage_in_max_taskid": "1=0,2=0,6=0,7=0,8=0",
    "tres_usage_in_max_nodeid": "1=0,2=0,3=0,6=0,7=0,8=0",
    "tres_usage_in_min": "1=1000,2=3379200,3=0,6=4096,7=78278656,8=0",
    "tres_usage_in_min_taskid": "1=0,2=0,6=0,7=0,8=0",
    "tres_usage_in_min_nodeid": "1=0,2=0,3=0,6=0,7=0,8=0",
    "tres_usage_in_tot": "1=1000,2=3379200,3=0,6=4096,7=78278656,8=0",
    "tres_usage_out_ave": "3=0,6=1",
    "tres_usage_out_max": "3=0,6=1",
    "tres_usage_out_max_taskid": "6=0",
    "tres_usage_out_max_nodeid": "3=0,6=0",
    "tres_usage_out_min": "3=0,6=1",
    "tres_usage_out_min_taskid": "6=0",
    "tres_usage_out_min_nodeid": "3=0,6=0",
    "tres_usage_out_tot": "3=0,6=1",
}

JOB_COLUMNS = ("job_db_inx", *_JOB_DEFAULTS)
STEP_COLUMNS = ("job_db_inx", *_STEP_DEFAULTS)


@dataclass
class Rows:
    """The generated rows, in insertion order, and the job ids of each group."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, list[int]] = field(default_factory=dict)


class _Builder:
    def __init__(self, assoc: Mapping[tuple[str, str], int]) -> None:
        self.assoc = assoc
        self.rows = Rows()
        self.inx = 0

    def job(self, group: str, id_job: int, user: str, start: int, run: int, **over: Any) -> int:
        """Add a job row that was submitted 60 s and became eligible 30 s before ``start``."""
        self.inx += 1
        uid, account = USERS[user]
        row = dict(_JOB_DEFAULTS)
        row.update(
            job_db_inx=self.inx,
            mod_time=start + run,
            id_job=id_job,
            id_user=uid,
            id_group=0,
            account=account,
            id_assoc=self.assoc[(user, account)],
            job_name=f"{group}_{id_job}",
            time_submit=start - 60,
            time_eligible=start - 30,
            time_start=start,
            time_end=start + run,
            submit_line=f"sbatch {group}.sh",
        )
        row.update(over)
        self.rows.jobs.append(row)
        self.rows.groups.setdefault(group, []).append(id_job)
        return self.inx

    def step(self, inx: int, id_step: int, start: int, run: int, **over: Any) -> None:
        row = dict(_STEP_DEFAULTS)
        names = {-5: "batch", -4: "extern", -6: "interactive", -3: "pending"}
        row.update(
            job_db_inx=inx,
            id_step=id_step,
            step_name=names.get(id_step, f"bash{id_step}"),
            task_dist=0 if id_step < 0 else 1,
            req_cpufreq_min=0 if id_step < 0 else NO_VAL,
            req_cpufreq=0 if id_step < 0 else NO_VAL,
            req_cpufreq_gov=0 if id_step < 0 else NO_VAL,
            submit_line=None if id_step < 0 else f"srun bash -c step{id_step}",
            time_start=start,
            time_end=start + run,
            user_sec=run // 3,
            user_usec=1000 * (id_step & 0xFF),
            sys_sec=run // 7,
            sys_usec=777,
        )
        row.update(over)
        self.rows.steps.append(row)


def generate(assoc: Mapping[tuple[str, str], int]) -> Rows:
    """All rows. ``assoc`` maps (user, account) to the ``id_assoc`` slurmdbd gave it."""
    b = _Builder(assoc)
    _exit_jobs(b)
    _state_jobs(b)
    _step_kinds(b)
    _arrays_and_het(b)
    _texts_and_duplicates(b)
    _misc(b)
    _live_jobs(b)
    return b.rows


def _exit_jobs(b: _Builder) -> None:
    """Job 1000+i: exit_code EXIT_VALUES[i]; derived_ec and step 0 another class each."""
    n = len(EXIT_VALUES)
    for i, raw in enumerate(EXIT_VALUES):
        start = T0 + 600 + 60 * i
        derived = EXIT_VALUES[(i * 7 + 3) % n]
        step0 = EXIT_VALUES[(i * 13 + 5) % n]
        state = 3 if raw == 0 else 5
        inx = b.job(
            "exit",
            1000 + i,
            USER_CYCLE[i % 4],
            start,
            40,
            exit_code=raw,
            derived_ec=derived,
            state=state,
            state_reason_prev=0 if raw == 0 else 24,
        )
        b.step(inx, -5, start, 40, exit_code=signed32(raw), state=_step_state(raw))
        b.step(inx, 0, start + 2, 30, exit_code=signed32(step0), state=_step_state(step0))


#: (state, exit_code, kill_requid, reason) of the state group's jobs.
_STATES: tuple[tuple[int, int, int | None, int], ...] = (
    (3, 0, None, 0),
    (4, 0, 0, 0),  # CANCELLED by 0
    (4, 0, 50002, 0),  # CANCELLED by another user
    (4, 0, None, 0),  # CANCELLED, requester unknown
    (5, 256, None, 24),
    (6, 0, None, 25),  # TIMEOUT
    (7, 0, None, 20),  # NODE_FAIL
    (8, 0, None, 0),  # PREEMPTED
    (9, 0, None, 22),  # BOOT_FAIL
    (10, 0, None, 167),  # DEADLINE
    (11, 253, None, 181),  # OUT_OF_MEMORY with SIG_OOM
    (1024, 0, None, 0),  # REQUEUED
    (8192, 0, None, 0),  # RESIZING
    (524288, 0, None, 0),  # REVOKED (hidden unless -D)
)
# No flag next to a base state (5|1024): slurmdbd stores either a flag alone or a base state
# (slurm-semantics.md §5.1), and sacct's -s compares the whole column.


def _state_jobs(b: _Builder) -> None:
    for i, (state, code, requid, reason) in enumerate(_STATES):
        start = T0 + 30000 + 300 * i
        inx = b.job(
            "state",
            2000 + i,
            USER_CYCLE[i % 4],
            start,
            120 + i,
            state=state,
            exit_code=code,
            kill_requid=requid,
            state_reason_prev=reason,
            nodelist="oracle[1-2]",
            nodes_alloc=2,
            node_inx="0-1",
            tres_alloc=f"1=4,2=4000,3={NO_VAL64},4=2,5=4",
            cpus_req=4,
        )
        b.step(
            inx,
            -5,
            start,
            120 + i,
            exit_code=15 if state in (4, 6) else 0,
            state=4 if state in (4, 6) else 3,
            nodelist="oracle1",
            node_inx="0",
        )
        b.step(
            inx,
            -4,
            start,
            120 + i,
            nodelist="oracle[1-2]",
            nodes_alloc=2,
            node_inx="0-1",
            task_cnt=2,
        )
    # Cancelled while pending: never started, no nodes, no steps (golden jobs 20-22, 32-33).
    for i, (eligible, reason) in enumerate(((T0 + 31000, 9), (0, 16), (0, 39), (T0 + 31100, 0))):
        submit = T0 + 30900 + 10 * i
        b.job(
            "pending_cancel",
            2100 + i,
            USER_CYCLE[i % 4],
            0,
            0,
            state=4,
            kill_requid=0,
            state_reason_prev=reason,
            nodelist="None assigned",
            nodes_alloc=0,
            node_inx=None,
            timelimit=NO_VAL,
            time_submit=submit,
            time_eligible=eligible,
            time_start=0,
            time_end=submit + 500,
            tres_alloc="",
            mod_time=submit + 500,
        )


def _step_kinds(b: _Builder) -> None:
    start = T0 + 40000
    inx = b.job("steps", 3000, "orc_alice", start, 600, exit_code=0, derived_ec=512, state=3)
    b.step(inx, -4, start, 600)
    b.step(inx, -5, start, 600)
    b.step(inx, -6, start + 5, 100, exit_code=256, state=5)
    b.step(inx, 0, start + 10, 50)
    b.step(inx, 1, start + 70, 50, exit_code=512, state=5)
    b.step(inx, 2, start + 130, 50, exit_code=9, state=4, kill_requid=50001)
    b.step(inx, 10, start + 200, 1000, exit_code=0, state=3)  # ends after its job
    # A step still open when its job ended: NO_VAL written signed, and CANCELLED.
    b.step(inx, 3, start + 300, 300, exit_code=-2, state=4)
    b.step(inx, -3, start + 400, 0, exit_code=0, state=0, time_end=0)
    # A job whose batch step has a big multi-node usage record and multiple tasks.
    start = T0 + 41000
    inx = b.job(
        "steps",
        3001,
        "orc_bob",
        start,
        3700,
        nodelist="oracle[3-5]",
        nodes_alloc=3,
        node_inx="2-4",
        derived_ec=35072,
        exit_code=35072,
        state=5,
    )
    b.step(inx, -5, start, 3700, exit_code=35072, state=5, nodelist="oracle3", node_inx="2")
    b.step(
        inx,
        0,
        start + 1,
        3600,
        exit_code=9,
        state=4,
        nodelist="oracle[3-5]",
        nodes_alloc=3,
        node_inx="2-4",
        task_cnt=6,
        task_dist=2,
        tres_usage_in_max="1=3600000,2=9999999999,3=5,6=123456789,7=88888888888,8=17",
        tres_usage_in_max_nodeid="1=2,2=1,3=0,6=2,7=1,8=0",
        tres_usage_in_max_taskid="1=5,2=3,6=4,7=2,8=1",
    )


def _arrays_and_het(b: _Builder) -> None:
    # Array 4000, tasks 0-3: raw ids 4001-4003, and the last task takes the array's own id.
    start = T0 + 50000
    for task, (id_job, code) in enumerate(((4001, 0), (4002, 1024), (4003, 15), (4000, 0))):
        state = 3 if code == 0 else 5 if code & 0x7F == 0 else 4
        inx = b.job(
            "array",
            id_job,
            "orc_carol",
            start + 10 * task,
            100,
            id_array_job=4000,
            id_array_task=task,
            exit_code=code,
            state=state,
            job_name="arr",
            kill_requid=0 if state == 4 else None,
            time_submit=start - 60,
        )
        b.step(inx, -5, start + 10 * task, 100, exit_code=code, state=_step_state(code))
    # A throttled array (%2) with tasks 0-2 (raw ids 4101, 4102, 4100).
    for task, id_job in enumerate((4101, 4102, 4100)):
        inx = b.job(
            "array",
            id_job,
            "orc_alice",
            start + 500 + task,
            50,
            id_array_job=4100,
            id_array_task=task,
            array_max_tasks=2,
            job_name="thr",
            time_submit=start + 400,
        )
        b.step(inx, -5, start + 500 + task, 50)
    # Het job 4200: components 4200+0 and 4201+1, each with a het step component.
    start = T0 + 52000
    for offset in (0, 1):
        inx = b.job(
            "het",
            4200 + offset,
            "orc_bob",
            start,
            200,
            het_job_id=4200,
            het_job_offset=offset,
            job_name="het",
            time_submit=start - 60,
            exit_code=0 if offset == 0 else 512,
            state=3 if offset == 0 else 5,
        )
        if offset == 0:
            b.step(inx, -5, start, 200)
        b.step(
            inx,
            0,
            start + 5,
            100,
            step_het_comp=offset,
            exit_code=0 if offset == 0 else 512,
            state=3 if offset == 0 else 5,
        )


def _texts_and_duplicates(b: _Builder) -> None:
    start = T0 + 60000
    texts: tuple[dict[str, Any], ...] = (
        {"derived_es": None, "admin_comment": None, "system_comment": None},
        {"derived_es": "", "admin_comment": "", "system_comment": ""},
        {"derived_es": "a|b|c", "admin_comment": "adm|in", "system_comment": "sys|tem"},
        {"derived_es": "out of memory", "job_name": "name|with|pipes"},
        {"derived_es": "résumé ünïcode ✓", "job_name": "a_very_long_job_name_for_truncation"},
        {"job_name": "with space", "work_dir": "", "submit_line": None, "constraints": "a&b"},
        {"wckey": "wck", "mcs_label": "mcs", "container": "/c", "id_block": None},
    )
    for i, over in enumerate(texts):
        inx = b.job("text", 5000 + i, USER_CYCLE[i % 4], start + 100 * i, 30, **over)
        b.step(inx, -5, start + 100 * i, 30)
    # A requeued job: its first run (REQUEUED) and its second, under one job id (-D shows both).
    start = T0 + 70000
    inx = b.job("requeue", 5100, "orc_carol", start, 100, state=1024, time_submit=start - 60)
    b.step(inx, -5, start, 100, exit_code=15, state=4)
    inx = b.job(
        "requeue",
        5100,
        "orc_carol",
        start + 400,
        100,
        state=3,
        time_submit=start + 200,
        time_eligible=start + 300,
    )
    b.step(inx, -5, start + 400, 100)


def _misc(b: _Builder) -> None:
    """Limits, suspension, memory per CPU, scheduling flags, priorities, derived NO_VAL."""
    start = T0 + 80000
    variants: tuple[dict[str, Any], ...] = (
        {"timelimit": INFINITE},
        {"timelimit": NO_VAL},
        {"timelimit": 525600, "time_suspended": 3725},
        # --mem-per-cpu=1500 on 4 CPUs: 22.05 stores the flagged mem_req and the total in
        # tres_req, which is what sacct prints (a tres_req without memory is not written)
        {"mem_req": 0x8000000000000000 | 1500, "tres_req": "1=4,2=6000,4=1,5=4", "cpus_req": 4},
        {"flags": 0},
        {"flags": 1},
        {"flags": 2 | 16},
        {"flags": 8 | 16},
        {"priority": 0, "derived_ec": NO_VAL},
        {"priority": 1, "derived_ec": INFINITE, "exit_code": 0x7F},
        {
            "nodelist": "oracle[1,3,5-6]",
            "nodes_alloc": 4,
            "node_inx": "0,2,4-5",
            "tres_alloc": f"1=8,2=8000,3={NO_VAL64},4=4,5=8",
        },
        {"state_reason_prev": 199, "state": 5, "exit_code": 256},
        {
            "tres_alloc": f"1=4,2=4000,3={NO_VAL64},4=1,5=4,1001=2",
            "gres_used": "gpu:2",
            "tres_req": "1=4,2=4000,4=1,5=4,1001=2,1002=1",
        },
    )
    for i, over in enumerate(variants):
        inx = b.job("misc", 6000 + i, USER_CYCLE[i % 4], start + 200 * i, 3700 + i, **over)
        b.step(inx, -5, start + 200 * i, 3700 + i, time_suspended=over.get("time_suspended", 0))
        b.step(
            inx,
            0,
            start + 200 * i + 1,
            3600,
            nodelist=over.get("nodelist", "oracle1"),
            node_inx=over.get("node_inx", "0"),
            nodes_alloc=over.get("nodes_alloc", 1),
            task_cnt=2 * (over.get("nodes_alloc", 1)),
            task_dist=2 + i % 3,
            **(
                {"tres_alloc": "1=4,2=4000,4=1,1001=2"}
                if "1001=2" in over.get("tres_alloc", "")
                else {}
            ),
        )


def _live_jobs(b: _Builder) -> None:
    """Jobs not yet ended: their Elapsed, End and CPUTime follow the clock."""
    start = T_LIVE + 600
    inx = b.job("live", 9000, "orc_alice", start, 0, state=1, time_end=0)
    b.step(inx, -5, start, 0, state=1, time_end=0)
    b.step(inx, 0, start + 5, 0, state=1, time_end=0)
    inx = b.job("live", 9001, "orc_bob", start + 100, 0, state=2, time_end=0, time_suspended=300)
    b.step(inx, -5, start + 100, 0, state=2, time_end=0)
    b.job(
        "live",
        9002,
        "orc_carol",
        0,
        0,
        state=0,
        time_start=0,
        time_end=0,
        time_submit=start,
        time_eligible=start,
        nodelist="None assigned",
        nodes_alloc=0,
        node_inx=None,
        state_reason_prev=1,
        tres_alloc="",
    )
    # An array with pending tasks 4-7 (the meta record; array_task_str is a hex bitmap).
    b.job(
        "live",
        9100,
        "orc_carol",
        0,
        0,
        state=0,
        time_start=0,
        time_end=0,
        time_submit=start,
        time_eligible=start,
        nodelist="None assigned",
        nodes_alloc=0,
        node_inx=None,
        id_array_job=9100,
        id_array_task=NO_VAL,
        array_task_str="0xF0",
        array_task_pending=4,
        array_max_tasks=2,
        tres_alloc="",
        job_name="arrpend",
    )


def _cell(value: Any) -> str:
    # mysql -B: NULL for SQL NULL; tab, newline, backslash and NUL escaped
    if value is None:
        return "NULL"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\0", "\\0")


def mysql_tsv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """The rows as ``mysql -B -e 'SELECT ...'`` prints them (header line, then one per row)."""
    lines = ["\t".join(columns)]
    lines += ["\t".join(_cell(row[c]) for c in columns) for row in rows]
    return "\n".join(lines) + "\n"
