"""Benchmark ``jobacct report`` on the million-job store of ``bench/bench_sacct.py`` (issue 6).

Usage (from the project root)::

    .venv/bin/python bench/bench_report.py [--db bench/bench.sqlite] [--runs 5]

The store is the one ``bench/bench_sacct.py`` builds (1,000,000 jobs over 30 days, about
34,000 a day); without it, build it first (``.venv/bin/python bench/bench_sacct.py``, or with
``--db OTHER`` for a private copy). Nothing is written to the store.

Times whole commands (the real console script, as cron runs it), median of ``--runs``: the
daily failure report (text, and HTML with its chart) for a day early, in the middle and at the
end of the data, the weekly utilisation report, and a day's cancellations; prints
``EXPLAIN QUERY PLAN`` of the report statements; writes ``bench/REPORT_RESULTS.md``.

Target (issue 6): the daily failure report for one day under 2 s for the whole command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOBACCT = ROOT / ".venv" / "bin" / "jobacct"
DEFAULT_DB = ROOT / "bench" / "bench.sqlite"
RESULTS = ROOT / "bench" / "REPORT_RESULTS.md"
TARGET_S = 2.0


def day_range(db: Path) -> tuple[int, int]:
    """First and last time_end of the store (epoch)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        low, high = conn.execute("SELECT min(time_end), max(time_end) FROM job").fetchone()
    return int(low), int(high)


def timed(argv: list[str], runs: int) -> tuple[float, int]:
    """Median wall seconds and output bytes of ``argv`` over ``runs`` runs."""
    times: list[float] = []
    size = 0
    env = {**os.environ, "TZ": "UTC"}
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        out, err = proc.communicate()
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"failed: {shlex.join(argv)}\n{err.decode()}")
        times.append(elapsed)
        size = len(out)
    return statistics.median(times), size


def plans(db: Path, day: int) -> list[tuple[str, list[str]]]:
    """EXPLAIN QUERY PLAN of the report statements for the window [day, day + 1 day)."""
    sys.path.insert(0, str(ROOT))
    from jobacct.report.cancellations import cancellations_query
    from jobacct.report.failures import failures_query
    from jobacct.report.scope import Scope
    from jobacct.report.usage import usage_query
    from jobacct.report.window import Window

    window = Window(day, day + 86_400)
    out = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for name, query in (
            ("failures", failures_query),
            ("cancellations", cancellations_query),
            ("utilization", usage_query),
        ):
            sql, params = query(conn, window, Scope())
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            out.append((name, [r[-1] for r in rows]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"{args.db} does not exist: build it with .venv/bin/python bench/bench_sacct.py")
    low, high = day_range(args.db)
    first = (low // 86_400 + 1) * 86_400
    last = (high // 86_400 - 2) * 86_400  # the last full day whose jobs have all ended
    middle = first + ((last - first) // 86_400 // 2) * 86_400
    days = {"early": first, "middle": middle, "late": last}

    def d(epoch: int) -> str:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")

    base = [str(JOBACCT), "--db", str(args.db), "report"]
    cases: list[tuple[str, list[str]]] = []
    for label, day in days.items():
        window = ["-S", d(day), "-E", d(day + 86_400)]
        cases.append((f"failures, one day ({label}), text", [*base, "failures", *window]))
    mid = ["-S", d(middle), "-E", d(middle + 86_400)]
    cases += [
        ("failures, one day (middle), html with chart", [*base, "failures", *mid,
                                                          "--format", "html"]),
        ("cancellations, one day (middle), text", [*base, "cancellations", *mid]),
        ("utilization, one week, hours", [*base, "utilization", "-t", "hours", "-S",
                                          d(middle - 6 * 86_400), "-E", d(middle + 86_400)]),
        ("top-users, one day (middle)", [*base, "top-users", *mid]),
    ]  # fmt: skip

    rows = []
    for label, argv in cases:
        median, size = timed(argv, args.runs)
        verdict = ""
        if label.startswith("failures, one day") and "html" not in label:
            verdict = "yes" if median < TARGET_S else "NO"
        rows.append((label, median, size, verdict, argv))
        print(f"{label:48s} {median:6.2f} s  {size:>9,d} bytes  {verdict}", flush=True)
    plan = plans(args.db, middle)
    for name, steps in plan:
        print(f"EXPLAIN QUERY PLAN ({name}):")
        for step in steps:
            print(f"  {step}")

    with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as conn:
        jobs = conn.execute("SELECT count(*) FROM job").fetchone()[0]
        day_failures = conn.execute(
            "SELECT count(*) FROM job WHERE state IN ('FAILED','TIMEOUT','OUT_OF_MEMORY',"
            "'NODE_FAIL') AND time_end >= ? AND time_end < ?",
            (middle, middle + 86_400),
        ).fetchone()[0]
    lines = [
        "# `jobacct report` benchmark (tracker issue 6)",
        "",
        f"Store: `{args.db.name}` from `bench/bench_sacct.py`, {jobs:,} jobs over 30 days; "
        f"{day_failures:,} failed jobs on the middle day. Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}. Median of {args.runs} runs of the whole command "
        "(start-up included).",
        "",
        "Command: `.venv/bin/python bench/bench_report.py`",
        "",
        f"Target: the daily failure report under {TARGET_S:.0f} s for the whole command.",
        "",
        "| report | seconds | output bytes | under target |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {label} | {median:.2f} | {size:,} | {v} |" for label, median, size, v, _ in rows]
    lines += ["", "Commands:", ""]
    lines += [f"- `{shlex.join(argv)}`" for _l, _m, _s, _v, argv in rows]
    lines += ["", "## EXPLAIN QUERY PLAN (middle day)", ""]
    for name, steps in plan:
        lines += [f"{name}:", "", "```", *steps, "```", ""]
    RESULTS.write_text("\n".join(lines))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
