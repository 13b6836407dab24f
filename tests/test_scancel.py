"""``jobacct scancel`` (tracker issue 5 item 4): golden replays, man page examples, filters,
environment, ``-i``, messages and exit statuses, provenance shown by sacct.

The golden replays run every scancel (and every sacct view of the records they cancel) of
cases 11, 14, 15 and 18 in order, at the clock and as the user each was recorded with, on
records rebuilt from golden/db as they stood before; jobs appear when their ``sbatch`` ran
and end when the real ones did. stdout, stderr and the exit status must match byte for byte,
except for the plugin-loading lines Slurm's ``-v`` adds (``scancel: select/...``).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct import caller, migrate
from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.jobid import BATCH_STEP
from jobacct.model import Job, SignalRequest, Step
from jobacct.store import job_steps
from tests.conftest import GOLDEN, parse_case
from tests.test_annotation import OTHER_UID_PYTHON, readable_pythonpath
from tests.test_signal import GOLDEN_JOBS, make_job

UIDS = {"root": 0, "alice": 1001}
REASONS = {"0": None, "9": "BeginTime", "16": "JobHeldUser"}
BOB, ALICE = 4001, 4002


def run(
    url: str,
    uid: int,
    *args: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str | None = None,
    now: int | None = None,
) -> tuple[int, str, str]:
    monkeypatch.setattr(caller, "caller_uid", lambda: uid)
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    if now is not None:
        monkeypatch.setattr(time, "time", lambda: float(now))
    status = main(["--db", url, *args])
    out, err = capsys.readouterr()
    monkeypatch.undo()
    return status, out, err


def jobs_of(url: str) -> dict[int, Job]:
    engine = make_engine(url)
    with Session(engine) as s:
        found = {j.job_id_raw: j for j in s.scalars(select(Job))}
        for job in found.values():
            s.expunge(job)
    engine.dispose()
    return found


def steps_of(url: str, job_id_raw: int) -> dict[int, tuple[str, int | None, int | None]]:
    engine = make_engine(url)
    with Session(engine) as s:
        job = s.scalars(select(Job).where(Job.job_id_raw == job_id_raw)).one()
        found = {st.step_id: (st.state, st.exit_signal, st.kill_requid) for st in job_steps(s, job)}
    engine.dispose()
    return found


def provenance(url: str) -> list[tuple[int, int | None, str, int, int, str, str | None]]:
    engine = make_engine(url)
    with Session(engine) as s:
        rows = s.execute(
            select(
                Job.job_id_raw,
                SignalRequest.step_id,
                SignalRequest.api,
                SignalRequest.signal,
                SignalRequest.uid,
                SignalRequest.result,
                SignalRequest.reason,
            )
            .join(Job, Job.id == SignalRequest.job_pk)
            .order_by(SignalRequest.id)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def with_session(url: str, build: Callable[[Session], None]) -> None:
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        build(s)
    engine.dispose()


# ---------------------------------------------------------------- golden replays


def golden_job(s: Session, job_id: int, state: str, steps: tuple[int, ...] = ()) -> Job:
    """Job ``job_id`` of the golden records as it stood while ``state`` (before its end)."""
    row = GOLDEN_JOBS[job_id]
    eligible = int(row["time_eligible"]) or None
    job = make_job(
        s,
        job_id,
        state,
        uid=int(row["id_user"]),
        user={0: "root", 1001: "alice"}[int(row["id_user"])],
        submit=int(row["time_submit"]),
        start=int(row["time_start"]) or None,
        time_eligible=eligible,
        job_name=row["job_name"],
        reason=REASONS.get(row["state_reason_prev"]),
        steps=((BATCH_STEP,) if state == "RUNNING" else ()) + steps,
    )
    job.timelimit = int(row["timelimit"])
    return job


def finish_golden(s: Session, job_id: int) -> None:
    """Write the end of a job exactly as golden/db has it (what completion events bring)."""
    from tests.test_signal import GOLDEN_STEPS

    row = GOLDEN_JOBS[job_id]
    job = s.scalars(select(Job).where(Job.job_id_raw == job_id)).one()
    states = {3: "COMPLETED", 4: "CANCELLED", 5: "FAILED"}
    job.state = states[int(row["state"])]
    job.time_end = int(row["time_end"])
    job.exit_code, job.exit_signal = int(row["exit_code"]) >> 8, int(row["exit_code"]) & 0x7F
    existing = {st.step_id: st for st in job_steps(s, job)}
    for srow in GOLDEN_STEPS:
        if int(srow["id_job"]) != job_id:
            continue
        raw = int(srow["exit_code"])
        step = existing.get(int(srow["id_step"]))
        if step is None:
            step = Step(job_pk=job.id, step_id=int(srow["id_step"]), step_name="sleep")
            s.add(step)
        step.state = states[int(srow["state"])]
        step.exit_code, step.exit_signal = raw >> 8, raw & 0x7F
        step.kill_requid = None if srow["kill_requid"] == "NULL" else int(srow["kill_requid"])
        step.time_start, step.time_end = int(srow["time_start"]), int(srow["time_end"])
    s.flush()
    from jobacct.store import refresh_derived

    refresh_derived(s, job)


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def replay(
    url: str,
    case: str,
    hooks: dict[str, Callable[[Session], None]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    built: set[int],
    clock: dict[str, int] | None = None,
) -> int:
    """Run the case's scancel and sacct commands; ``hooks`` (by command prefix) change the
    records where the real cluster did something else (a job submitted, a script ended).
    ``clock`` overrides the recorded time of a command (the corpus notes the time when a
    command returned, which can be a second after slurmctld stamped the cancel)."""
    compared = 0
    annotated = False
    for entry in parse_case(GOLDEN / "cases" / case):
        command = entry["command"]
        for prefix, hook in hooks.items():
            if command.startswith(prefix):
                with_session(url, hook)
        argv = command.split()
        stdin = None
        if "<<<" in argv:
            at = argv.index("<<<")
            stdin, argv = " ".join(argv[at + 1 :]) + "\n", argv[:at]
        if argv[0] == "sacctmgr":
            annotated = True  # later views show annotations: test_annotation's business
        if argv[0] == "sacct":
            if annotated:
                continue
            ids = argv[argv.index("-j") + 1] if "-j" in argv else None
            if ids is None or not {int(i) for i in ids.split(",")} <= built:
                continue
        elif argv[0] != "scancel":
            continue
        import shlex

        argv = shlex.split(" ".join(argv))
        status, out, err = run(
            url,
            UIDS[entry["user"]],
            *argv,
            capsys=capsys,
            monkeypatch=monkeypatch,
            stdin=stdin,
            now=(clock or {}).get(command, epoch(entry["time"])),
        )
        expected_err = "".join(
            line
            for line in entry["stderr"].splitlines(keepends=True)
            if not line.startswith("scancel: select/")
        )
        if argv[0] == "scancel" and stdin is not None:
            out = ""  # the -i question: scancel asked it on a terminal
        assert (status, out, err) == (int(entry["status"]), entry["stdout"], expected_err), command
        compared += 1
    return compared


def test_golden_case18_errors(sqlite_url: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def build(s: Session) -> None:
        for job_id in (1, 3):
            golden_job(s, job_id, "RUNNING")
            finish_golden(s, job_id)
        for raw, task in ((24, 0), (25, 1), (26, 2), (23, 3)):
            job = golden_job(s, raw, "RUNNING")
            job.array_job_id, job.array_task_id = 23, task
            finish_golden(s, raw)
        golden_job(s, 42, "RUNNING", steps=(0,))

    with_session(sqlite_url, build)
    hooks = {"squeue -j 42": lambda s: finish_golden(s, 42)}
    compared = replay(
        sqlite_url, "18_scancel_errors.txt", hooks, capsys, monkeypatch, {1, 3, 23, 42}
    )
    assert compared == 33
    assert steps_of(sqlite_url, 42)[0] == ("CANCELLED", 9, 0)


def test_golden_cases_11_14_15(sqlite_url: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    built: set[int] = set()

    def submit(job_id: int, state: str) -> Callable[[Session], None]:
        def hook(s: Session) -> None:
            golden_job(s, job_id, state)
            built.add(job_id)

        return hook

    hooks = {
        "sbatch --begin=now+1hour -J pend_begin": submit(20, "PENDING"),
        "sbatch -J alice_run ": submit(31, "RUNNING"),
        "sbatch --hold -J alice_held1": submit(32, "PENDING"),
        "sbatch --begin=now+1hour -J alice_later": submit(33, "PENDING"),
        "sbatch -J root_run": submit(34, "RUNNING"),
        "sbatch -J alice_run2": submit(35, "RUNNING"),
    }
    compared = 0
    for case in ("11_scancel_pending_begin.txt", "14_scancel_state_user.txt", "15_authz.txt"):
        compared += replay(
            sqlite_url, case, hooks, capsys, monkeypatch, built, {"scancel 20": 1795347283}
        )
    assert compared == 19
    jobs = jobs_of(sqlite_url)
    assert {j: (jobs[j].state, jobs[j].kill_requid) for j in (31, 32, 33, 34, 35)} == {
        31: ("CANCELLED", 1001),
        32: ("CANCELLED", 0),
        33: ("CANCELLED", 0),
        34: ("CANCELLED", 0),
        35: ("CANCELLED", 0),
    }


# ---------------------------------------------------------------- man page examples


@pytest.fixture
def seeded(store_url: str) -> str:
    def build(s: Session) -> None:
        make_job(s, 1234, "RUNNING", uid=BOB, user="bob", steps=(BATCH_STEP, 0, 1, 2, 3))
        make_job(s, 1235, "RUNNING", uid=BOB, user="bob", steps=(BATCH_STEP, 0))
        make_job(s, 1236, "RUNNING", uid=BOB, user="bob", steps=(BATCH_STEP, 0))
        make_job(
            s,
            1237,
            "PENDING",
            uid=BOB,
            user="bob",
            partition="long",
            array_job_id=1237,
            array_task_str="4-6",
        )
        make_job(s, 1240, "PENDING", uid=BOB, user="bob", partition="debug")
        make_job(s, 1241, "PENDING", uid=BOB, user="bob", partition="gpu")
        make_job(s, 1242, "PENDING", uid=ALICE, user="alice", partition="debug")
        make_job(s, 1243, "RUNNING", uid=BOB, user="bob", partition="debug", steps=(BATCH_STEP,))

    with_session(store_url, build)
    return store_url


def test_man_examples(seeded: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = seeded

    def scancel(*args: str) -> tuple[int, str, str]:
        return run(url, 0, "scancel", *args, capsys=capsys, monkeypatch=monkeypatch)

    # Send SIGTERM to steps 1 and 3 of job 1234: they may trap it, so it is recorded only.
    assert scancel("--signal=TERM", "1234.1", "1234.3") == (0, "", "")
    assert steps_of(url, 1234)[1] == ("RUNNING", None, None)
    assert [(p[0], p[1], p[2], p[3]) for p in provenance(url)] == [
        (1234, 1, "slurm_signal_job_step", 15),
        (1234, 3, "slurm_signal_job_step", 15),
    ]
    # Cancel job 1234 along with all of its steps.
    assert scancel("1234") == (0, "", "")
    assert jobs_of(url)[1234].state == "CANCELLED"
    assert {s: v[:2] for s, v in steps_of(url, 1234).items()} == {
        BATCH_STEP: ("CANCELLED", 15),
        0: ("CANCELLED", 15),
        1: ("CANCELLED", 15),
        2: ("CANCELLED", 15),
        3: ("CANCELLED", 15),
    }
    # SIGKILL to job 1235: in HEAD this cancels the job (§6.2 doc/code mismatch).
    assert scancel("--signal=KILL", "1235") == (0, "", "")
    assert (jobs_of(url)[1235].state, jobs_of(url)[1235].kill_requid) == ("CANCELLED", 0)
    # USR1 to the batch shell of 1236: recorded, nothing else (the shell may trap it).
    assert scancel("--signal=USR1", "--batch", "1236") == (0, "", "")
    assert jobs_of(url)[1236].state == "RUNNING"
    assert provenance(url)[-1][:4] == (1236, None, "slurm_kill_job", 10)
    # Cancel all of bob's pending jobs in partition debug.
    assert scancel("--state=PENDING", "--user=bob", "--partition=debug") == (0, "", "")
    states = {k: j.state for k, j in jobs_of(url).items()}
    assert (states[1240], states[1241], states[1242], states[1243]) == (
        "CANCELLED",
        "PENDING",
        "PENDING",
        "RUNNING",
    )
    # Cancel task 4 of array 1237 (still inside the pending meta record).
    assert scancel("1237_4") == (0, "", "")
    meta = jobs_of(url)[1237]
    assert (meta.state, meta.array_task_str) == ("PENDING", "5-6")


def test_reason_and_sacct_fields(seeded: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = seeded
    status, _, _ = run(
        url,
        0,
        "scancel",
        "--reason",
        "node tux3 lost its disk",
        "1243",
        capsys=capsys,
        monkeypatch=monkeypatch,
        now=1795400000,
    )
    assert status == 0
    job = jobs_of(url)[1243]
    assert (job.cancel_time, job.cancel_signal, job.cancel_state, job.cancel_reason) == (
        1795400000,
        9,
        "RUNNING",
        "node tux3 lost its disk",
    )
    assert provenance(url) == [
        (1243, None, "slurm_kill_job", 9, 0, "SLURM_SUCCESS", "node tux3 lost its disk")
    ]
    from jobacct.fields import FIELDS_BY_NAME

    if "cancelreason" not in FIELDS_BY_NAME:
        pytest.skip("sacct's Cancel* fields are not registered in fields.py yet")
    status, out, err = run(
        url,
        0,
        "sacct",
        "-j",
        "1243",
        "-X",
        "-P",
        "-o",
        "JobID,State,CancelTime,CancelSignal,CancelState,CancelReason",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert (status, err) == (0, "")
    assert out.splitlines()[1] == (
        "1243|CANCELLED by 0|2026-11-23T02:13:20|9|RUNNING|node tux3 lost its disk"
    )


def test_control_characters_in_reason_refused(seeded: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    status, _, err = run(
        seeded, 0, "scancel", "--reason", "a\x1bb", "1243", capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 2 and "control character" in err
    assert jobs_of(seeded)[1243].state == "RUNNING"


# ---------------------------------------------------------------- filters and options


def test_filters_are_anded_and_verbose(seeded: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = seeded
    status, out, err = run(
        url,
        0,
        "scancel",
        "-v",
        "--state=PENDING",
        "--partition=gpu",
        "--user=alice",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert (status, out) == (0, "")
    assert err == (
        "scancel: error: No active jobs match ALL job filters, including: partition=gpu "
        "state=PENDING user_name=alice \n"
    )
    status, out, err = run(
        url,
        0,
        "scancel",
        "-v",
        "-t",
        "pd",
        "-A",
        "lc",
        "-n",
        "job1241",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert (status, err) == (0, "scancel: Terminating job 1241\n")
    assert jobs_of(url)[1241].state == "CANCELLED"


def test_nodelist_hostlist_and_file(store_url: str, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def build(s: Session) -> None:
        make_job(s, 300, "RUNNING", nodelist="tux[1-2]", steps=(BATCH_STEP,))
        make_job(s, 301, "RUNNING", nodelist="tux5", steps=(BATCH_STEP,))
        make_job(s, 302, "RUNNING", nodelist="gpu[01-04]", steps=(BATCH_STEP,))
        make_job(s, 303, "PENDING")

    with_session(store_url, build)
    assert (
        run(store_url, 0, "scancel", "-w", "tux[2-5]", capsys=capsys, monkeypatch=monkeypatch)[0]
        == 0
    )
    hosts = tmp_path / "hosts"
    hosts.write_text("gpu03\nnode9\n")
    assert (
        run(
            store_url,
            0,
            "scancel",
            "--nodelist",
            str(hosts),
            capsys=capsys,
            monkeypatch=monkeypatch,
        )[0]
        == 0
    )
    states = {k: j.state for k, j in jobs_of(store_url).items()}
    assert states == {300: "CANCELLED", 301: "CANCELLED", 302: "CANCELLED", 303: "PENDING"}
    status, _, err = run(
        store_url, 0, "scancel", "-w", "tux[", capsys=capsys, monkeypatch=monkeypatch
    )
    assert (status, err) == (1, "scancel: error: Invalid node list: tux[\n")


def test_wckey_default_marker_qos_reservation_me(store_url: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def build(s: Session) -> None:
        make_job(s, 400, "PENDING", wckey="*proj", uid=BOB, user="bob")
        make_job(s, 401, "PENDING", wckey="proj", uid=BOB, user="bob")
        make_job(s, 402, "PENDING", qos="high", reservation="maint", uid=ALICE, user="alice")
        make_job(s, 403, "PENDING", qos="high", uid=ALICE, user="alice")

    with_session(store_url, build)
    assert (
        run(store_url, 0, "scancel", "--wckey=*proj", capsys=capsys, monkeypatch=monkeypatch)[0]
        == 0
    )
    assert {k: j.state for k, j in jobs_of(store_url).items()}[401] == "PENDING"
    assert (
        run(store_url, 0, "scancel", "--wckey=proj", capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    )
    assert (
        run(
            store_url,
            ALICE,
            "scancel",
            "--me",
            "-q",
            "high",
            "-R",
            "maint",
            capsys=capsys,
            monkeypatch=monkeypatch,
        )[0]
        == 0
    )
    states = {k: j.state for k, j in jobs_of(store_url).items()}
    assert states == {400: "CANCELLED", 401: "CANCELLED", 402: "CANCELLED", 403: "PENDING"}
    assert jobs_of(store_url)[402].kill_requid == ALICE


def test_environment_and_override(seeded: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SCANCEL_PARTITION", "gpu")
    monkeypatch.setenv("SCANCEL_STATE", "PENDING")
    status, _, _ = run(seeded, 0, "scancel", "--user=bob", capsys=capsys, monkeypatch=monkeypatch)
    assert status == 0
    states = {k: j.state for k, j in jobs_of(seeded).items()}
    assert (states[1240], states[1241]) == ("PENDING", "CANCELLED")
    # An option overrides its variable.
    monkeypatch.setenv("SCANCEL_PARTITION", "gpu")
    monkeypatch.setenv("SCANCEL_STATE", "PENDING")
    run(seeded, 0, "scancel", "--user=bob", "-p", "debug", capsys=capsys, monkeypatch=monkeypatch)
    assert jobs_of(seeded)[1240].state == "CANCELLED"
    monkeypatch.setenv("SCANCEL_STATE", "nope")
    status, _, err = run(seeded, 0, "scancel", "-u", "bob", capsys=capsys, monkeypatch=monkeypatch)
    assert (status, err) == (
        1,
        "Unrecognized SCANCEL_STATE value: nope\n"
        "Valid job states are PENDING, RUNNING, and SUSPENDED\n",
    )


def test_interactive(seeded: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    status, out, err = run(
        seeded,
        0,
        "scancel",
        "-i",
        "-u",
        "bob",
        "-t",
        "PENDING",
        "-p",
        "debug",
        capsys=capsys,
        monkeypatch=monkeypatch,
        stdin="maybe\nn\n",
    )
    assert (status, err) == (0, "")
    prompt = "Cancel job_id=1240 name=job1240 partition=debug [y/n]? "
    assert out == prompt * 2
    assert jobs_of(seeded)[1240].state == "PENDING"
    status, out, err = run(
        seeded,
        0,
        "scancel",
        "-i",
        "1240",
        "1241",
        capsys=capsys,
        monkeypatch=monkeypatch,
        stdin="y\n",
    )
    assert status == 1
    assert err == "scancel: error: no answer on standard input: job 1241 not cancelled\n"
    states = {k: j.state for k, j in jobs_of(seeded).items()}
    assert (states[1240], states[1241]) == ("CANCELLED", "PENDING")


def test_exit_statuses(seeded: str, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = seeded
    # TRANSITION_STATE_NO_UPDATE 2020 -> 228, ACCESS_DENIED 2002 -> 210, the max of both.
    status, _, err = run(
        url, 0, "scancel", "-s", "USR1", "1240", capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 228
    status, _, err = run(
        url, ALICE, "scancel", "-s", "USR1", "1240", "1242", capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 228
    assert err == (
        "scancel: error: Kill job error on job id 1240: Access/permission denied\n"
        "scancel: error: Kill job error on job id 1242: "
        "Job can not be altered now, try again later\n"
    )
    # --admin-comment needs Administrator: ESLURM_USER_ID_MISSING 2010 -> 218.
    status, _, err = run(
        url, BOB, "scancel", "--admin-comment", "x", "1240", capsys=capsys, monkeypatch=monkeypatch
    )
    assert (status, err) == (
        218,
        "scancel: error: Kill job error on job id 1240: Invalid user id\n",
    )
    status, _, _ = run(
        url,
        0,
        "scancel",
        "--admin-comment",
        "bad node",
        "1240",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert status == 0 and jobs_of(url)[1240].admin_comment == "bad node"


# ---------------------------------------------------------------- the real uid


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run commands as other uids")
@pytest.mark.skipif(OTHER_UID_PYTHON is None, reason="no Python other uids can execute")
def test_real_uids(tmp_path: Path) -> None:
    """scancel as alice (uid 1001) through the real getuid(): her job yes, root's no (210)."""
    shared = Path(tempfile.mkdtemp(prefix="jobacct-scancel-"))
    shared.chmod(0o777)
    path = shared / "store.sqlite"
    url = "sqlite:///" + str(path)
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    engine.dispose()

    def build(s: Session) -> None:
        make_job(s, 31, "RUNNING", uid=1001, user="alice", steps=(BATCH_STEP,))
        make_job(s, 34, "RUNNING", steps=(BATCH_STEP,))

    with_session(url, build)
    path.chmod(0o666)
    assert OTHER_UID_PYTHON is not None
    env = {
        "TZ": "UTC",
        "PATH": "/usr/bin:/bin",
        "HOME": str(shared),
        "PYTHONPATH": readable_pythonpath(),
    }

    def as_alice(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [OTHER_UID_PYTHON, "-m", "jobacct", "--db", str(path), "scancel", *args],
            user=1001,
            group=1001,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=str(shared),
        )

    denied = as_alice("34")
    assert (denied.returncode, denied.stderr) == (
        210,
        "scancel: error: Kill job error on job id 34: Access/permission denied\n",
    )
    mine = as_alice("--state=RUNNING")
    assert mine.returncode == 210
    jobs = jobs_of(url)
    assert (jobs[31].state, jobs[31].kill_requid, jobs[34].state) == ("CANCELLED", 1001, "RUNNING")
    assert shutil.which("true") is not None


def test_host_user_with_a_cluster_users_name(  # type: ignore[no-untyped-def]
    seeded: str, capsys, monkeypatch
) -> None:
    """Issue 15: a host with its own "bob" (uid 1002, not the store's 4001) must not change
    what scancel -u bob does; sacct -u matches the stored name too: one rule for both."""
    import pwd

    real_getpwnam = pwd.getpwnam

    def host_passwd(name: str) -> pwd.struct_passwd:
        if name in ("bob", "alice"):
            return pwd.struct_passwd((name, "x", 1002, 1002, "", f"/home/{name}", "/bin/sh"))
        return real_getpwnam(name)

    monkeypatch.setattr(pwd, "getpwnam", host_passwd)
    url = seeded
    assert run(url, 0, "scancel", "--state=PENDING", "--user=bob", "--partition=debug",
               capsys=capsys, monkeypatch=monkeypatch) == (0, "", "")  # fmt: skip
    states = {k: j.state for k, j in jobs_of(url).items()}
    assert (states[1240], states[1241], states[1242]) == ("CANCELLED", "PENDING", "PENDING")
