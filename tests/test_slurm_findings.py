"""What real Slurm 22.05.8 printed where jobacct differed (tracker issue 11, findings 1-6).

Each test holds one finding, on SQLite, PostgreSQL and MariaDB: the records come in the way a
site feeds them (controller events, jobcomp/script), and ``jobacct sacct`` must print what
real sacct printed for the same job (slurm-semantics.md §1.2, §4.5, §5.1, §7.1, §7.2).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.shim.apply import apply
from jobacct.shim.jobcomp import events_from_env
from tests.test_shim_apply import SUBMIT, ev

Sacct = Callable[..., list[str]]
JOB = 1932212


@pytest.fixture
def sacct(store_url: str, capsys: pytest.CaptureFixture[str]) -> Sacct:
    def run(*args: str) -> list[str]:
        capsys.readouterr()
        status = main(["--db", store_url, *args])
        out, err = capsys.readouterr()
        assert status == 0, err
        return out.splitlines()

    return run


def _feed(url: str, events: list[dict[str, Any]]) -> None:
    engine = make_engine(url)
    try:
        apply(engine, events)
    finally:
        engine.dispose()


def _shell_killed_job(job: int = JOB) -> list[dict[str, Any]]:
    """A batch job whose srun step was SIGKILLed and whose shell then exited 137 (raw 35072)."""
    return [
        ev("job_submit", 0, job, uid=1001, user_name="alice", account="lc", job_name="sim",
           eligible=SUBMIT),
        ev("job_start", 1, job, time=SUBMIT + 5, nodelist="vm", nnodes=1, ncpus=2),
        ev("step_start", 2, job, step="batch", time=SUBMIT + 5),
        ev("step_start", 3, job, step="1", time=SUBMIT + 6, step_name="sim", ntasks=1),
        ev("step_end", 4, job, step="1", time=SUBMIT + 60, exit=35072,
           user_cpu_usec=50_000_000, system_cpu_usec=2_000_000),
        ev("step_end", 5, job, step="batch", time=SUBMIT + 61, exit=35072,
           user_cpu_usec=1_000_000, system_cpu_usec=500_000),
        ev("job_end", 6, job, time=SUBMIT + 61, state="FAILED", exit=35072),
    ]  # fmt: skip


# ---------------------------------------------------------------- 1. ExitCode >= 128


def test_exit_137_prints_9_0_as_exitcode_and_137_0_as_derived(store_url: str, sacct: Sacct) -> None:
    _feed(store_url, _shell_killed_job())
    lines = sacct(
        "sacct", "-j", str(JOB), "-P", "-o", "JobID,JobName,User,State,ExitCode,DerivedExitCode"
    )
    # Real sacct 22.05.8 on the same records (slurm-semantics.md §1.2, corrected 2026-12-05).
    assert lines == [
        "JobID|JobName|User|State|ExitCode|DerivedExitCode",
        f"{JOB}|sim|alice|FAILED|9:0|137:0",
        f"{JOB}.batch|batch||FAILED|9:0|",
        f"{JOB}.1|sim||FAILED|9:0|",
    ]


def test_exit_137_in_sjobexitmod_json_and_reports(store_url: str, sacct: Sacct) -> None:
    _feed(store_url, _shell_killed_job())
    # sjobexitmod -l is sacct's view (contribs/sjobexit/sjobexitmod.pl runs sacct).
    listed = sacct("sjobexitmod", "-l", str(JOB))
    assert listed[2].split()[4:7] == ["FAILED", "9:0", "137:0"]
    # --json: the recorded exit status; the -128 rule is print.c's text field only.
    (doc,) = [json.loads(line) for line in sacct("sacct", "-j", str(JOB), "--ndjson")]
    assert doc["exit_code"] == {"status": "ERROR", "return_code": 137}
    assert doc["derived_exit_code"] == {"status": "ERROR", "return_code": 137}
    # Reports: ExitCode as sacct prints it, DerivedExitCode as recorded.
    window = ("-S", "2026-09-21", "-E", "2026-09-22")
    report = json.loads("\n".join(sacct("report", "failures", *window, "--format", "json")))
    tables = {t["key"]: t["rows"] for t in report["tables"]}
    assert [row["ExitCode"] for row in tables["by-exit-code"]] == ["9:0"]
    assert [row["DerivedExitCode"] for row in tables["by-derived-exit-code"]] == ["137:0"]


# ---------------------------------------------------------------- 2. -X zeroes step sums


def test_allocations_print_zero_step_sums(store_url: str, sacct: Sacct) -> None:
    _feed(store_url, _shell_killed_job())
    fields = "JobID,TotalCPU,UserCPU,SystemCPU"
    # slurmdbd reads no step rows under -X (JOBCOND_FLAG_NO_STEP, §4.5 corrected).
    assert sacct("sacct", "-j", str(JOB), "-X", "-P", "-o", fields)[1:] == [
        f"{JOB}|00:00:00|00:00:00|00:00:00"
    ]
    # Without -X the job line holds the sums over its steps.
    assert sacct("sacct", "-j", str(JOB), "-P", "-o", fields)[1] == (
        f"{JOB}|00:53.500|00:00:51|00:02.500"
    )


# ---------------------------------------------------------------- 3. requeue through the shim


def test_requeued_run_is_its_own_record(store_url: str, sacct: Sacct, tmp_path: Path) -> None:
    second = SUBMIT + 100
    events = [
        ev("job_submit", 0, 44, uid=0, user_name="root", account="lc", job_name="requeue_me"),
        ev("job_start", 1, 44, time=SUBMIT, nodelist="vm", nnodes=1, ncpus=1),
        ev("job_end", 2, 44, time=SUBMIT + 3, state="REQUEUED", exit=0),
        {**ev("job_submit", 3, 44, uid=0, user_name="root", account="lc", job_name="requeue_me"),
         "submit": second},
        {**ev("job_start", 4, 44, time=second + 10, nodelist="vm", nnodes=1, ncpus=1),
         "submit": second},
        {**ev("job_end", 5, 44, time=second + 20, state="COMPLETED", exit=0), "submit": second},
    ]  # fmt: skip
    source = tmp_path / "requeue.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in events))
    # Through the real command: the REQUEUED end is taken and the rest of the file with it.
    assert sacct("shim", "ingest", str(source))[0].startswith("6 events: 6 applied")
    fields = "JobID,JobName,State,Start,End"
    assert sacct("sacct", "-j", "44", "-D", "-P", "-o", fields)[1:] == [
        "44|requeue_me|REQUEUED|2026-09-21T14:13:20|2026-09-21T14:13:23",
        "44|requeue_me|COMPLETED|2026-09-21T14:15:10|2026-09-21T14:15:20",
    ]
    # Without -D only the newest record of the job id (§4.8).
    assert sacct("sacct", "-j", "44", "-P", "-o", "JobID,State")[1:] == ["44|COMPLETED"]


# ------------------------------------------- 4, 5. pending cancel: start after, empty fields


def _pending(job: int) -> dict[str, Any]:
    return ev("job_submit", 0, job, uid=1001, user_name="alice", account="lc", job_name="wait",
              eligible=SUBMIT)  # fmt: skip


def _cancel(seq: int, job: int, when: int) -> dict[str, Any]:
    return ev("signal", seq, job, uid=0, signal="KILL", time=when, api="slurm_kill_job")


def _late_start(seq: int, job: int, when: int) -> dict[str, Any]:
    # What slurmctld sends after a pending cancel: a start at the cancel time, no nodes.
    return ev("job_start", seq, job, time=when, nodelist="", nnodes=0, ncpus=0)


@pytest.mark.parametrize("batches", ["one batch", "start in a later batch"])
def test_pending_cancel_then_start_stays_cancelled(
    store_url: str, sacct: Sacct, batches: str
) -> None:
    when = SUBMIT + 30
    events = [_pending(21), _cancel(1, 21, when), _late_start(2, 21, when)]
    if batches == "one batch":
        _feed(store_url, events)
    else:
        _feed(store_url, events[:2])
        _feed(store_url, events[2:])  # the job_end never comes (lost)
    fields = "JobID,State,Start,End,NodeList,Reason"
    assert sacct("sacct", "-j", "21", "-X", "-P", "-o", fields)[1:] == [
        "21|CANCELLED by 0|2026-09-21T14:13:50|2026-09-21T14:13:50|None assigned|None"
    ]


def test_pending_cancel_job_end_prints_none_assigned_and_none(store_url: str, sacct: Sacct) -> None:
    when = SUBMIT + 30
    _feed(store_url, [
        _pending(22), _late_start(1, 22, when),
        ev("job_end", 2, 22, time=when, state="CANCELLED", exit=0, kill_requid=0),
    ])  # fmt: skip
    fields = "JobID,State,NodeList,Reason"
    assert sacct("sacct", "-j", "22", "-X", "-P", "-o", fields)[1:] == [
        "22|CANCELLED by 0|None assigned|None"
    ]


def test_running_shim_job_without_reason_prints_none(store_url: str, sacct: Sacct) -> None:
    _feed(store_url, _shell_killed_job()[:3])
    assert sacct("sacct", "-j", str(JOB), "-X", "-P", "-o", "JobID,State,Reason")[1:] == [
        f"{JOB}|RUNNING|None"
    ]


# ---------------------------------------------------------------- 6. two transports agree


def _jobcomp_env(job: int) -> dict[str, str]:
    """jobcomp/script's environment for the cancelled job (§7.2: no canceller variable)."""
    return {
        "JOBID": str(job), "SUBMIT": str(SUBMIT), "START": str(SUBMIT + 5),
        "END": str(SUBMIT + 20), "JOBSTATE": "CANCELLED", "EXITCODE": "0:0",
        "DERIVED_EC": "0:0", "UID": "1001", "USERNAME": "alice", "ACCOUNT": "lc",
        "JOBNAME": "mix", "NODES": "vm", "NODECNT": "1", "PROCS": "2", "CLUSTER": "tux",
        "STATEREASONPREV": "None",
    }  # fmt: skip


def _stream_cancel(job: int) -> list[dict[str, Any]]:
    return [
        ev("job_submit", 0, job, uid=1001, user_name="alice", account="lc", job_name="mix",
           comment="from sbatch --comment"),
        ev("job_start", 1, job, time=SUBMIT + 5, nodelist="vm", nnodes=1, ncpus=2),
        ev("job_end", 2, job, time=SUBMIT + 20, state="CANCELLED", exit=0, kill_requid=0),
    ]  # fmt: skip


@pytest.mark.parametrize("order", ["stream first", "jobcomp first"])
def test_jobcomp_and_stream_keep_the_canceller(store_url: str, sacct: Sacct, order: str) -> None:
    stream, jobcomp = _stream_cancel(7), events_from_env(_jobcomp_env(7), "tux")
    for batch in (stream, jobcomp) if order == "stream first" else (jobcomp, stream):
        _feed(store_url, batch)
    fields = "JobID,JobName,State,NodeList,Comment"
    assert sacct("sacct", "-j", "7", "-X", "-P", "-o", fields)[1:] == [
        "7|mix|CANCELLED by 0|vm|from sbatch --comment"
    ]
