#!/usr/bin/env python3
"""Build the bundled sample database, ``sample_db/jobacct.sqlite``.

    python sample_db/build.py [--out PATH]

The sample holds two clusters:

* ``golden``: the real Slurm 22.05 records of the golden corpus, imported the way a user
  would (``tests/golden/sacct/03_parsable2_ALL.txt`` through the sacct importer) plus, when
  ``jobacct.slurmdbd_import`` is available, slurmdbd's own job and step tables, which also
  hold the pending jobs cancelled before they ran (sacct's default view hides them).
* ``tux``: a few thousand generated jobs over the 14 days before 2026-11-22T12:00:00Z, made
  deterministically (seeded RNG, no wall clock), with the job state / exit code of every
  scenario following slurm-semantics.md §1.4 and DerivedExitCode following §2.1.

The file is migrated with Alembic (never ``create_all``), filled in one transaction, then
analysed, checkpointed, switched to the rollback journal and vacuumed, so it is one
self-contained file.
"""

from __future__ import annotations

import argparse
import heapq
import importlib
import random
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hostlist
from sqlalchemy.orm import Session

from jobacct import migrate, store
from jobacct.config import make_engine
from jobacct.importer import import_sacct
from jobacct.jobid import BATCH_STEP, EXTERN_STEP
from jobacct.model import Job, Step
from jobacct.slurmdbd_import import step_usage, task_layout_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "sample_db" / "jobacct.sqlite"
GOLDEN = ROOT / "tests" / "golden"
GOLDEN_SACCT = GOLDEN / "sacct" / "03_parsable2_ALL.txt"
GOLDEN_JOB_TABLE = GOLDEN / "db" / "golden_job_table.tsv"
GOLDEN_STEP_TABLE = GOLDEN / "db" / "golden_step_table.tsv"
GOLDEN_CLUSTER = "golden"
GOLDEN_USERS = {0: "root", 1001: "alice"}

CLUSTER = "tux"
SEED = 20261122
N_JOBS = 3000
NOW = int(datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC).timestamp())
WINDOW_START = NOW - 14 * 86400
FIRST_JOB_ID = 731001
MIB = 1024 * 1024

# Scenario labels, in the order the summary prints them.
COMPLETED = "completed"
SCRIPT_EXIT = "script_exit"
SRUN_STEP_FAILED = "srun_step_failed"
STEP_SIGNAL = "step_signal"
BATCH_SIGNAL = "batch_signal"
SCANCEL_RUNNING = "scancel_running"
SCANCEL_PENDING = "scancel_pending"
TIMEOUT = "timeout"
OOM = "oom"
NODE_FAIL = "node_fail"
RUNNING = "running"
PENDING = "pending"
SCENARIOS = (
    COMPLETED,
    SCRIPT_EXIT,
    SRUN_STEP_FAILED,
    STEP_SIGNAL,
    BATCH_SIGNAL,
    SCANCEL_RUNNING,
    SCANCEL_PENDING,
    TIMEOUT,
    OOM,
    NODE_FAIL,
    RUNNING,
    PENDING,
)

#: Weights of the scenarios a plain (non-array) job is planned with. RUNNING and PENDING are
#: not drawn: they are what a job still going at the end of the window becomes.
SINGLE_WEIGHTS = {
    COMPLETED: 55,
    SCRIPT_EXIT: 9,
    SRUN_STEP_FAILED: 7,
    STEP_SIGNAL: 3,
    BATCH_SIGNAL: 2,
    SCANCEL_RUNNING: 6,
    SCANCEL_PENDING: 3,
    TIMEOUT: 7,
    OOM: 4,
    NODE_FAIL: 1,
}
ARRAY_WEIGHTS = {COMPLETED: 84, SCRIPT_EXIT: 8, TIMEOUT: 3, OOM: 3, SCANCEL_RUNNING: 2}

#: Scenarios whose job is ended from outside while its steps run (the running step is killed).
KILLED = (SCANCEL_RUNNING, TIMEOUT, NODE_FAIL)


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    group: str
    gid: int
    accounts: tuple[str, ...]
    weight: int
    project: str


@dataclass(frozen=True)
class Partition:
    name: str
    first_node: int
    last_node: int
    cpus_per_node: int
    mem_per_node: int  # MiB
    gpus_per_node: int
    max_minutes: int
    weight: int


GROUPS = {"astro": 3001, "bio": 3002, "chem": 3003, "climate": 3004, "ml": 3005}

USERS = (
    User("asmith", 2001, "astro", 3001, ("astro",), 10, "galaxy-sims"),
    User("bnguyen", 2002, "bio", 3002, ("bio",), 8, "rnaseq"),
    User("cgarcia", 2003, "chem", 3003, ("chem", "ml"), 9, "dft-screening"),
    User("dkim", 2004, "ml", 3005, ("ml",), 14, "vision"),
    User("epatel", 2005, "climate", 3004, ("climate",), 7, "wrf-ensemble"),
    User("fmueller", 2006, "astro", 3001, ("astro",), 5, "nbody"),
    User("grossi", 2007, "chem", 3003, ("chem",), 6, "md-membranes"),
    User("hchen", 2008, "ml", 3005, ("ml", "bio"), 12, "protein-lm"),
    User("iivanova", 2009, "bio", 3002, ("bio",), 4, "metagenomics"),
    User("jobrien", 2010, "climate", 3004, ("climate", "astro"), 6, "ocean-model"),
    User("kwalker", 2011, "chem", 3003, ("chem",), 5, "qm-mm"),
    User("lsato", 2012, "ml", 3005, ("ml",), 9, "rl-agents"),
)

