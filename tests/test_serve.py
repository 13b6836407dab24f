"""The daemon (issue 13): a real ``jobacct serve`` subprocess, clients as other real uids.

One daemon per backend (SQLite, PostgreSQL, MariaDB) for the whole module, running as root
on a store only root can open (SQLite: 0600 in a 0700 directory). Clients run as other uids
through ``setpriv --reuid=UID --regid=GID --clear-groups`` (no passwd entry needed), with
the system's Python and a PYTHONPATH they may read. Every bypass of the issue is tried
through the socket and must be refused with one line naming Slurm's error, nothing changed.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobacct import migrate
from jobacct.config import make_engine
from jobacct.model import Annotation, Coordinator, Event, Job, UserPrivilege
from jobacct.shim.apply import apply
from tests.conftest import BACKENDS, _server_database
from tests.shim_helpers import dump_store
from tests.test_annotation import OTHER_UID_PYTHON, readable_pythonpath

ROOT, ALICE, BOB, SLURM = 0, 1001, 1002, 1900
T0 = 1795300000
CLUSTER = "tux"

pytestmark = [
    pytest.mark.skipif(os.getuid() != 0, reason="needs root to run clients as other uids"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)"),
    pytest.mark.skipif(
        OTHER_UID_PYTHON is None, reason="no Python of this version that other uids can run"
    ),
]


def job_events(
    job: int, uid: int, user: str, *, account: str = "physics", end: str | None = "COMPLETED"
) -> list[dict[str, Any]]:
    """A job's submit and start (and end with ``end``), seq 1.., submitted at T0 + job."""
    key = {"schema": 1, "cluster": CLUSTER, "job_id_raw": job, "submit": T0 + job}
    events: list[dict[str, Any]] = [
        {**key, "type": "job_submit", "seq": 1, "uid": uid, "user_name": user,
         "account": account, "partition": "debug", "job_name": f"job{job}",
         "eligible": T0 + job},
        {**key, "type": "job_start", "seq": 2, "time": T0 + job + 10, "nodelist": "tux1",
         "nnodes": 1, "ncpus": 4},
        {**key, "type": "step_start", "seq": 3, "step": "batch", "time": T0 + job + 10},
    ]  # fmt: skip
    if end is not None:
        events.append(
            {**key, "type": "job_end", "seq": 4, "time": T0 + job + 100, "state": end,
             "exit": 0 if end == "COMPLETED" else 256}
        )  # fmt: skip
    return events


#: root's running job, alice's finished jobs and her running one, bob's job.
ROOT_JOB, ALICE_JOBS, ALICE_RUNNING, BOB_JOB = 500, (601, 602), 603, 701


def seed(url: str) -> None:
    engine = make_engine(url)
    events = (
        job_events(ROOT_JOB, ROOT, "root", account="admin", end=None)
        + job_events(601, ALICE, "alice")
        + job_events(602, ALICE, "alice", end="FAILED")
        + job_events(ALICE_RUNNING, ALICE, "alice", end=None)
        + job_events(BOB_JOB, BOB, "bob", account="chem", end="FAILED")
    )
    apply(engine, events)
    engine.dispose()


