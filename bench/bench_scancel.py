"""Time ``jobacct scancel`` on a copy of the 1,000,000-job bench store (bench/bench_sacct.py).

Adds 2,000 pending and 2,000 running jobs (1,000 of each for user ``benchuser``) to a copy
of ``bench/bench.sqlite`` and times, as whole commands (start-up included, median of 5):
cancelling one job by id (path A), one unknown id, and a filtered cancel of one user's
pending jobs (path B; re-seeded before each run). Prints a table of seconds.

Usage: .venv/bin/python bench/bench_scancel.py [STORE]
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOBACCT = str(ROOT / ".venv" / "bin" / "jobacct")
BASE = 90_000_000


def seed(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM job WHERE job_id_raw >= ?", (BASE,))
    now = int(time.time())
    rows = []
    for i in range(4000):
        pending = i % 2 == 0
        uid = 7777 if i < 2000 else 7778
        rows.append(
            (
                "bench",
                BASE + i,
                f"bench{i}",
                "benchuser" if uid == 7777 else "other",
                uid,
                "acct",
                "debug",
                now - 600,
                now - 600,
                None if pending else now - 500,
                "PENDING" if pending else "RUNNING",
                "None assigned" if pending else "node001",
            )
        )
    conn.executemany(
        "INSERT INTO job (cluster, job_id_raw, job_name, user_name, uid, account, partition,"
        " time_submit, time_eligible, time_start, state, nodelist, nnodes, ncpus,"
        " time_suspended, derived_exit_code, derived_exit_signal, derived_annotated,"
        " computed_exit_code, computed_exit_signal)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1,1,0,0,0,0,0,0)",
        rows,
    )
    conn.commit()
    conn.close()


def timed(db: Path, *args: str, reseed: bool = False) -> float:
    runs = []
    for _ in range(5):
        if reseed:
            seed(db)
        start = time.perf_counter()
        result = subprocess.run(
            [JOBACCT, "--db", str(db), "scancel", *args], capture_output=True, text=True
        )
        runs.append(time.perf_counter() - start)
        if result.returncode not in (0,):
            print(result.stderr, file=sys.stderr)
    return statistics.median(runs)


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "bench.sqlite"
    work = Path(tempfile.mkdtemp(prefix="bench-scancel-"))
    db = work / "store.sqlite"
    shutil.copy(source, db)
    try:
        seed(db)
        cases = [
            ("one running job by id (path A)", (str(BASE + 1),), True),
            ("unknown id (path A)", ("999999999",), False),
            (
                "-t PENDING -u benchuser: 1,000 jobs (path B)",
                ("-t", "PENDING", "-u", "benchuser"),
                True,
            ),
            ("no job matches (path B)", ("-t", "PENDING", "-n", "nomatch"), False),
        ]
        print("| command | seconds |\n|---|---:|")
        for label, args, reseed in cases:
            seconds = timed(db, *args, reseed=reseed)
            print(f"| `jobacct scancel {' '.join(args)}`: {label} | {seconds:.2f} |")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
