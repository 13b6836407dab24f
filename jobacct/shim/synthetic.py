"""Synthetic controller event streams, for the replay test and bench/bench_shim.py.

Each job gets the events a controller would send, with seq counting from 0 per job: submit,
start, batch/extern/srun steps starting and ending, and the job's end, with a mix of outcomes
from slurm-semantics.md §1.4 (exit 0, exit N, a step killed by a signal, OOM, time limit, a
cancelled pending job, a step still open at the end). Deterministic for a given seed.
"""

from __future__ import annotations

import random
from typing import Any

_OUTCOMES = ("ok", "ok", "ok", "exit", "step_signal", "oom", "timeout", "pending_cancel", "open")


def job_events(
    jobs: int, *, cluster: str = "synth", first_job: int = 1000, seed: int = 5
) -> list[dict[str, Any]]:
    """Events (JSON-ready dicts) of ``jobs`` jobs, in controller order per job, jobs in turn."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    base = 1_790_000_000
    for index in range(jobs):
        job_id = first_job + index
        submit = base + index * 7
        seq = iter(range(1000))
        outcome = _OUTCOMES[rng.randrange(len(_OUTCOMES))]

        def ev(kind: str, _job: int = job_id, _submit: int = submit, **fields: Any) -> None:
            out.append(
                {
                    "schema": 1,
                    "type": kind,
                    "cluster": cluster,
                    "job_id_raw": _job,
                    "submit": _submit,
                    "seq": next(seq),  # noqa: B023 - the job's own counter, used at once
                    **fields,
                }
            )

        uid = 1000 + rng.randrange(20)
        ev(
            "job_submit",
            uid=uid,
            user_name=f"user{uid}",
            gid=100,
            account=f"acct{uid % 5}",
            partition="batch",
            qos="normal",
            job_name=f"job{index}",
            timelimit=60,
            req_cpus=4,
            req_mem=4000,
            work_dir="/scratch/work",
            eligible=submit,
        )
        if outcome == "pending_cancel":
            ev("job_end", time=submit + 30, state="CANCELLED", exit=0, kill_requid=uid)
            continue
        start = submit + rng.randrange(1, 60)
        node = f"n{rng.randrange(1, 64):03d}"
        ev("job_start", time=start, nodelist=node, nnodes=1, ncpus=4)
        ev("step_start", step="extern", time=start, nodelist=node, nnodes=1, ntasks=1, ncpus=4)
        ev("step_start", step="batch", time=start, nodelist=node, nnodes=1, ntasks=1, ncpus=4)
        t = start + 1
        steps = rng.randrange(1, 3)
        for number in range(steps):
            ev(
                "step_start",
                step=str(number),
                time=t,
                nodelist=node,
                nnodes=1,
                ntasks=4,
                ncpus=4,
                step_name="srun_app",
            )
            t += rng.randrange(5, 500)
            raw = 0
            if outcome == "exit" and number == steps - 1:
                raw = rng.randrange(1, 5) << 8
            elif outcome == "step_signal" and number == 0:
                raw = 9
            elif outcome == "oom" and number == steps - 1:
                raw = 253
            if outcome == "open" and number == steps - 1:
                continue
            ev(
                "step_end",
                step=str(number),
                time=t,
                exit=raw,
                max_rss=rng.randrange(1, 1 << 30),
                user_cpu_usec=rng.randrange(1, 10**9),
                system_cpu_usec=rng.randrange(1, 10**8),
            )
        end = t + 1
        if outcome == "timeout":
            ev("job_end", time=end, state="TIMEOUT", exit=0)
            ev("step_end", step="batch", time=end + 1, exit=15)
        elif outcome == "oom":
            ev("step_end", step="batch", time=end, exit=253)
            ev("job_end", time=end, state="OUT_OF_MEMORY", exit=253)
        elif outcome == "exit":
            ev("step_end", step="batch", time=end, exit=256)
            ev("job_end", time=end, state="FAILED", exit=256, reason="NonZeroExitCode")
        else:
            ev("step_end", step="batch", time=end, exit=0)
            ev("job_end", time=end, state="COMPLETED", exit=0)
        ev("step_end", step="extern", time=end + 1, exit=0)
    return out
