"""Benchmark the controller shim's event intake (tracker issue 5): events per second, durable.

Usage (from the project root)::

    .venv/bin/python bench/bench_shim.py [--jobs 20000] [--batch 5000] [--writers 1,4]
        [--backends sqlite,postgresql] [--runs 3] [--order job|time]

For each backend and number of writer processes: a fresh store at head (SQLite: a file in
WAL mode with ``synchronous=NORMAL``, as ``jobacct db init`` makes it; PostgreSQL: a new
database on the server of ``$JOBACCT_TEST_POSTGRESQL_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), the synthetic stream of
``jobacct.shim.synthetic`` (about 9 events a job) written as JSON Lines, split by job among
the writers, and each writer applies its lines with ``jobacct.shim.apply.apply`` in batches
of ``--batch`` events, one committed transaction each. The clock runs from the writers'
start to the last commit, so every counted event was acknowledged durable (committed);
parsing and validating the JSON is inside the clock. The median of ``--runs`` runs is
printed and written to bench/SHIM_RESULTS.md.

Target (issue 5): >= 20,000 events/s on SQLite with one writer on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from jobacct import migrate  # noqa: E402
from jobacct.config import enable_wal, make_engine  # noqa: E402
from jobacct.model import Event  # noqa: E402
from jobacct.shim.apply import apply  # noqa: E402
from jobacct.shim.synthetic import job_events  # noqa: E402

PG_ADMIN = os.environ.get(
    "JOBACCT_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _writer(url: str, path: str, batch: int, start: Any, out: Any) -> None:
    lines = Path(path).read_text().splitlines()
    engine = make_engine(url)
    start.wait()
    begun = time.perf_counter()
    applied = 0
    for first in range(0, len(lines), batch):
        applied += apply(engine, lines[first : first + batch]).applied
    out.put((applied, time.perf_counter() - begun))
    engine.dispose()


def _store(backend: str, workdir: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        url = "sqlite:///" + str(workdir / f"shim-{uuid.uuid4().hex[:8]}.sqlite")
        engine = make_engine(url, create=True)
        enable_wal(engine)
        migrate.upgrade(engine)
        engine.dispose()
        return url, None
    name = f"jobacct_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return url, drop


def run_once(
    backend: str, writers: int, parts: list[str], batch: int, workdir: Path
) -> tuple[float, int]:
    """One run: (events per second, events journaled)."""
    url, drop = _store(backend, workdir)
    try:
        ctx = mp.get_context("spawn")
        start, out = ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(target=_writer, args=(url, parts[i], batch, start, out))
            for i in range(writers)
        ]
        for proc in procs:
            proc.start()
        time.sleep(2.0)  # let every writer import and connect before the clock starts
        begun = time.perf_counter()
        start.set()
        results = [out.get() for _ in procs]
        wall = time.perf_counter() - begun
        for proc in procs:
            proc.join()
        engine = make_engine(url)
        with engine.connect() as conn:
            journaled = int(conn.scalar(select(func.count()).select_from(Event)) or 0)
        engine.dispose()
        applied = sum(r[0] for r in results)
        assert applied == journaled, (applied, journaled)
        return applied / wall, journaled
    finally:
        if drop is not None:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--writers", default="1,4")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--order",
        choices=("job", "time"),
        default="job",
        help="job: each job's events together (jobs in turn); time: every job's events in"
        " the order of their times, as a controller sends them (a job's lifecycle then spans"
        " batches, so each batch re-reads and re-folds earlier events of its jobs)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write SHIM_RESULTS.md")
    args = parser.parse_args()
    writer_counts = [int(w) for w in args.writers.split(",")]
    events = job_events(args.jobs)
    if args.order == "time":
        # Stable: a job's events at the same second keep their seq order.
        events.sort(key=lambda e: e.get("time", e["submit"]))
    rows: list[tuple[str, int, float, list[float], int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-shim-") as tmp:
        workdir = Path(tmp)
        for backend in args.backends.split(","):
            for writers in writer_counts:
                # Split by job (a job's events stay in one writer, in order), round robin.
                chunks: list[list[str]] = [[] for _ in range(writers)]
                for event in events:
                    chunks[event["job_id_raw"] % writers].append(json.dumps(event))
                parts = []
                for i, chunk in enumerate(chunks):
                    path = workdir / f"part-{writers}-{i}.jsonl"
                    path.write_text("\n".join(chunk) + "\n")
                    parts.append(str(path))
                rates = []
                journaled = 0
                for _ in range(args.runs):
                    rate, journaled = run_once(backend, writers, parts, args.batch, workdir)
                    rates.append(rate)
                median = statistics.median(rates)
                rows.append((backend, writers, median, rates, journaled))
                print(
                    f"{backend:10s} writers={writers} events={journaled} batch={args.batch}"
                    f"  {median:,.0f} events/s (runs: {', '.join(f'{r:,.0f}' for r in rates)})",
                    flush=True,
                )
    if not args.no_write:
        _write_results(args, rows, len(events))


def _write_results(args: Any, rows: list[tuple[str, int, float, list[float], int]], n: int) -> None:
    lines = [
        "| backend | writers | events | events/s (median) | runs |",
        "|---|---:|---:|---:|---|",
    ]
    for backend, writers, median, rates, journaled in rows:
        runs = ", ".join(f"{r:,.0f}" for r in rates)
        lines.append(f"| {backend} | {writers} | {journaled:,} | {median:,.0f} | {runs} |")
    table = "\n".join(lines)
    path = ROOT / "bench" / "SHIM_RESULTS.md"
    # One table per stream order, each between its own pair of markers.
    marker = "<!-- table -->" if args.order == "job" else f"<!-- table {args.order} order -->"
    existing = path.read_text() if path.exists() else ""
    header = (
        f"Command: `.venv/bin/python bench/bench_shim.py --jobs {args.jobs} --batch {args.batch}"
        f" --writers {args.writers} --backends {args.backends} --runs {args.runs}"
        f" --order {args.order}`"
        f" ({n:,} events; {platform.python_version()}, {os.cpu_count()} CPUs)\n\n"
    )
    block = f"{marker}\n{header}{table}\n{marker}"
    if existing.count(marker) == 2:
        before, _, rest = existing.partition(marker)
        _, _, after = rest.partition(marker)
        path.write_text(before + block + after)
    else:
        path.write_text(existing + "\n" + block + "\n")


if __name__ == "__main__":
    main()
