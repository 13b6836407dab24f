"""Deterministic synthetic slurmdbd dumps (``mysql -B`` of ``<cluster>_job_table`` and
``<cluster>_step_table``, Slurm 22.05 columns) for the import benchmark and tests.

``write_dumps(directory, jobs)`` writes ``job_table.tsv`` and ``step_table.tsv``: ``jobs`` job
records over 30 days with about 3 steps each (batch, extern and 0-2 srun steps; 3.0 on
average), in ``job_db_inx`` order as mysql dumps them. The mix: exit codes 0, 1, 2, >= 128
(137, 139, 255), signals (9, 15, 11), OOM, steps that never reported (-2); COMPLETED,
FAILED, CANCELLED by a uid, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, RUNNING and REQUEUED
records (a requeued job keeps its id with a new submit time); array tasks (with a pending
meta record), het job components, users' DerivedExitCode annotations (derived_es). The same
``(jobs, seed)`` always gives the same bytes.

Run as a script: ``python bench/slurmdbd_dumps.py DIR --jobs N``.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

JOB_HEADER = (  # noqa: SIM905 - the dump's header line, as mysql prints it
    "job_db_inx mod_time deleted account admin_comment array_task_str array_max_tasks"
    " array_task_pending constraints container cpus_req derived_ec derived_es env_hash_inx"
    " exit_code flags job_name id_assoc id_array_job id_array_task id_block id_job id_qos"
    " id_resv id_wckey id_user id_group het_job_id het_job_offset kill_requid"
    " state_reason_prev mcs_label mem_req nodelist nodes_alloc node_inx partition priority"
    " script_hash_inx state timelimit time_submit time_eligible time_start time_end"
    " time_suspended gres_used wckey work_dir submit_line system_comment tres_alloc tres_req"
).split()
STEP_HEADER = (  # noqa: SIM905
    "job_db_inx deleted exit_code id_step step_het_comp kill_requid nodelist nodes_alloc"
    " node_inx state step_name task_cnt task_dist time_start time_end time_suspended user_sec"
    " user_usec sys_sec sys_usec act_cpufreq consumed_energy container req_cpufreq_min"
    " req_cpufreq req_cpufreq_gov submit_line tres_alloc tres_usage_in_ave tres_usage_in_max"
    " tres_usage_in_max_taskid tres_usage_in_max_nodeid tres_usage_in_min"
    " tres_usage_in_min_taskid tres_usage_in_min_nodeid tres_usage_in_tot tres_usage_out_ave"
    " tres_usage_out_max tres_usage_out_max_taskid tres_usage_out_max_nodeid"
    " tres_usage_out_min tres_usage_out_min_taskid tres_usage_out_min_nodeid"
    " tres_usage_out_tot"
).split()

START = 1_793_000_000  # 2026-10-26, a month before the golden corpus
SPAN = 30 * 86_400
NO_VAL = 4294967294
NO_VAL64 = 18446744073709551614
INFINITE = 4294967295
USERS = [(1000 + n, f"user{n:03d}") for n in range(200)]
ACCOUNTS = ["astro", "chem", "ml", "bio", "phys", "geo"]
PARTITIONS = ["batch", "gpu", "long", "debug"]
NAMES = ["gadget_run", "orca_opt", "train_resnet", "vasp_relax", "nbody_ic", "eval_sweep"]
#: (state, weight, job wait status choices)
STATES = [
    (3, 70, (0,)),  # COMPLETED
    (5, 12, (1 << 8, 2 << 8, 137 << 8, 139 << 8, 255 << 8)),  # FAILED, incl. >= 128
    (4, 7, (0, 15, 9)),  # CANCELLED (0:0 by uid, or a signal)
    (6, 4, (0,)),  # TIMEOUT
    (11, 3, (0,)),  # OUT_OF_MEMORY
    (7, 1, (0,)),  # NODE_FAIL
    (1, 2, (0,)),  # RUNNING
    (1024, 1, (0,)),  # REQUEUED (the old run of a requeued job)
]
STEP_STATUSES = [0] * 80 + [1 << 8, 2 << 8, 137 << 8, 139 << 8, 9, 15, 11, 253, -2, 255 << 8]


def _usage(r: random.Random, cpus: int) -> tuple[str, str, str, str]:
    """(in counts, in node/task ids, out counts, out ids) usage strings of one step."""
    cpu_ms = r.randrange(0, 3_600_000)
    mem = r.randrange(1 << 20, 64 << 30)
    disk = r.randrange(0, 1 << 34)
    vmem = mem + r.randrange(0, 1 << 30)
    pages = r.randrange(0, 100)
    counts = f"1={cpu_ms},2={mem},3=0,6={disk},7={vmem},8={pages}"
    ids = f"1={r.randrange(cpus)},2=0,3=0,6=0,7={r.randrange(2)},8=0"
    out = f"3=0,6={r.randrange(0, 1 << 32)}"
    out_ids = f"3=0,6={r.randrange(2)}"
    return counts, ids, out, out_ids


def write_dumps(directory: Path, jobs: int, seed: int = 1) -> tuple[Path, Path, int]:
    """Write the two dumps into ``directory``; returns (job file, step file, step rows)."""
    directory.mkdir(parents=True, exist_ok=True)
    r = random.Random(seed)
    job_path, step_path = directory / "job_table.tsv", directory / "step_table.tsv"
    weights = [w for _, w, _ in STATES]
    steps_written = 0
    with job_path.open("w", encoding="utf-8") as jf, step_path.open("w", encoding="utf-8") as sf:
        jf.write("\t".join(JOB_HEADER) + "\n")
        sf.write("\t".join(STEP_HEADER) + "\n")
        job_id = 100_000
        inx = 0
        array_left = 0
        array_id = array_task = 0
        het_left = 0
        het_id = het_offset = 0
        reuse_id = False
        for n in range(jobs):
            inx += 1  # noqa: SIM113 - inx counts records, n places them in time
            submit = START + n * SPAN // max(jobs, 1)
            uid, _user = USERS[r.randrange(len(USERS))]
            account = ACCOUNTS[uid % len(ACCOUNTS)]
            partition = PARTITIONS[r.randrange(len(PARTITIONS))]
            state, _, statuses = r.choices(STATES, weights)[0]
            exit_status = r.choice(statuses)
            # Array tasks come in runs of 4 after a pending meta record; het jobs in pairs.
            array_task_str = "NULL"
            id_array_job, id_array_task = 0, NO_VAL
            het_job_id, het_job_offset = 0, NO_VAL
            if array_left == 0 and het_left == 0 and r.random() < 0.02:
                array_left, array_id, array_task = 5, job_id + 1, 0
            if array_left:
                id_array_job = array_id
                if array_left == 5:
                    id_array_task, array_task_str, state, exit_status = NO_VAL, "0x1E", 0, 0
                else:
                    id_array_task = array_task
                    array_task += 1
                array_left -= 1
            elif het_left == 0 and r.random() < 0.01:
                het_left, het_id, het_offset = 2, job_id + 1, 0
            if het_left and not array_left and id_array_job == 0:
                het_job_id, het_job_offset = het_id, het_offset
                het_offset += 1
                het_left -= 1
            # A requeued run keeps its id: the next record is the same job, submitted again.
            job_id += 0 if reuse_id else 1
            reuse_id = state == 1024 and not array_left and not het_left
            cpus = r.choice((1, 2, 4, 8, 16, 32, 64, 128))
            nodes = max(1, cpus // 32)
            node0 = r.randrange(1, 200)
            nodelist = (
                f"tux{node0:03d}" if nodes == 1 else f"tux[{node0:03d}-{node0 + nodes - 1:03d}]"
            )
            eligible = submit + r.randrange(0, 30)
            pending = state == 0
            running = state == 1
            start = 0 if pending else eligible + r.randrange(0, 3600)
            end = 0 if pending or running else start + r.randrange(10, 86_400)
            if pending:
                nodelist, nodes_alloc, tres_alloc = "None assigned", 0, ""
            else:
                nodes_alloc = nodes
                tres_alloc = f"1={cpus},2={cpus * 4000},3={NO_VAL64},4={nodes},5={cpus}"
            tres_req = f"1={cpus},2={cpus * 4000},4={nodes},5={cpus}"
            kill = str(uid) if state == 4 and exit_status == 0 else "NULL"
            # Steps: batch, extern and 0-3 srun steps (3 on average), all but pending jobs.
            step_rows: list[str] = []
            derived = 0
            if not pending:
                ids = [-5, -4, *range(r.choice((0, 1, 1, 1, 1, 2)))]
                for step_id in ids:
                    status = exit_status if step_id == -5 else r.choice(STEP_STATUSES)
                    if running and step_id >= 0:
                        status = -2
                    s_start = start + (0 if step_id < 0 else r.randrange(0, 60))
                    s_end = 0 if running else end
                    s_state = 1 if running else (3 if status == 0 else 5 if status >> 8 else 4)
                    if step_id >= 0 and status not in (-2,) and (status > derived or status == 253):
                        derived = status
                    counts, ids_text, out, out_ids = _usage(r, cpus)
                    # One task: min = max = ave = tot; several: four different counts.
                    c_ave = c_min = c_tot = counts
                    o_ave = o_min = o_tot = out
                    if step_id >= 0 and cpus > 1:
                        c_ave, _, o_ave, _ = _usage(r, cpus)
                        c_min, _, o_min, _ = _usage(r, cpus)
                        c_tot, _, o_tot, _ = _usage(r, cpus)
                    name = "batch" if step_id == -5 else "extern" if step_id == -4 else "srun"
                    tasks = cpus if step_id >= 0 else 1
                    step_rows.append(
                        f"{inx}\t0\t{status}\t{step_id}\t{NO_VAL}\tNULL\t{nodelist}\t{nodes}\t0"
                        f"\t{s_state}\t{name}\t{tasks}\t{1 if step_id >= 0 else 0}"
                        f"\t{s_start}\t{s_end}\t0\t{r.randrange(0, 5000)}\t{r.randrange(1_000_000)}"
                        f"\t{r.randrange(0, 500)}\t{r.randrange(1_000_000)}\t2596\t0\tNULL\t0\t0"
                        f"\t0\tNULL\t1={cpus},2={cpus * 4000},4={nodes}\t{c_ave}\t{counts}"
                        f"\t{ids_text}\t{ids_text}\t{c_min}\t{ids_text}\t{ids_text}\t{c_tot}"
                        f"\t{o_ave}\t{out}\t{out_ids}\t{out_ids}\t{o_min}\t{out_ids}\t{out_ids}"
                        f"\t{o_tot}\n"
                    )
            derived_es = "NULL"
            if r.random() < 0.01:  # a user's annotation (sjobexitmod -e 49 -r ...)
                derived, derived_es = 49 << 8, "out of memory"
            mod_time = end or start or submit
            jf.write(
                f"{inx}\t{mod_time}\t0\t{account}\tNULL\t{array_task_str}\t0\t0\t\tNULL\t{cpus}"
                f"\t{derived}\t{derived_es}\t0\t{exit_status}\t{r.choice((18, 20, 24))}"
                f"\t{NAMES[r.randrange(len(NAMES))]}\t{uid}\t{id_array_job}\t{id_array_task}"
                f"\tNULL\t{job_id}\t1\t0\t0\t{uid}\t{uid}\t{het_job_id}\t{het_job_offset}\t{kill}"
                f"\t{r.choice((0, 0, 0, 1, 9, 24, 25))}\t\t{cpus * 4000}\t{nodelist}"
                f"\t{nodes_alloc}\t0\t{partition}\t{r.randrange(1, 100_000)}\t0\t{state}"
                f"\t{r.choice((60, 1440, 2880, INFINITE))}\t{submit}\t{eligible}\t{start}\t{end}"
                f"\t0\t\t\t/home/u{uid}/work\tsbatch job.sh\tNULL\t{tres_alloc}\t{tres_req}\n"
            )
            sf.writelines(step_rows)
            steps_written += len(step_rows)
    return job_path, step_path, steps_written


def main() -> None:
    """Command line: write the dumps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    jobs, steps, n_steps = write_dumps(args.directory, args.jobs, args.seed)
    print(f"{jobs}: {args.jobs} rows; {steps}: {n_steps} rows")


if __name__ == "__main__":
    main()
