"""A big ``jobacct sacct`` read shared by helper processes (jobacct.splitread, issue 3).

The split must never change a byte: every output mode that may be split prints exactly what
one process prints, in real processes on a real SQLite file of several thousand jobs; a helper
that dies has its slice read by the command; a reader that goes away (``| head``) leaves no
process behind.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

import pytest

from jobacct import fastread
from jobacct.fields import Ctx, columns_read, resolve_format
from jobacct.formats import OutputMode, write_sacct
from jobacct.query import JobFilter, Window, iter_lines
from jobacct.splitread import ENV_PROCESSES, MIN_JOBS_PER_PROCESS, Helpers, processes_wanted
from tests.conftest import FAKETIME, FAKETIME_ENV, frozen_clock

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_db" / "jobacct.sqlite"
#: Copies of the sample store's jobs (3,044 each): enough for three slices at the CLI's
#: threshold.
COPIES = 3
SHIFT = 10_000_000  # added to JobIDs (and array/het ids) of each copy


def _multiply(path: Path, copies: int) -> int:
    """Give the store ``copies`` times its jobs, each copy with shifted ids; returns jobs."""
    conn = sqlite3.connect(path)
    job_cols = [r[1] for r in conn.execute("PRAGMA table_info(job)")]
    step_cols = [r[1] for r in conn.execute("PRAGMA table_info(step)")]
    top_job = conn.execute("SELECT max(id) FROM job").fetchone()[0]
    top_step = conn.execute("SELECT max(id) FROM step").fetchone()[0]
    shifted = {"job_id_raw", "array_job_id", "het_job_id"}
    for copy in range(1, copies):
        job_exprs = [
            f"{c} + {copy * top_job}"
            if c == "id"
            else f"{c} + {copy * SHIFT}"
            if c in shifted
            else c
            for c in job_cols
        ]
        step_exprs = [
            f"{c} + {copy * top_step}"
            if c == "id"
            else f"{c} + {copy * top_job}"
            if c == "job_pk"
            else c
            for c in step_cols
        ]
        conn.execute(
            f"INSERT INTO job ({', '.join(job_cols)}) SELECT {', '.join(job_exprs)}"
            f" FROM job WHERE id <= {top_job}"
        )
        conn.execute(
            f"INSERT INTO step ({', '.join(step_cols)}) SELECT {', '.join(step_exprs)}"
            f" FROM step WHERE id <= {top_step}"
        )
    conn.commit()
    jobs = int(conn.execute("SELECT count(*) FROM job").fetchone()[0])
    conn.close()
    return jobs


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("split") / "big.sqlite"
    shutil.copyfile(SAMPLE, path)
    jobs = _multiply(path, COPIES)
    assert jobs >= COPIES * MIN_JOBS_PER_PROCESS
    return path


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: The clock of the compared runs: running jobs' Elapsed is counted to it, so two runs
#: compare only at the same instant (libfaketime, as in tests/test_golden_real.py).
FROZEN = "2026-11-23 12:00:00"


def _sacct(path: Path, args: list[str], processes: int) -> subprocess.CompletedProcess[bytes]:
    if FAKETIME is None:
        assert not IN_CI, "CI=true: faketime must be installed (see .ci/run)"
        pytest.skip("faketime is not installed (apt-get install faketime); CI installs it")
    env = {
        **os.environ,
        **FAKETIME_ENV,
        "TZ": "UTC",
        "NO_COLOR": "1",
        ENV_PROCESSES: str(processes),
    }
    return subprocess.run(
        [*frozen_clock(FROZEN), sys.executable, "-m", "jobacct", "--db", str(path), "sacct", *args],
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )


WINDOW = ["-a", "-S", "2026-11-01T00:00:00", "-E", "2026-12-01T00:00:00"]

MODES = {
    "fixed width": [],
    "-p": ["-p"],
    "-P": ["-P"],
    "-P --delimiter": ["-P", "--delimiter=,"],
    "-n -P": ["-n", "-P"],
    "--csv": ["--csv"],
    "--ndjson": ["--ndjson"],
    "-T -P": ["-T", "-P"],
    "--array -P": ["--array", "-P"],
    "-D -s CA,F,TO,OOM": ["-D", "-s", "CA,F,TO,OOM"],
    "-o with steps": ["-P", "-o", "JobID,JobName,State,ExitCode,DerivedExitCode,Comment,NodeList"],
    # -X over most of the store: split too (jobacct.fastread.order_hint).
    "-X -P": ["-X", "-P"],
    "-X fixed width -o": ["-X", "-o", "JobID,State,ExitCode,Elapsed"],
}


@pytest.mark.parametrize("name", list(MODES))
def test_split_read_prints_the_same_bytes(big_store: Path, name: str) -> None:
    """One process, two and three (where the CLI splits) print identical output."""
    args = [*WINDOW, *MODES[name]]
    alone = _sacct(big_store, args, 1)
    assert alone.returncode == 0, alone.stderr
    assert alone.stderr == b""
    assert alone.stdout.count(b"\n") > 2 * MIN_JOBS_PER_PROCESS
    for processes in (2, 3):
        shared = _sacct(big_store, args, processes)
        assert shared.returncode == 0, shared.stderr
        assert shared.stderr == b""
        assert shared.stdout == alone.stdout, f"{processes} processes differ from one"


# ------------------------------------------------------------------ the API, split observed

NOW = 1795473157
COLUMNS = resolve_format("JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode,Elapsed")
CTX = Ctx(now=NOW)
F = JobFilter()
W = Window(0, NOW + 1)


def _render(conn: sqlite3.Connection, out: TextIO, header: bool = True, f: JobFilter = F) -> bool:
    return write_sacct(
        iter_lines(conn, f, W, now=NOW, reads=columns_read(COLUMNS)),
        OutputMode.PARSABLE2,
        COLUMNS,
        CTX,
        header=header,
        out=out,
    )


def _alone(path: Path, f: JobFilter = F) -> str:
    out = io.StringIO()
    conn = fastread.open_store(path)
    try:
        _render(conn, out, True, f)
    finally:
        conn.close()
    return out.getvalue()


def _shared(
    path: Path, count: int, min_jobs: int, kill: int | None = None, f: JobFilter = F
) -> tuple[str, int]:
    """Output of a read shared by ``count`` processes, and how many helpers got a slice."""
    out = io.StringIO()

    def render_slice(conn: sqlite3.Connection, out: TextIO) -> None:
        _render(conn, out, header=False, f=f)

    with Helpers(path, render_slice, count, min_jobs) as h:
        if kill is not None:
            os.kill(h.helpers[kill].pid, signal.SIGKILL)
        conn = fastread.open_store(path)
        conn.helpers = h
        try:
            assert _render(conn, out, True, f)
        finally:
            conn.close()
        given = sum(helper.given for helper in h.helpers)
        h.finish(out)
    return out.getvalue(), given


def test_helpers_get_consecutive_slices(big_store: Path) -> None:
    alone = _alone(big_store)
    text, given = _shared(big_store, 4, MIN_JOBS_PER_PROCESS)
    assert given == 2  # 9,132 jobs: three slices of at least 2,500
    assert text == alone
    text, given = _shared(big_store, 4, 100)
    assert given == 3
    assert text == alone


def test_a_listing_without_steps_is_cut_by_submit_time(big_store: Path) -> None:
    """-X: each helper gets a range of submit times (no selection table); the slices, one
    after the other, are the listing; a helper killed before it read has its range read by
    the command; a filter with an index of its own is read alone."""
    f = JobFilter(allocations_only=True)
    alone = _alone(big_store, f)
    assert alone.count("\n") > 3 * MIN_JOBS_PER_PROCESS
    for count, min_jobs, helped in ((2, MIN_JOBS_PER_PROCESS, 1), (4, 100, 3)):
        text, given = _shared(big_store, count, min_jobs, f=f)
        assert given == helped
        assert text == alone
    for victim in (0, 1):
        text, given = _shared(big_store, 3, 100, kill=victim, f=f)
        assert given == 2
        assert text == alone
    mine = JobFilter(allocations_only=True, uids=[1001, 2001, 2002])
    text, given = _shared(big_store, 3, 10, f=mine)
    assert given == 0
    assert text == _alone(big_store, mine)


def test_too_few_jobs_are_read_alone(big_store: Path) -> None:
    text, given = _shared(big_store, 2, 10**6)
    assert given == 0
    assert text == _alone(big_store)


def test_a_helper_that_dies_has_its_slice_read_by_the_command(big_store: Path) -> None:
    alone = _alone(big_store)
    for victim in (0, 1):
        text, given = _shared(big_store, 3, 100, kill=victim)
        assert given == 2
        assert text == alone


def test_helpers_are_reaped(big_store: Path) -> None:
    with Helpers(big_store, lambda c, o: None, 3) as h:
        pids = [helper.pid for helper in h.helpers]
        assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


# ------------------------------------------------------------------ the CLI's edges


def _processes_reading(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(path).encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_a_reader_that_goes_away_leaves_no_process(big_store: Path) -> None:
    env = {**os.environ, "TZ": "UTC", ENV_PROCESSES: "3"}
    argv = [sys.executable, "-m", "jobacct", "--db", str(big_store), "sacct", *WINDOW, "-P"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    status = proc.wait(timeout=120)
    assert first.startswith(b"JobID|")
    assert status == 0
    assert proc.stderr.read() == b""
    proc.stderr.close()
    deadline = time.monotonic() + 10
    while _processes_reading(big_store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_reading(big_store) == []


def test_bad_process_count_is_one_clear_line(big_store: Path) -> None:
    env = {**os.environ, "TZ": "UTC", ENV_PROCESSES: "two"}
    bad = subprocess.run(
        [sys.executable, "-m", "jobacct", "--db", str(big_store), "sacct", "-a", "-P"],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == b""
    assert bad.stderr == (
        b"jobacct: error: JOBACCT_SACCT_PROCESSES='two': expected a positive whole number\n"
    )


def test_processes_wanted() -> None:
    assert processes_wanted({ENV_PROCESSES: "1"}) == 1
    assert processes_wanted({ENV_PROCESSES: " 3 "}) == 3
    assert 1 <= processes_wanted({}) <= 4