@dataclass
class Daemon:
    """A running ``jobacct serve`` and how to reach it."""

    kind: str
    url: str
    socket: Path
    process: subprocess.Popen[bytes]
    shared: Path  # a directory every uid may use (inputs, cwd)
    store_file: Path | None  # SQLite only

    def run(
        self,
        uid: int,
        *args: str,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        server: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """``jobacct ARGS`` as ``uid`` (through the daemon unless not ``server``)."""
        assert OTHER_UID_PYTHON is not None
        command = [OTHER_UID_PYTHON, "-m", "jobacct", *args]
        if uid != os.getuid():
            command = [
                "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *command
            ]  # fmt: skip
        full = {
            "TZ": "UTC",
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.shared),
            "PYTHONPATH": readable_pythonpath(),
            "JOBACCT_CONFIG": "/dev/null",  # no site config file
            **({"JOBACCT_SERVER": f"unix:{self.socket}"} if server else {}),
            **(env or {}),
        }
        return subprocess.run(
            command,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=120,
            env=full,
            cwd=str(self.shared),
        )

    def get(self, uid: int, path: str) -> tuple[int, Any]:
        """GET ``path`` over the socket as ``uid`` (a child process): (status, JSON body)."""
        script = (
            "import http.client, socket, sys, json\n"
            "class C(http.client.HTTPConnection):\n"
            "    def connect(self):\n"
            "        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sys.argv[1])\n"
            "c = C('localhost'); c.request('GET', sys.argv[2]); r = c.getresponse()\n"
            "sys.stdout.write(json.dumps([r.status, json.loads(r.read())]))\n"
        )
        assert OTHER_UID_PYTHON is not None
        done = subprocess.run(
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
             OTHER_UID_PYTHON, "-c", script, str(self.socket), path],
            capture_output=True, text=True, timeout=60, cwd=str(self.shared),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        status, body = json.loads(done.stdout)
        return int(status), body


def write_config(path: Path, *, private: bool = False) -> Path:
    path.write_text(
        f"[server]\ncontrollers = [0, {SLURM}]\n" + ('private_data = ["jobs"]\n' if private else "")
    )
    path.chmod(0o644)
    return path


def start_daemon(kind: str, url: str, store_file: Path | None, config: Path, work: Path) -> Daemon:
    """Start ``jobacct serve`` as root and wait until its socket answers."""
    shared = Path(tempfile.mkdtemp(prefix="jobacct-serve-"))
    shared.chmod(0o777)
    sock = shared / "jobacct.sock"
    log = (work / "daemon.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jobacct", "--db", url, "serve", "--socket", str(sock)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TZ": "UTC", "JOBACCT_CONFIG": str(config), "SLURM_CONF": "/none"},
        cwd=str(work),
    )
    deadline = time.monotonic() + 60
    while True:
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(str(sock))
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(f"daemon did not start: {(work / 'daemon.log').read_text()}")
            time.sleep(0.05)
        finally:
            probe.close()
    return Daemon(kind, url, sock, process, shared, store_file)


def stop_daemon(daemon: Daemon) -> None:
    daemon.process.terminate()
    try:
        daemon.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.process.kill()
        daemon.process.wait()
    shutil.rmtree(daemon.shared, ignore_errors=True)