PARTITIONS = (
    Partition("debug", 1, 8, 64, 256000, 0, 60, 15),
    Partition("batch", 9, 56, 64, 256000, 0, 2880, 65),
    Partition("gpu", 57, 64, 64, 512000, 4, 1440, 20),
)

#: Per account: (job name, srun step name, batch script) of the work its users run.
WORK = {
    "astro": (
        ("gadget_run", "gadget4", "run_sim.sh"),
        ("nbody_ic", "ngenic", "make_ics.sh"),
        ("halo_find", "rockstar", "halos.sh"),
    ),
    "bio": (
        ("star_align", "STAR", "align.sh"),
        ("blast_db", "blastn", "blast.sh"),
        ("assembly", "megahit", "assemble.sh"),
    ),
    "chem": (
        ("vasp_relax", "vasp_std", "relax.sh"),
        ("gmx_md", "gmx_mpi", "md.sh"),
        ("orca_opt", "orca", "opt.sh"),
    ),
    "climate": (
        ("wrf_fcst", "wrf.exe", "forecast.sh"),
        ("mom6_spinup", "MOM6", "spinup.sh"),
        ("postproc", "ncks", "post.sh"),
    ),
    "ml": (
        ("train_resnet", "python", "train.sh"),
        ("finetune_lm", "torchrun", "finetune.sh"),
        ("eval_sweep", "python", "eval.sh"),
    ),
}

TIMELIMITS = (15, 30, 60, 120, 240, 480, 720, 1440, 2880)
SCRIPT_EXIT_CODES = (1, 1, 1, 1, 1, 2, 2, 3, 4, 42, 127, 127, 134, 137, 255)
STEP_EXIT_CODES = (1, 1, 1, 2, 3, 5, 7, 127, 255)
COMMENTS = (
    "sweep lr=3e-4",
    "campaign 7",
    "fig3 rerun",
    "baseline",
    "restart from chk 12",
    "paper revision",
)
#: sjobexitmod -e CODE -r REASON a user might leave on a failed job.
ANNOTATIONS = (
    (3, "input deck missing"),
    (1, "bad restart file, rerun"),
    (2, "license server down"),
    (99, "ignored: known solver warning"),
)
OOM_ANNOTATIONS = ((49, "out of memory"), (49, "rerun with --mem=2x"))


@dataclass
class Shape:
    """What a job asks for: the same for every task of an array."""

    user: User
    account: str
    partition: Partition
    qos: str
    nnodes: int
    cpus_per_node: int
    mem_per_node: int  # MiB
    gpus_per_node: int
    timelimit: int  # minutes
    job_name: str
    step_name: str
    script: str
    constraints: str | None
    comment: str | None


@dataclass
class Plan:
    """One job record to make: its identity, shape, timeline and planned scenario."""

    job_id_raw: int
    submit: int
    eligible: int
    start: int  # planned start
    run: int  # planned seconds from start to the job's end
    scenario: str
    shape: Shape
    submit_line: str
    priority: int
    array_job_id: int | None = None
    array_task_id: int | None = None
    array_max_tasks: int | None = None
    throttled: bool = False
    wait_reason: str = "Priority"
    cancel_at: int | None = None  # scancel of the job while it was still pending


# --------------------------------------------------------------------------------------
# Drawing submissions


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def _draw_time(rng: random.Random, lo: int, hi: int) -> int:
    """A submit time in [lo, hi], busier in working hours and on weekdays."""
    while True:
        t = rng.randint(lo, hi)
        dt = datetime.fromtimestamp(t, UTC)
        weight = 1.0 if 8 <= dt.hour < 19 else 0.35
        if dt.weekday() >= 5:
            weight *= 0.5
        if rng.random() < weight:
            return t


def _shape(rng: random.Random, user: User, array: bool) -> Shape:
    account = user.accounts[0] if rng.random() < 0.8 else rng.choice(user.accounts)
    weights = [p.weight * (4 if account == "ml" and p.gpus_per_node else 1) for p in PARTITIONS]
    part = rng.choices(PARTITIONS, weights=weights)[0]
    job_name, step_name, script = rng.choice(WORK[account])
    gpus = 0
    if part.name == "debug":
        nnodes = 1 if rng.random() < 0.85 else 2
        cpus = rng.choice((1, 2, 4, 8))
        mem = rng.choice((2000, 4000, 8000, 16000))
    elif part.name == "gpu":
        nnodes = 1 if rng.random() < 0.85 else 2
        gpus = rng.choice((1, 1, 2, 4))
        cpus = 16 * gpus
        mem = 64000 * gpus
    else:
        nnodes = rng.choices((1, 2, 4, 8, 16), weights=(60, 15, 12, 9, 4))[0]
        cpus = rng.choice((1, 4, 8, 16, 32, 64)) if nnodes == 1 else 64
        mem = rng.choice((4000, 8000, 16000, 32000, 64000, 128000, 250000))
    limits = [t for t in TIMELIMITS if t <= (120 if array else part.max_minutes)]
    timelimit = rng.choice(limits)
    constraints = None
    if part.name == "gpu" and rng.random() < 0.3:
        constraints = "a100"
    elif part.name == "batch" and rng.random() < 0.1:
        constraints = "icelake"
    return Shape(
        user=user,
        account=account,
        partition=part,
        qos="high" if rng.random() < 0.15 else "normal",
        nnodes=nnodes,
        cpus_per_node=cpus,
        mem_per_node=mem,
        gpus_per_node=gpus,
        timelimit=timelimit,
        job_name=job_name,
        step_name=step_name,
        script=script,
        constraints=constraints,
        comment=rng.choice(COMMENTS) if rng.random() < 0.05 else None,
    )


def _submit_line(shape: Shape, array: str | None = None) -> str:
    parts = ["sbatch", "-p", shape.partition.name, "-A", shape.account]
    if shape.qos != "normal":
        parts += ["--qos", shape.qos]
    parts += ["-N", str(shape.nnodes), f"--ntasks-per-node={shape.cpus_per_node}"]
    parts += [f"--mem={shape.mem_per_node}M", f"--time={shape.timelimit}"]
    if shape.gpus_per_node:
        parts.append(f"--gres=gpu:{shape.gpus_per_node}")
    if shape.constraints:
        parts += ["-C", shape.constraints]
    if array:
        parts.append(f"--array={array}")
    if shape.comment:
        parts.append(f"--comment='{shape.comment}'")
    parts += ["-J", shape.job_name, shape.script]
    return " ".join(parts)


def _queue_wait(rng: random.Random, shape: Shape) -> int:
    mean = {"debug": 60.0, "batch": 900.0, "gpu": 2400.0}[shape.partition.name]
    if shape.qos == "high":
        mean /= 4
    mean *= 1 + shape.nnodes / 8
    return int(rng.expovariate(1 / mean)) + rng.randint(0, 20)


def _planned_run(rng: random.Random, scenario: str, limit_s: int) -> int:
    if scenario == TIMEOUT:
        return limit_s + rng.randint(5, 95)
    if scenario in (SCANCEL_RUNNING, OOM, NODE_FAIL, BATCH_SIGNAL):
        return max(20, int(limit_s * rng.uniform(0.01, 0.6)))
    return max(15, min(limit_s - 5, int(limit_s * rng.betavariate(1.3, 3.0))))


def _plans(rng: random.Random) -> list[Plan]:
    """Every job record to generate, in submit order, with its JobIDRaw assigned."""
    sizes: list[int] = []
    total = 0
    while total < N_JOBS:
        remaining = N_JOBS - total
        size = 1
        if remaining >= 4 and rng.random() < 0.015:
            size = min(rng.randint(4, 24), remaining)
        sizes.append(size)
        total += size
    users = list(USERS)
    subs: list[tuple[int, int, int, User]] = []
    for index, size in enumerate(sizes):
        hi = NOW - 2 * 86400 if size > 1 else NOW - 60
        user = rng.choices(users, weights=[u.weight for u in users])[0]
        subs.append((_draw_time(rng, WINDOW_START, hi), index, size, user))
    subs.sort()
    plans: list[Plan] = []
    next_id = FIRST_JOB_ID
    for submit, _, size, user in subs:
        shape = _shape(rng, user, array=size > 1)
        priority = rng.randint(10000, 60000) + (20000 if shape.qos == "high" else 0)
        if size == 1:
            plans.append(_single_plan(rng, next_id, submit, shape, priority))
        else:
            plans.extend(_array_plans(rng, next_id, submit, size, shape, priority))
        next_id += size
    return plans


def _single_plan(rng: random.Random, job_id: int, submit: int, shape: Shape, prio: int) -> Plan:
    scenario = _weighted(rng, SINGLE_WEIGHTS)
    eligible = submit
    wait_reason = rng.choice(("Priority", "Priority", "Resources"))
    if rng.random() < 0.04:
        eligible = submit + rng.randint(600, 4 * 3600)  # sbatch --begin
        wait_reason = "BeginTime"
    start = eligible + _queue_wait(rng, shape)
    if submit > NOW - 3 * 3600 and rng.random() < 0.4:
        start = NOW + rng.randint(600, 12 * 3600)  # still queued at the end of the window
    run = _planned_run(rng, scenario, shape.timelimit * 60)
    cancel_at = None
    if scenario == SCANCEL_PENDING:
        # Cancelled while queued: the planned start is never reached.
        cancel_at = submit + rng.randint(60, 6 * 3600)
        run = 0
        start = max(start, cancel_at + rng.randint(60, 3600))
    return Plan(
        job_id_raw=job_id,
        submit=submit,
        eligible=eligible,
        start=start,
        run=run,
        scenario=scenario,
        shape=shape,
        submit_line=_submit_line(shape),
        priority=prio,
        wait_reason=wait_reason,
        cancel_at=cancel_at,
    )


def _array_plans(
    rng: random.Random, array_id: int, submit: int, size: int, shape: Shape, prio: int
) -> list[Plan]:
    """The tasks of one array; the last task takes the array's own JobIDRaw, as Slurm does."""
    throttle = rng.choice((2, 4, 8)) if rng.random() < 0.4 else None
    spec = f"0-{size - 1}" + (f"%{throttle}" if throttle else "")
    line = _submit_line(shape, spec)
    slots = [submit + _queue_wait(rng, shape)] * (throttle or size)
    heapq.heapify(slots)
    plans = []
    for task in range(size):
        free = heapq.heappop(slots)
        start = free + rng.randint(0, 30)
        scenario = _weighted(rng, ARRAY_WEIGHTS)
        run = _planned_run(rng, scenario, shape.timelimit * 60)
        throttled = throttle is not None and task >= throttle
        plans.append(
            Plan(
                job_id_raw=array_id if task == size - 1 else array_id + 1 + task,
                submit=submit,
                eligible=start if throttled else submit,
                start=start,
                run=run,
                scenario=scenario,
                shape=shape,
                submit_line=line,
                priority=prio,
                array_job_id=array_id,
                array_task_id=task,
                array_max_tasks=throttle,
                throttled=throttled,
            )
        )
        heapq.heappush(slots, start + run + rng.randint(1, 10))
    return plans