def make_store(kind: str, tmp: Path) -> Iterator[tuple[str, Path | None]]:
    """A store at head with the seed jobs: a private SQLite file made by ``db init``, or a
    fresh server database."""
    if kind == "sqlite":
        store_dir = tmp / "store"  # made by db init: 0700
        path = store_dir / "jobacct.sqlite"
        done = subprocess.run(
            [sys.executable, "-m", "jobacct", "--db", str(path), "db", "init"],
            capture_output=True, text=True, env={**os.environ, "JOBACCT_CONFIG": "/dev/null"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "(mode 0600)" in done.stdout and "(mode 0700)" in done.stdout, done.stdout
        url = "sqlite:///" + str(path)
        seed(url)
        yield url, path
        return
    for url in _server_database(kind):
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        seed(url)
        yield url, None


@pytest.fixture(scope="module", params=BACKENDS)
def daemon(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Daemon]:
    """One daemon per backend for the module (controllers: root and SLURM)."""
    tmp = tmp_path_factory.mktemp(f"serve-{request.param}")
    for url, store_file in make_store(request.param, tmp):
        config = write_config(tmp / "jobacct.toml")
        running = start_daemon(request.param, url, store_file, config, tmp)
        try:
            yield running
        finally:
            stop_daemon(running)


def snapshot(url: str) -> dict[str, Any]:
    """Everything the bypasses could change: every job and step column, the journal, the
    annotation history, AdminLevels and coordinators."""
    engine = make_engine(url)
    with Session(engine) as s:
        state = {
            "records": dump_store(engine),
            "events": s.scalar(select(func.count()).select_from(Event)),
            "annotations": s.scalar(select(func.count()).select_from(Annotation)),
            "levels": sorted((p.uid, p.admin_level) for p in s.scalars(select(UserPrivilege))),
            "coordinators": sorted((c.uid, c.account) for c in s.scalars(select(Coordinator))),
        }
    engine.dispose()
    return state


def job(url: str, job_id: int) -> dict[str, Any]:
    engine = make_engine(url)
    with Session(engine) as s:
        row = s.scalars(select(Job).where(Job.job_id_raw == job_id)).one()
        values = {c.name: getattr(row, c.name) for c in Job.__table__.columns}
    engine.dispose()
    return values


def refused(
    done: subprocess.CompletedProcess[str], status: int, error: str, stdout: str | None = ""
) -> None:
    """One error line naming ``error``, exit ``status``, ``stdout`` on stdout (None: any)."""
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jobacct: error: "), done.stderr
    assert error in lines[0], done.stderr
    if stdout is not None:
        assert done.stdout == stdout


# ---------------------------------------------------------------- what alice may do


def test_alice_annotates_her_own_job_through_the_socket(daemon: Daemon) -> None:
    done = daemon.run(ALICE, "sjobexitmod", "-e", "49", "-r", "out of memory", "602")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "\n Modification of job 602 was successful.\n\n"
    row = job(daemon.url, 602)
    assert (row["comment"], row["derived_exit_code"]) == ("out of memory", 49)
    history = daemon.run(ALICE, "sjobexitmod", "--history", "602")
    assert history.returncode == 0, history.stderr
    assert f"|Comment||out of memory|{ALICE}|sjobexitmod" in history.stdout


def _settled(document: str) -> list[Any]:
    """The jobs of a ``--json`` document without the running jobs' Elapsed (the clock)."""
    jobs: list[Any] = json.loads(document)["jobs"]
    for job in jobs:
        for item in [job, *job["steps"]]:
            item["time"].pop("elapsed", None)
    return jobs


def test_alice_reads_through_the_socket_what_root_reads_directly(daemon: Daemon) -> None:
    """Same bytes as the command run directly on the store (by its owner), same status."""
    for args in (
        ["sacct", "-a", "-S", "2026-11-01", "-E", "2027-01-01", "-o", "JobID,User,State,ExitCode"],
        ["sacct", "-j", "601,602", "-P", "-o", "ALL"],
        ["sacct", "-a", "-S", "2026-11-01", "-E", "2027-01-01", "--json"],
        ["sjobexitmod", "-l", "601"],
        ["sacct", "-j", "99999", "-X"],
        ["sacct", "-S", "yesterday-ish"],
    ):
        through = daemon.run(ALICE, *args)
        direct = daemon.run(ROOT, "--db", daemon.url, *args, server=False)
        if "--json" in args:  # the meta block is the same; compare the jobs
            assert _settled(through.stdout) == _settled(direct.stdout)
        else:
            assert through.stdout == direct.stdout, args
        assert through.stderr == direct.stderr, args
        assert through.returncode == direct.returncode, args


@pytest.mark.parametrize("daemon", ["sqlite"], indirect=True)
def test_alice_without_the_daemon_cannot_open_the_store(daemon: Daemon) -> None:
    assert daemon.store_file is not None  # a SQLite store (a server's password is the daemon's)
    assert daemon.store_file.stat().st_mode & 0o777 == 0o600
    assert daemon.store_file.parent.stat().st_mode & 0o777 == 0o700
    done = daemon.run(ALICE, "--db", str(daemon.store_file), "sacct", "-j", "601", server=False)
    refused(done, 3, "Permission denied")
    assert OTHER_UID_PYTHON is not None
    opened = subprocess.run(
        ["setpriv", f"--reuid={ALICE}", f"--regid={ALICE}", "--clear-groups",
         OTHER_UID_PYTHON, "-c", f"open({str(daemon.store_file)!r}, 'rb')"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert opened.returncode == 1 and "PermissionError" in opened.stderr
    if shutil.which("sqlite3"):  # the last bypass: plain sqlite3 on the file
        before = snapshot(daemon.url)
        forged = subprocess.run(
            ["setpriv", f"--reuid={ALICE}", f"--regid={ALICE}", "--clear-groups", "sqlite3",
             str(daemon.store_file), "INSERT INTO user_privilege (uid, user_name, admin_level)"
             f" VALUES ({ALICE}, 'alice', 'Administrator'); DELETE FROM annotation;"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert forged.returncode != 0 and "unable to open database" in forged.stderr
        assert snapshot(daemon.url) == before


def test_modify_job_asks_through_the_socket(daemon: Daemon) -> None:
    """The prompt reaches the client and its answer the command (stdin is streamed)."""
    args = ["modify-job", "where", "JobID=601,602", "set", "Comment=asked"]
    discarded = daemon.run(ALICE, *args, stdin="n\n")
    assert discarded.returncode == 0, discarded.stderr
    assert "Would you like to commit changes? (N/y): " in discarded.stdout
    assert "Changes Discarded" in discarded.stdout
    assert job(daemon.url, 601)["comment"] != "asked"
    done = daemon.run(ALICE, *args, stdin="y\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(" 2 of 2 jobs changed\n")
    assert job(daemon.url, 601)["comment"] == "asked"
    no_answer = daemon.run(ALICE, *args)
    refused_lines = no_answer.stderr.splitlines()
    assert no_answer.returncode == 1 and "pass -i" in refused_lines[-1]


# ---------------------------------------------------------------- every bypass, refused


def test_every_bypass_is_refused_and_nothing_changes(daemon: Daemon) -> None:
    before = snapshot(daemon.url)
    root_key = {"schema": 1, "cluster": CLUSTER, "job_id_raw": ROOT_JOB, "submit": T0 + ROOT_JOB}
    forged = {
        # root's running job killed with a signal event that claims uid 0
        "kill": {**root_key, "type": "signal", "seq": 90, "uid": 0, "signal": "KILL",
                 "flags": 0, "time": T0 + 900, "api": "slurm_kill_job"},
        # root's and bob's jobs rewritten with job_end events
        "end_root": {**root_key, "type": "job_end", "seq": 91, "time": T0 + 900,
                     "state": "COMPLETED", "exit": 0},
        "end_bob": {"schema": 1, "cluster": CLUSTER, "job_id_raw": BOB_JOB,
                    "submit": T0 + BOB_JOB, "type": "job_end", "seq": 92, "time": T0 + 900,
                    "state": "COMPLETED", "exit": 0},
        # a fake root job
        "fake": {"schema": 1, "cluster": CLUSTER, "job_id_raw": 999, "submit": T0 + 999,
                 "type": "job_submit", "seq": 1, "uid": 0, "user_name": "root"},
    }  # fmt: skip
    events = daemon.shared / "forged.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in forged.values()))
    events.chmod(0o644)
    for done in (
        daemon.run(ALICE, "shim", "ingest", str(events)),
        daemon.run(ALICE, "shim", "ingest", stdin=events.read_text()),
        daemon.run(ALICE, "shim", "ingest", "-", stdin=json.dumps(forged["kill"]) + "\n"),
    ):
        refused(done, 1, "ESLURM_ACCESS_DENIED: 'shim ingest' writes records as the controller")
    jobcomp_env = {
        "JOBID": str(ROOT_JOB), "UID": "0", "SUBMIT": str(T0 + ROOT_JOB), "START": "0",
        "END": str(T0 + 950), "JOBSTATE": "COMPLETED", "EXITCODE": "0:0", "CLUSTER": CLUSTER,
    }  # fmt: skip
    refused(daemon.run(ALICE, "shim", "jobcomp", env=jobcomp_env), 1, "'shim jobcomp'")
    sacct_rows = (
        "JobID|JobIDRaw|User|UID|Account|State|ExitCode|Submit|Start|End\n"
        f"{ROOT_JOB}|{ROOT_JOB}|root|0|admin|COMPLETED|0:0|2026-11-20T10:00:00|"
        "2026-11-20T10:00:01|2026-11-20T10:05:00\n"
        "998|998|root|0|admin|COMPLETED|0:0|2026-11-20T10:00:00|2026-11-20T10:00:01|"
        "2026-11-20T10:05:00\n"
    )
    refused(daemon.run(ALICE, "import", "sacct", "--cluster", CLUSTER, "-", stdin=sacct_rows),
            1, "'import sacct'")  # fmt: skip
    refused(
        daemon.run(ALICE, "import", "slurmdbd", "--job-table", str(events), "--step-table",
                   str(events), "--cluster", CLUSTER),
        1, "'import slurmdbd'",
    )  # fmt: skip
    # The rules of the commands, with the peer's uid as the caller.
    refused(daemon.run(ALICE, "sjobexitmod", "-e", "0", "-r", "mine now", str(ROOT_JOB)),
            1, "ESLURM_ACCESS_DENIED: job 500 belongs to uid 0")  # fmt: skip
    refused(daemon.run(ALICE, "sjobexitmod", "-e", "0", str(BOB_JOB)), 1, "ESLURM_ACCESS_DENIED")
    # modify-job lists the matched jobs before it checks (as run directly)
    refused(daemon.run(ALICE, "modify-job", "-i", "where", f"JobID={ROOT_JOB}", "set",
                       "Comment=x"), 1, "ESLURM_ACCESS_DENIED", stdout=None)  # fmt: skip
    refused(daemon.run(ALICE, "modify-job", "-i", "where", "JobID=601", "set",
                       "AdminComment=x"), 1, "needs AdminLevel Operator", stdout=None)  # fmt: skip
    cancel = daemon.run(ALICE, "scancel", str(ROOT_JOB))
    assert cancel.returncode == 210, cancel.stderr  # ESLURM_ACCESS_DENIED 2002 & 0xff
    assert cancel.stderr == (
        f"scancel: error: Kill job error on job id {ROOT_JOB}: Access/permission denied\n"
    )
    for admin in (
        ["admin", "set-level", str(ALICE), "Administrator"],
        ["admin", "add-coordinator", str(ALICE), "admin"],
        ["admin", "list"],
    ):
        refused(daemon.run(ALICE, *admin), 1, "ESLURM_ACCESS_DENIED: managing AdminLevels")
    # The daemon serves its own store only, and never runs db commands for a client.
    refused(daemon.run(ALICE, "--server", f"unix:{daemon.socket}", "--db", "x.sqlite", "sacct"),
            2, "--server and --db cannot be used together")  # fmt: skip
    refused(raw_run(daemon, ALICE, ["--db", "/tmp/alice.sqlite", "sacct"]), 2,
            "--db cannot be used through the jobacct server")  # fmt: skip
    refused(raw_run(daemon, ALICE, ["db", "upgrade"]), 2, "'db' is not run through")
    assert snapshot(daemon.url) == before
    assert job(daemon.url, ROOT_JOB)["state"] == "RUNNING"


def raw_run(daemon: Daemon, uid: int, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Send ``argv`` as it is (no client-side checks) with :func:`jobacct.client.run`."""
    assert OTHER_UID_PYTHON is not None
    script = (
        "import sys, json\nfrom jobacct import client\n"
        "sys.exit(client.run(sys.argv[1], json.loads(sys.argv[2])))\n"
    )
    return subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
         OTHER_UID_PYTHON, "-c", script, str(daemon.socket), json.dumps(argv)],
        capture_output=True, text=True, timeout=60, cwd=str(daemon.shared),
        env={"PYTHONPATH": readable_pythonpath(), "TZ": "UTC"},
    )  # fmt: skip


def test_alice_may_cancel_her_own_running_job(daemon: Daemon) -> None:
    done = daemon.run(ALICE, "scancel", str(ALICE_RUNNING))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    row = job(daemon.url, ALICE_RUNNING)
    assert row["state"] == "CANCELLED" and row["kill_requid"] == ALICE


# ---------------------------------------------------------------- controllers


def test_a_controller_uid_ingests_and_its_files_are_opened_with_its_rights(
    daemon: Daemon,
) -> None:
    events = daemon.shared / "ok.jsonl"
    events.write_text(
        "".join(json.dumps(e) + "\n" for e in job_events(801, BOB, "bob", account="chem"))
    )
    events.chmod(0o644)
    done = daemon.run(SLURM, "shim", "ingest", str(events))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("4 events: 4 applied")
    assert job(daemon.url, 801)["state"] == "COMPLETED"
    # A file the controller's uid may not read is not read for it by the daemon (root).
    secret = daemon.shared / "root-only.jsonl"
    secret.write_text(events.read_text())
    secret.chmod(0o600)
    denied = daemon.run(SLURM, "shim", "ingest", str(secret))
    refused(denied, 1, f"cannot read {secret}: Permission denied")
    missing = daemon.run(SLURM, "shim", "ingest", "no-such-file.jsonl")
    refused(missing, 1, "cannot read no-such-file.jsonl: No such file or directory")
    jobcomp = daemon.run(
        SLURM, "shim", "jobcomp",
        env={"JOBID": "802", "UID": str(BOB), "SUBMIT": str(T0 + 802), "START": str(T0 + 810),
             "END": str(T0 + 850), "JOBSTATE": "FAILED", "EXITCODE": "3:0", "CLUSTER": CLUSTER,
             "NODES": "tux2", "NODECNT": "1", "PROCS": "2"},
    )  # fmt: skip
    assert jobcomp.returncode == 0, jobcomp.stderr
    assert job(daemon.url, 802)["state"] == "FAILED"


@pytest.mark.parametrize("daemon", ["sqlite"], indirect=True)
def test_a_controller_imports_its_own_files_through_the_socket(daemon: Daemon) -> None:
    """import slurmdbd and import sacct with files the client opens and streams."""
    golden = Path(__file__).parent / "golden"
    names = {}
    for name, source in (
        ("jobs.tsv", golden / "db" / "golden_job_table.tsv"),
        ("steps.tsv", golden / "db" / "golden_step_table.tsv"),
        ("sacct.txt", None),
    ):
        target = daemon.shared / name
        if source is not None:
            shutil.copy(source, target)
        else:
            target.write_text(
                "JobID|JobIDRaw|User|UID|Account|State|ExitCode|Submit|Start|End\n"
                "77001|77001|bob|1002|chem|COMPLETED|0:0|2026-11-20T10:00:00|"
                "2026-11-20T10:00:01|2026-11-20T10:05:00\n"
            )
        target.chmod(0o644)
        names[name] = name  # relative: the client's working directory
    done = daemon.run(
        SLURM, "import", "slurmdbd", "--job-table", names["jobs.tsv"], "--step-table",
        names["steps.tsv"], "--cluster", "golden",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = daemon.run(SLURM, "import", "sacct", "--cluster", CLUSTER, names["sacct.txt"])
    assert done.returncode == 0, done.stderr
    assert job(daemon.url, 77001)["uid"] == BOB


def test_a_daemon_that_is_down_is_one_line_and_status_3(daemon: Daemon) -> None:
    done = daemon.run(ALICE, "sacct", env={"JOBACCT_SERVER": f"unix:{daemon.shared}/gone.sock"})
    refused(done, 3, "cannot reach the jobacct server at unix:")


# ---------------------------------------------------------------- slurmrestd's reads


def test_rest_job_is_sacct_json(daemon: Daemon) -> None:
    status, body = daemon.get(ALICE, "/slurmdb/v0.0.38/job/602")
    assert status == 200 and body["errors"] == []
    direct = daemon.run(ROOT, "--db", daemon.url, "sacct", "--json", "-j", "602", server=False)
    assert body["jobs"] == json.loads(direct.stdout)["jobs"]
    assert body["meta"]["plugin"]["type"] == "openapi/dbv0.0.38"
    status, body = daemon.get(ALICE, "/slurmdb/v0.0.38/jobs?users=bob&start_time=2026-11-01")
    assert status == 200 and BOB_JOB in [j["job_id"] for j in body["jobs"]]
    assert {j["user"] for j in body["jobs"]} == {"bob"}
    status, body = daemon.get(ALICE, "/slurmdb/v0.0.38/jobs?start_time=nonsense")
    assert status == 400 and "nonsense" in body["errors"][0]["error"]


# ---------------------------------------------------------------- PrivateData=jobs


@pytest.fixture(scope="module")
def private_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon with ``private_data = ["jobs"]`` on a SQLite store."""
    tmp = tmp_path_factory.mktemp("serve-private")
    for url, store_file in make_store("sqlite", tmp):
        engine = make_engine(url)
        with Session(engine) as s, s.begin():
            s.add(Coordinator(uid=BOB, account="physics"))
        engine.dispose()
        running = start_daemon(
            "sqlite", url, store_file, write_config(tmp / "jobacct.toml", private=True), tmp
        )
        try:
            yield running
        finally:
            stop_daemon(running)


def test_private_data_jobs_limits_what_users_read(private_daemon: Daemon) -> None:
    window = ["-S", "2026-11-01", "-E", "2027-01-01", "-X", "-n", "-P", "-o", "JobIDRaw"]

    def seen(uid: int) -> list[int]:
        done = private_daemon.run(uid, "sacct", "-a", *window)
        assert done.returncode == 0, done.stderr
        return sorted(int(x) for x in done.stdout.split())

    assert seen(ALICE) == [601, 602, 603]
    assert seen(BOB) == [601, 602, 603, 701]  # coordinator of physics
    assert seen(ROOT) == [ROOT_JOB, 601, 602, 603, 701]
    assert private_daemon.run(ALICE, "sjobexitmod", "-l", str(ROOT_JOB)).stdout.count("\n") == 2
    status, body = private_daemon.get(ALICE, "/slurmdb/v0.0.38/job/500")
    assert status == 200 and body["jobs"] == []
    status, body = private_daemon.get(ALICE, "/slurmdb/v0.0.38/jobs?start_time=2026-11-01")
    assert sorted(j["job_id"] for j in body["jobs"]) == [601, 602, 603]
    report = private_daemon.run(ALICE, "report", "failures", "-S", "2026-11-01")
    refused(report, 1, "ESLURM_ACCESS_DENIED: with PrivateData=jobs the reports")
    # Nor does annotating tell her that root's job exists, or what its history holds.
    for args in (
        ["sjobexitmod", "--history", str(ROOT_JOB)],
        ["sjobexitmod", "-r", "x", str(ROOT_JOB)],
        ["modify-job", "-i", "where", f"JobID={ROOT_JOB}", "set", "Comment=x"],
    ):
        refused(private_daemon.run(ALICE, *args), 1, "ESLURM_INVALID_JOB_ID")
    assert private_daemon.run(BOB, "sjobexitmod", "--history", "601").returncode == 0


# ---------------------------------------------------------------- start-up checks


def test_the_daemon_refuses_a_store_others_may_open(tmp_path: Path) -> None:
    store = tmp_path / "open.sqlite"
    made = subprocess.run(
        [sys.executable, "-m", "jobacct", "--db", str(store), "db", "init"],
        capture_output=True, text=True, env={**os.environ, "JOBACCT_CONFIG": "/dev/null"},
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    store.chmod(0o644)
    done = subprocess.run(
        [sys.executable, "-m", "jobacct", "--db", str(store), "serve", "--socket",
         str(tmp_path / "s.sock")],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "JOBACCT_CONFIG": "/dev/null"},
    )  # fmt: skip
    refused(done, 1, f"{store} is mode 0644")
    assert not (tmp_path / "s.sock").exists()


# ---------------------------------------------------------------- two daemons, one database


@pytest.mark.parametrize("daemon", ["postgresql"], indirect=True)
def test_two_daemons_on_one_postgresql_database(
    daemon: Daemon, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """One daemon per login node against one PostgreSQL store: each identifies its own
    local peers; what one writes the other reads; both refuse alike."""
    tmp = tmp_path_factory.mktemp("serve-second")
    second = start_daemon("postgresql", daemon.url, None, write_config(tmp / "jobacct.toml"), tmp)
    try:
        done = daemon.run(ALICE, "sjobexitmod", "-r", "from node one", "601")
        assert done.returncode == 0, done.stderr
        listing = second.run(ALICE, "sjobexitmod", "-l", "601")
        assert "from node one" in listing.stdout
        done = second.run(ALICE, "sjobexitmod", "-r", "from node two", "601")
        assert done.returncode == 0, done.stderr
        assert "from node two" in daemon.run(ALICE, "sjobexitmod", "-l", "601").stdout
        before = snapshot(daemon.url)
        refused(second.run(ALICE, "sjobexitmod", "-r", "x", str(ROOT_JOB)), 1,
                "ESLURM_ACCESS_DENIED")  # fmt: skip
        refused(second.run(ALICE, "shim", "ingest", stdin="{}\n"), 1, "ESLURM_ACCESS_DENIED")
        assert snapshot(daemon.url) == before
    finally:
        stop_daemon(second)


def test_http_client_over_the_socket_from_this_process(daemon: Daemon) -> None:
    """A plain ``http.client`` (a slurmrestd client's kind) reads as root, keep-alive."""

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(str(daemon.socket))

    conn = UnixConnection("localhost")
    for job_id in (ROOT_JOB, 601, BOB_JOB):
        conn.request("GET", f"/slurmdb/v0.0.38/job/{job_id}")
        response = conn.getresponse()
        assert response.status == 200
        assert [j["job_id"] for j in json.loads(response.read())["jobs"]] == [job_id]
    conn.close()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@pytest.mark.parametrize("daemon", ["sqlite"], indirect=True)
def test_interrupting_the_client_ends_the_command_in_the_daemon(daemon: Daemon) -> None:
    """Ctrl-C in a client whose command still waits for input: status 130, worker gone."""
    assert OTHER_UID_PYTHON is not None
    client = subprocess.Popen(
        [OTHER_UID_PYTHON, "-m", "jobacct", "shim", "ingest"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": readable_pythonpath(), "JOBACCT_SERVER": f"unix:{daemon.socket}",
             "JOBACCT_CONFIG": "/dev/null", "TZ": "UTC"},
    )  # fmt: skip
    (zygote,) = _children(daemon.process.pid)
    deadline = time.monotonic() + 30
    while not _children(zygote):  # the worker is running, waiting for events
        assert time.monotonic() < deadline, "no worker started"
        time.sleep(0.05)
    client.send_signal(2)  # SIGINT
    _out, _err = client.communicate(timeout=30)
    assert client.returncode == 130
    while _children(zygote):
        assert time.monotonic() < deadline, "the worker outlived its client"
        time.sleep(0.05)


@pytest.mark.parametrize("daemon", ["sqlite"], indirect=True)
def test_a_client_that_ends_its_request_body_gets_its_answer(daemon: Daemon) -> None:
    """HTTP/1.1 as any client may speak it: the command frame, then the end of the body.
    The command runs to its end with an empty standard input."""
    from jobacct import wire

    answers = []
    for argv in (["sacct", "-j", "601", "-X", "-n", "-P", "-o", "JobID,State"],
                 ["sjobexitmod", "-l", "601"]):  # fmt: skip
        head = wire.frame(b"H", json.dumps({"argv": argv, "env": {}, "tty": {}}).encode())
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(daemon.socket))
            sock.sendall(
                b"POST /jobacct/v1/run HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"%x\r\n%s\r\n0\r\n\r\n" % (len(head), head)
            )
            sock.settimeout(60)
            data = b""
            while not data.endswith(b"\r\n0\r\n\r\n"):
                chunk = sock.recv(1 << 16)
                assert chunk, data
                data += chunk
        answers.append(data)
    assert b"601|COMPLETED\n" in answers[0]
    assert answers[0].endswith(b"X\x00\x00\x00\x04\x00\x00\x00\x00\r\n0\r\n\r\n")