# --------------------------------------------------------------------------------------
# Turning a plan into records


def _mem(mib: int) -> str:
    return f"{mib // 1024}G" if mib % 1024 == 0 else f"{mib}M"


def _tres(cpus: int, mem_mib: int, nodes: int, gpus: int, billing: int | None) -> str:
    parts = []
    if billing is not None:
        parts.append(f"billing={billing}")
    parts.append(f"cpu={cpus}")
    if gpus:
        parts.append(f"gres/gpu={gpus}")
    parts += [f"mem={_mem(mem_mib)}", f"node={nodes}"]
    return ",".join(parts)


def _nodes(rng: random.Random, part: Partition, count: int) -> list[str]:
    span = part.last_node - part.first_node + 1
    if count > 1 and rng.random() < 0.3:
        numbers = sorted(rng.sample(range(part.first_node, part.last_node + 1), count))
    else:
        first = rng.randint(part.first_node, part.first_node + span - count)
        numbers = list(range(first, first + count))
    return [f"tux{n:03d}" for n in numbers]


def _cpu_usage(rng: random.Random, seconds: int, cpus: int, efficiency: float) -> tuple[int, int]:
    busy = int(seconds * cpus * efficiency * 1_000_000)
    system = int(busy * rng.uniform(0.01, 0.08))
    return busy - system, system


def _realise(rng: random.Random, plan: Plan) -> tuple[Job, str]:
    """The job record (with its steps) of a plan, and the scenario it ended up as."""
    shape = plan.shape
    user = shape.user
    ncpus = shape.nnodes * shape.cpus_per_node
    gpus = shape.nnodes * shape.gpus_per_node
    mem_total = shape.mem_per_node * shape.nnodes
    billing = ncpus + 16 * gpus
    req_tres = _tres(ncpus, mem_total, shape.nnodes, gpus, billing)
    job = Job(
        cluster=CLUSTER,
        job_id_raw=plan.job_id_raw,
        array_job_id=plan.array_job_id,
        array_task_id=plan.array_task_id,
        array_task_str=None,
        array_max_tasks=plan.array_max_tasks,
        het_job_id=None,
        het_job_offset=None,
        job_name=shape.job_name,
        user_name=user.name,
        uid=user.uid,
        group_name=user.group,
        gid=user.gid,
        account=shape.account,
        partition=shape.partition.name,
        qos=shape.qos,
        reservation=None,
        wckey=None,
        constraints=shape.constraints,
        work_dir=f"/home/{user.name}/{user.project}",
        submit_line=plan.submit_line,
        priority=plan.priority,
        req_cpus=ncpus,
        req_mem=shape.mem_per_node,
        req_tres=req_tres,
        timelimit=shape.timelimit,
        time_submit=plan.submit,
        time_eligible=plan.eligible,
        time_suspended=0,
        kill_requid=None,
        comment=shape.comment,
        admin_comment=None,
        system_comment=None,
        derived_annotated=False,
    )
    scenario = plan.scenario
    if plan.cancel_at is not None and plan.cancel_at < NOW:
        return _pending(rng, job, plan, plan.cancel_at), SCANCEL_PENDING
    if plan.start >= NOW:
        return _pending(rng, job, plan, None), PENDING
    end = plan.start + plan.run
    if end >= NOW:
        scenario = RUNNING
    nodes = _nodes(rng, shape.partition, shape.nnodes)
    job.nodelist = hostlist.collect_hostlist(nodes)
    job.nnodes = shape.nnodes
    job.ncpus = ncpus
    job.alloc_tres = _tres(ncpus, mem_total, shape.nnodes, gpus, billing)
    job.time_start = plan.start
    job.flags = rng.choice(
        ("SchedMain,StartRecieved", "SchedBackfill,StartRecieved", "SchedMain,StartRecieved")
    )
    steps = _steps(rng, plan, scenario, nodes, job.nodelist)
    job.steps = steps
    _finish(rng, job, plan, scenario, steps)
    return job, scenario


def _pending(rng: random.Random, job: Job, plan: Plan, cancelled_at: int | None) -> Job:
    """A job that never started: still PENDING, or CANCELLED while queued."""
    job.nodelist = None
    job.nnodes = plan.shape.nnodes
    job.ncpus = job.req_cpus or 0
    job.alloc_tres = None
    job.flags = None
    job.time_start = None
    job.exit_code, job.exit_signal = 0, 0
    job.derived_exit_code, job.derived_exit_signal = 0, 0
    if cancelled_at is None:
        job.state = "PENDING"
        job.time_end = None
        job.reason = "BeginTime" if (job.time_eligible or 0) > NOW else plan.wait_reason
        job.user_cpu_usec = job.system_cpu_usec = job.total_cpu_usec = None
    else:
        job.state = "CANCELLED"
        job.time_end = cancelled_at
        job.kill_requid = job.uid if rng.random() < 0.85 else 0
        job.reason = plan.wait_reason
        job.user_cpu_usec = job.system_cpu_usec = job.total_cpu_usec = 0
    job.steps = []
    return job


def _srun_count(rng: random.Random, scenario: str) -> int:
    count = rng.choices((0, 1, 2, 3, 4), weights=(35, 30, 15, 10, 10))[0]
    if scenario in (SRUN_STEP_FAILED, STEP_SIGNAL) and count == 0:
        count = rng.randint(1, 4)
    return count


def _steps(
    rng: random.Random, plan: Plan, scenario: str, nodes: list[str], nodelist: str
) -> list[Step]:
    shape = plan.shape
    start = plan.start
    end = start + plan.run  # when the job ends (cancel / timeout / failure / normal end)
    ncpus = shape.nnodes * shape.cpus_per_node
    gpus = shape.nnodes * shape.gpus_per_node
    mem_total = shape.mem_per_node * shape.nnodes
    mem_kib = shape.mem_per_node * 1024
    count = _srun_count(rng, scenario)
    # Killed jobs were planned to run longer: their steps are laid out over the planned run
    # and cut where the job was killed.
    layout_end = end
    if plan.scenario in KILLED:
        layout_end = start + int(plan.run * rng.uniform(1.2, 3.0)) + 60
    cut = min(end, NOW)
    steps: list[Step] = []

    # srun steps, one after another inside the batch script, each at least 3 s long.
    length = layout_end - start
    setup = min(rng.randint(1, 30), length // 4)
    span = length - setup - min(rng.randint(1, 20), length // 4)
    count = min(count, span // 3)
    cuts = sorted(rng.uniform(0, 1) for _ in range(max(0, count - 1)))
    bounds = [0.0, *cuts, 1.0]
    failing: set[int] = set()
    if scenario == SRUN_STEP_FAILED:
        failing = set(rng.sample(range(count), 1 if count < 3 else rng.randint(1, 2)))
    elif scenario == STEP_SIGNAL:
        failing = {rng.randrange(count)}
    for i in range(count):
        s_start = start + setup + int(span * bounds[i]) + (2 if i else 0)
        s_end = start + setup + int(span * bounds[i + 1])
        s_end = max(s_end, s_start + 1)
        if s_start >= cut:
            break  # never started: the job ended (or the window did) first
        ntasks = ncpus if shape.step_name not in ("python", "torchrun") else shape.nnodes
        step = Step(
            step_id=i,
            step_het_component=None,
            step_name=shape.step_name,
            nodelist=nodelist,
            nnodes=shape.nnodes,
            ntasks=ntasks,
            ncpus=ncpus,
            alloc_tres=_tres(ncpus, mem_total, shape.nnodes, gpus, None),
            time_start=s_start,
            time_suspended=0,
            kill_requid=None,
        )
        if s_end >= cut:
            # Still running at the cut: killed with the job, or running at the window's end.
            if scenario == RUNNING:
                _set(step, "RUNNING", 0, 0, None)
                step.user_cpu_usec = step.system_cpu_usec = step.total_cpu_usec = 0
                step.max_rss = None
                steps.append(step)
                break
            s_end = end + rng.randint(0, 5)
            if scenario == NODE_FAIL:
                _set(step, "CANCELLED", None, None, s_end)  # never reported: NO_VAL
            else:
                _set(step, "CANCELLED", 0, 15, s_end)
        elif i in failing and scenario == SRUN_STEP_FAILED:
            _set(step, "FAILED", rng.choice(STEP_EXIT_CODES), 0, s_end)
        elif i in failing and scenario == STEP_SIGNAL:
            _set(step, "CANCELLED", 0, rng.choice((9, 9, 11)), s_end)
        else:
            _set(step, "COMPLETED", 0, 0, s_end)
        seconds = max(0, (step.time_end or s_end) - s_start)
        user_us, sys_us = _cpu_usage(rng, seconds, ncpus, rng.uniform(0.3, 0.98))
        step.user_cpu_usec, step.system_cpu_usec = user_us, sys_us
        step.total_cpu_usec = user_us + sys_us
        # MaxRSS is the largest task's: a share of its node's memory.
        task_kib = mem_kib * shape.nnodes // ntasks
        step.max_rss = int(task_kib * rng.uniform(0.05, 0.8)) * 1024
        steps.append(step)

    # The batch step: the script itself, on the first node.
    batch = Step(
        step_id=BATCH_STEP,
        step_het_component=None,
        step_name="batch",
        nodelist=nodes[0],
        nnodes=1,
        ntasks=1,
        ncpus=shape.cpus_per_node,
        alloc_tres=_tres(shape.cpus_per_node, shape.mem_per_node, 1, shape.gpus_per_node, None),
        time_start=start,
        time_suspended=0,
        kill_requid=None,
    )
    batch_end = end
    if scenario == RUNNING:
        _set(batch, "RUNNING", 0, 0, None)
    elif scenario == COMPLETED or scenario in (SRUN_STEP_FAILED, STEP_SIGNAL):
        _set(batch, "COMPLETED", 0, 0, end)
    elif scenario == SCRIPT_EXIT:
        _set(batch, "FAILED", rng.choice(SCRIPT_EXIT_CODES), 0, end)
    elif scenario == BATCH_SIGNAL:
        _set(batch, "CANCELLED", 0, rng.choice((9, 9, 11)), end)
    elif scenario == SCANCEL_RUNNING:
        batch_end = end + rng.randint(0, 10)
        _set(batch, "CANCELLED", 0, 15 if rng.random() < 0.9 else 9, batch_end)
    elif scenario == TIMEOUT:
        _set(batch, "CANCELLED", 0, 15, end)
    elif scenario == OOM:
        _set(batch, "OUT_OF_MEMORY", 0, 125, end)
    elif scenario == NODE_FAIL:
        _set(batch, "CANCELLED", None, None, end)
    else:
        raise AssertionError(scenario)
    b_seconds = (batch.time_end or NOW) - start
    if count:
        user_us, sys_us = _cpu_usage(rng, b_seconds, 1, rng.uniform(0.0005, 0.01))
        rss_kib = rng.randint(3000, 40_000)
    else:
        eff = rng.uniform(0.2, 0.98)
        user_us, sys_us = _cpu_usage(rng, b_seconds, shape.cpus_per_node, eff)
        rss_kib = rng.randint(5000, max(5001, int(mem_kib * 0.85)))
    if scenario == OOM:
        rss_kib = int(mem_kib * rng.uniform(0.97, 1.0))
    if scenario == RUNNING:
        batch.user_cpu_usec = batch.system_cpu_usec = batch.total_cpu_usec = 0
        batch.max_rss = None
    else:
        batch.user_cpu_usec, batch.system_cpu_usec = user_us, sys_us
        batch.total_cpu_usec = user_us + sys_us
        batch.max_rss = rss_kib * 1024
    steps.insert(0, batch)

    # The extern step (PrologFlags=contain): the allocation itself, always 0:0.
    extern = Step(
        step_id=EXTERN_STEP,
        step_het_component=None,
        step_name="extern",
        nodelist=nodelist,
        nnodes=shape.nnodes,
        ntasks=shape.nnodes,
        ncpus=ncpus,
        alloc_tres=_tres(ncpus, mem_total, shape.nnodes, gpus, None),
        time_start=start,
        time_suspended=0,
        kill_requid=None,
    )
    if scenario == RUNNING:
        _set(extern, "RUNNING", 0, 0, None)
        extern.user_cpu_usec = extern.system_cpu_usec = extern.total_cpu_usec = 0
        extern.max_rss = None
    else:
        _set(extern, "COMPLETED", 0, 0, max(batch_end, *(s.time_end or 0 for s in steps)))
        extern.user_cpu_usec = rng.randint(0, 3) * 1000
        extern.system_cpu_usec = rng.randint(0, 2) * 1000
        extern.total_cpu_usec = extern.user_cpu_usec + extern.system_cpu_usec
        extern.max_rss = rng.randint(600, 1200) * 1024
    steps.insert(0, extern)
    return sorted(steps, key=lambda s: s.step_id)


def _set(step: Step, state: str, code: int | None, signal: int | None, end: int | None) -> None:
    step.state = state
    step.exit_code = code
    step.exit_signal = signal
    step.time_end = end


def _finish(rng: random.Random, job: Job, plan: Plan, scenario: str, steps: list[Step]) -> None:
    """Job state, exit code, reason, end and CPU totals from the scenario (§1.4)."""
    batch = next(s for s in steps if s.step_id == BATCH_STEP)
    end = plan.start + plan.run
    job.time_end = end
    job.reason = "JobArrayTaskLimit" if plan.throttled else "None"
    code, signal = 0, 0
    if scenario == RUNNING:
        job.state, job.time_end = "RUNNING", None
    elif scenario in (COMPLETED, SRUN_STEP_FAILED, STEP_SIGNAL):
        job.state = "COMPLETED"
    elif scenario == SCRIPT_EXIT:
        job.state, job.reason = "FAILED", "NonZeroExitCode"
        code = batch.exit_code or 0
    elif scenario == BATCH_SIGNAL:
        job.state, job.reason = "FAILED", "RaisedSignal"
        signal = batch.exit_signal or 0
    elif scenario == SCANCEL_RUNNING:
        job.state = "CANCELLED"
        job.kill_requid = job.uid if rng.random() < 0.85 else 0
    elif scenario == TIMEOUT:
        job.state, job.reason = "TIMEOUT", "TimeLimit"
    elif scenario == OOM:
        job.state, job.reason = "OUT_OF_MEMORY", "OutOfMemory"
        signal = 125
    elif scenario == NODE_FAIL:
        job.state, job.reason = "NODE_FAIL", "NodeDown"
        code = 1  # Slurm stores 1 as 256: printed 1:0
        bad = hostlist.expand_hostlist(job.nodelist or "")[0]
        if rng.random() < 0.5:
            job.admin_comment = f"node failure on {bad}: DIMM errors, ticket opened"
    else:
        raise AssertionError(scenario)
    job.exit_code, job.exit_signal = code, signal
    for column in ("user_cpu_usec", "system_cpu_usec", "total_cpu_usec"):
        setattr(job, column, sum(getattr(s, column) or 0 for s in steps))
    annotate = job.state != "RUNNING" and rng.random() < (
        0.2 if scenario in (SCRIPT_EXIT, OOM) else 0.004
    )
    derived = store.computed_derived(steps)
    job.computed_exit_code, job.computed_exit_signal = derived.code, derived.signal
    if annotate:
        value, note = rng.choice(OOM_ANNOTATIONS if scenario == OOM else ANNOTATIONS)
        job.derived_exit_code, job.derived_exit_signal = value, 0
        job.derived_annotated = True
        job.comment = note
    else:
        job.derived_exit_code, job.derived_exit_signal = derived.code, derived.signal


#: slurmdbd's ids of the tux cluster's QOS and associations (user, account).
QOS_IDS = {"normal": 1, "high": 2}
ASSOC_IDS = {
    key: number
    for number, key in enumerate(((u.name, a) for u in USERS for a in u.accounts), start=2)
}
#: Slurm's NO_VAL: a step started without --cpu-freq.
NO_VAL = 0xFFFFFFFE
#: task_dist values: srun's default block distribution, and none (batch, extern).
DIST_BLOCK, DIST_NONE = 0x0002, 0


def _accounting(job: Job, plan: Plan, db_index: int, seed: int) -> None:
    """The slurmdbd ids, energy and step usage statistics of a generated job.

    Drawn from a generator of their own (seeded by the job), so they do not change the
    records drawn before them.
    """
    rng = random.Random(f"{seed}:{job.job_id_raw}:{job.time_submit}")
    shape = plan.shape
    job.db_index = db_index
    job.assoc_id = ASSOC_IDS[(shape.user.name, shape.account)]
    job.qos_id = QOS_IDS[shape.qos]
    job.wckey_id = 0
    job.req_nodes = shape.nnodes
    for step in job.steps:
        srun = step.step_id >= 0
        step.layout = task_layout_name(DIST_BLOCK if srun else DIST_NONE)
        freq = NO_VAL if srun else 0
        step.req_cpufreq_min = step.req_cpufreq_max = step.req_cpufreq_gov = freq
        step.submit_line = f"srun {step.step_name}" if srun else None
        if step.time_end is not None and step.max_rss is not None:
            _step_statistics(rng, step)
    # slurmctld adds each finished step's energy to the job's allocated TRES.
    job.consumed_energy = sum(s.consumed_energy or 0 for s in job.steps)


def _usage_string(values: dict[int, int]) -> str:
    return ",".join(f"{tres}={count}" for tres, count in sorted(values.items()))


def _step_statistics(rng: random.Random, step: Step) -> None:
    """Usage of a finished step as slurmdbd would hold it (TRES usage strings), turned into
    the step's columns by the slurmdbd importer's own rules."""
    assert step.time_end is not None and step.time_start is not None
    assert step.max_rss is not None and step.nodelist is not None
    nodes = hostlist.expand_hostlist(step.nodelist)
    tasks = max(step.ntasks, 1)
    per_node = -(-tasks // len(nodes))
    seconds = max(step.time_end - step.time_start, 0)
    is_extern = step.step_id == EXTERN_STEP
    watts = 0.0 if is_extern else rng.uniform(180.0, 320.0)
    energy = int(seconds * step.nnodes * watts)
    page = 4096
    cpu_total = (step.total_cpu_usec or 0) // 1000  # ms

    def spread(top: int, low: float, unit: int = 1) -> tuple[int, int, int]:
        """(max, ave, min) of one statistic over the tasks, ``top`` being the max; memory
        is counted in whole KiB (``unit``) as the kernel reports it."""
        if tasks == 1:
            return top, top, top
        ave = int(top * rng.uniform(low, 1.0)) // unit * unit
        return top, ave, int(ave * rng.uniform(low, 1.0)) // unit * unit

    cpu_ave = cpu_total // tasks
    if tasks == 1:
        cpu = (cpu_ave, cpu_ave, cpu_ave)
    else:
        cpu_max = min(cpu_total, int(cpu_ave * rng.uniform(1.0, 1.2)))
        cpu = (cpu_max, cpu_ave, int(cpu_ave * rng.uniform(0.8, 1.0)))
    rss = spread(step.max_rss, 0.6, 1024)
    vm_top = step.max_rss + rng.randint(40_000, 400_000) * page
    vmem = spread(vm_top, 0.8, 1024)
    faults = 0 if rng.random() < 0.7 else rng.randint(1, 400)
    pages = spread(faults, 0.3)
    read = spread(0 if is_extern else int(10 ** rng.uniform(3, 9.5)), 0.4)
    write = spread(0 if is_extern else int(10 ** rng.uniform(2, 9)), 0.4)
    watts_task = spread(energy // tasks, 0.9)
    # (TRES id, (max, ave, min)) of what the tasks read in and wrote out.
    stats_in = {1: cpu, 2: rss, 3: watts_task, 6: read, 7: vmem, 8: pages}
    stats_out = {3: (0, 0, 0), 6: write}
    totals_in = {tres: ave * tasks for tres, (_, ave, _) in stats_in.items()}
    totals_in[1], totals_in[3] = cpu_total, energy
    totals_out = {3: 0, 6: write[1] * tasks}

    def where(tres_ids: tuple[int, ...]) -> tuple[dict[int, int], dict[int, int]]:
        """The task that had each extreme, and its node's index in the step's node list."""
        chosen = {tres: rng.randrange(tasks) for tres in tres_ids}
        node_ids = {tres: min(task // per_node, len(nodes) - 1) for tres, task in chosen.items()}
        return chosen, node_ids

    max_task, max_node = where((1, 2, 3, 6, 7, 8))
    min_task, min_node = where((1, 2, 3, 6, 7, 8))
    out_max_task, out_max_node = where((3, 6))
    out_min_task, out_min_node = where((3, 6))
    no_energy = (1, 2, 6, 7, 8)  # slurmstepd keeps no task id for energy
    usage = {
        "tres_usage_in_max": _usage_string({t: v[0] for t, v in stats_in.items()}),
        "tres_usage_in_ave": _usage_string({t: v[1] for t, v in stats_in.items()}),
        "tres_usage_in_min": _usage_string({t: v[2] for t, v in stats_in.items()}),
        "tres_usage_in_tot": _usage_string(totals_in),
        "tres_usage_in_max_nodeid": _usage_string(max_node),
        "tres_usage_in_max_taskid": _usage_string({t: max_task[t] for t in no_energy}),
        "tres_usage_in_min_nodeid": _usage_string(min_node),
        "tres_usage_in_min_taskid": _usage_string({t: min_task[t] for t in no_energy}),
        "tres_usage_out_max": _usage_string({t: v[0] for t, v in stats_out.items()}),
        "tres_usage_out_ave": _usage_string({t: v[1] for t, v in stats_out.items()}),
        "tres_usage_out_min": _usage_string({t: v[2] for t, v in stats_out.items()}),
        "tres_usage_out_tot": _usage_string(totals_out),
        "tres_usage_out_max_nodeid": _usage_string(out_max_node),
        "tres_usage_out_max_taskid": _usage_string({6: out_max_task[6]}),
        "tres_usage_out_min_nodeid": _usage_string(out_min_node),
        "tres_usage_out_min_taskid": _usage_string({6: out_min_task[6]}),
    }
    values, unknown = step_usage(usage, step.nodelist)
    assert not unknown
    for column, value in values.items():
        setattr(step, column, value)
    step.consumed_energy = energy
    # act_cpufreq as slurmdbd stores it (sacct prints 2596 as 2.60M).
    step.ave_cpufreq = rng.choice((2100, 2400, 2600, 2900)) + rng.randint(-30, 30)


def generate(session: Session, seed: int = SEED) -> Counter[str]:
    """Add the generated ``tux`` records to the session; returns the counts by scenario."""
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    jobs = []
    for db_index, plan in enumerate(_plans(rng), start=1):
        job, scenario = _realise(rng, plan)
        _accounting(job, plan, db_index, seed)
        jobs.append(job)
        counts[scenario] += 1
        if plan.array_task_id is not None:
            counts["array_task"] += 1
        if job.derived_annotated:
            counts["annotated_derived"] += 1
        elif job.comment:
            counts["comment"] += 1
    session.add_all(jobs)
    session.flush()
    return counts


# --------------------------------------------------------------------------------------
# Golden records


def golden_sacct_lines() -> list[str]:
    """The ``--- stdout`` section of the golden ``sacct -a --parsable2 --format=ALL``."""
    lines = GOLDEN_SACCT.read_text().splitlines()
    first = lines.index("--- stdout") + 1
    last = lines.index("--- stderr", first)
    return lines[first:last]


def _slurmdbd_module() -> Any | None:
    try:
        return importlib.import_module("jobacct.slurmdbd_import")
    except ModuleNotFoundError as exc:
        if exc.name != "jobacct.slurmdbd_import":
            raise
        return None


def import_golden(session: Session) -> dict[str, int]:
    """Import the golden corpus's records as cluster ``golden``."""
    result = import_sacct(session, golden_sacct_lines(), GOLDEN_CLUSTER, str(GOLDEN_SACCT))
    counts = {"sacct_jobs": result.jobs_seen, "sacct_steps": result.steps_seen}
    module = _slurmdbd_module()
    if module is None:
        print(
            "warning: jobacct.slurmdbd_import not available; the golden slurmdbd tables"
            " (hidden pending-cancelled jobs) are not in this build",
            file=sys.stderr,
        )
        counts["slurmdbd"] = 0
        return counts
    job_rows = module.read_mysql_tsv(GOLDEN_JOB_TABLE)
    step_rows = module.read_mysql_tsv(GOLDEN_STEP_TABLE)
    module.import_slurmdbd(
        session,
        job_rows,
        step_rows,
        GOLDEN_CLUSTER,
        dict(GOLDEN_USERS),
        dict(GOLDEN_USERS),
        str(GOLDEN_JOB_TABLE),
    )
    counts["slurmdbd"] = 1
    return counts


# --------------------------------------------------------------------------------------
# The build


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def build(path: Path) -> None:
    """Create ``path`` afresh: migrate to head, import golden, generate, compact."""
    report(build_counts(path))


def build_counts(path: Path) -> dict[str, Any]:
    """:func:`build`, returning what went in instead of printing it."""
    path = Path(path).resolve()
    _remove(path)
    started = time.perf_counter()
    engine = make_engine("sqlite:///" + str(path), create=True)
    try:
        migrate.upgrade(engine)
        with Session(engine) as session, session.begin():
            golden = import_golden(session)
            scenarios = generate(session)
    finally:
        engine.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("VACUUM")
        states = dict(
            connection.execute(
                "SELECT state, count(*) FROM job WHERE cluster = ? GROUP BY state ORDER BY state",
                (CLUSTER,),
            ).fetchall()
        )
        totals = dict(
            connection.execute(
                "SELECT j.cluster, count(*) FROM job j GROUP BY j.cluster ORDER BY j.cluster"
            ).fetchall()
        )
        step_totals = dict(
            connection.execute(
                "SELECT j.cluster, count(*) FROM step s JOIN job j ON j.id = s.job_pk"
                " GROUP BY j.cluster ORDER BY j.cluster"
            ).fetchall()
        )
    finally:
        connection.close()
    return {
        "path": path,
        "seconds": time.perf_counter() - started,
        "bytes": path.stat().st_size,
        "golden": golden,
        "scenarios": scenarios,
        "states": states,
        "jobs": totals,
        "steps": step_totals,
    }


def report(info: dict[str, Any]) -> None:
    scenarios: Counter[str] = info["scenarios"]
    print(f"built {info['path']} in {info['seconds']:.1f} s ({info['bytes']:,} bytes)")
    for cluster, jobs in info["jobs"].items():
        print(f"  cluster {cluster}: {jobs} jobs, {info['steps'].get(cluster, 0)} steps")
    if not info["golden"].get("slurmdbd"):
        print("  (golden slurmdbd tables not imported: jobacct.slurmdbd_import missing)")
    print(f"  {CLUSTER} scenarios:")
    print("  | scenario | jobs |")
    print("  |---|---:|")
    for name in SCENARIOS:
        print(f"  | {name} | {scenarios.get(name, 0)} |")
    for name in ("array_task", "annotated_derived", "comment"):
        print(f"  | ({name}) | {scenarios.get(name, 0)} |")
    print(f"  {CLUSTER} job states:")
    for state, count in info["states"].items():
        print(f"  | {state} | {count} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the bundled jobacct sample database.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="SQLite file to write")
    args = parser.parse_args(argv)
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
