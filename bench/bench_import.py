"""Benchmark ``jobacct import slurmdbd`` (tracker issue 12).

Usage (from the project root)::

    .venv/bin/python bench/bench_import.py [--jobs 1000000] [--backends sqlite,postgresql,mariadb]
        [--live] [--chunk-rows 20000] [--results bench/IMPORT_RESULTS.md]

1. Writes (once per size and seed, kept in ``bench/data/``) deterministic slurmdbd dumps of
   N jobs and about 3N steps (``bench/slurmdbd_dumps.py``: exit codes >= 128, signals, OOM,
   array, het and requeued records, users' annotations).
2. Loads them into a fresh store per backend with the real command (``jobacct import
   slurmdbd`` as a subprocess, default chunk size) and reports wall time, rows/s (job + step
   rows), CPU seconds (the command's and its workers'), the peak RSS of the command and its
   worker processes (polled) and the store's size. A second run of the
   same command (nothing changes) is timed too.
3. In the same run, the stdlib ``sqlite3`` limit: the same stored rows (read back from the
   SQLite store) inserted with ``executemany`` into a fresh store at head, 50,000 jobs (and
   their steps) per transaction, WAL, ``synchronous=NORMAL``; only the inserts are timed.
4. With ``--live``: the dumps are loaded into a slurmdbd 22.05 schema on the MariaDB server
   (``tests/golden/slurmdbd_schema.sql``), imported with ``--from ... --incremental`` into a
   SQLite store, then the incremental run with nothing new is timed.

Servers: ``JOBACCT_TEST_POSTGRESQL_URL`` / ``JOBACCT_TEST_MARIADB_URL`` as in the tests
(default ``postgres@127.0.0.1:5432``, ``root@127.0.0.1:3306``); databases named
``jobacct_bench_import*`` are dropped and created.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from slurmdbd_dumps import USERS, write_dumps  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from jobacct import migrate  # noqa: E402
from jobacct.config import enable_wal, make_engine  # noqa: E402

JOBACCT = ROOT / ".venv" / "bin" / "jobacct"
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "IMPORT_RESULTS.md"
ADMIN = {
    "postgresql": os.environ.get(
        "JOBACCT_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "JOBACCT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
    ),
}
LIMIT_CHUNK_JOBS = 50_000
#: The machine's 1-minute load average when the script started (it is shared).
START_LOAD = os.getloadavg()[0]


def _server_db(kind: str, name: str) -> str:
    admin = create_engine(ADMIN[kind], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        force = " WITH (FORCE)" if kind == "postgresql" else ""
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(ADMIN[kind]).set(database=name).render_as_string(hide_password=False)


def _fresh_store(kind: str, tag: str) -> str:
    if kind == "sqlite":
        path = DATA / f"store-{tag}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = "sqlite:///" + str(path)
    else:
        url = _server_db(kind, f"jobacct_bench_import_{tag.replace('-', '_')}")
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    enable_wal(engine)
    engine.dispose()
    return url


def _store_size(url: str) -> int:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        return sum(
            Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists()
        )
    engine = create_engine(url)
    with engine.connect() as conn:
        if parsed.get_backend_name() == "postgresql":
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        else:
            size = conn.execute(
                text(
                    "SELECT SUM(data_length + index_length) FROM information_schema.tables"
                    " WHERE table_schema = DATABASE()"
                )
            ).scalar_one()
    engine.dispose()
    return int(size)


def _run(argv: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS KiB, stderr) of one command.

    Peak RSS is the largest, over the polls, of the memory of the command and its worker
    processes together (the sum of their PSS: a page the forked workers share with the
    command counts once), or the command's own VmHWM when that is larger (a peak between two
    polls)."""
    # wait4's ru_maxrss keeps the high-water mark of the forking parent across exec, which
    # is this (sometimes big) script: poll /proc instead.
    peak = 0
    with tempfile.TemporaryFile("w+") as err:  # a file, not a pipe: no pipe-full stall
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, text=True)
        while True:
            tree = _pss_kib(proc.pid) + sum(_pss_kib(child) for child in _children(proc.pid))
            peak = max(peak, _status_kib(proc.pid, "VmHWM:"), tree)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        err.seek(0)
        stderr = err.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{stderr}")
    global LAST_CPU
    LAST_CPU = usage.ru_utime + usage.ru_stime
    return wall, peak, stderr.strip()


#: CPU seconds (user + system) of the last command :func:`_run` ran.
LAST_CPU = 0.0


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """The import's worker processes (``--workers``)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(child) for child in handle.read().split()]
    except (OSError, ValueError):
        pass
    return found


def _insert_sql(table: str, columns: list[str]) -> str:
    names = ", ".join('"' + c + '"' for c in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"


def stdlib_limit(source_url: str, tag: str) -> tuple[float, int]:
    """Seconds and rows of the stdlib executemany of the store's rows into a fresh store."""
    target = _fresh_store("sqlite", f"{tag}-limit")
    src = sqlite3.connect(make_url(source_url).database or "")
    dst = sqlite3.connect(make_url(target).database or "", isolation_level=None)
    dst.execute("PRAGMA synchronous=NORMAL")
    job_cols = [r[1] for r in src.execute("PRAGMA table_info(job)")]
    step_cols = [r[1] for r in src.execute("PRAGMA table_info(step)")]
    job_sql = _insert_sql("job", job_cols)
    step_sql = _insert_sql("step", step_cols)
    top = src.execute("SELECT MAX(id) FROM job").fetchone()[0] or 0
    seconds = 0.0
    rows = 0
    for low in range(0, top, LIMIT_CHUNK_JOBS):
        jobs = src.execute(
            "SELECT * FROM job WHERE id > ? AND id <= ?", (low, low + LIMIT_CHUNK_JOBS)
        ).fetchall()
        steps = src.execute(
            "SELECT * FROM step WHERE job_pk > ? AND job_pk <= ?", (low, low + LIMIT_CHUNK_JOBS)
        ).fetchall()
        started = time.perf_counter()
        dst.execute("BEGIN")
        dst.executemany(job_sql, jobs)
        dst.executemany(step_sql, steps)
        dst.execute("COMMIT")
        seconds += time.perf_counter() - started
        rows += len(jobs) + len(steps)
    src.close()
    dst.close()
    return seconds, rows


def load_slurmdbd(job_file: Path, step_file: Path) -> str:
    """A MariaDB database with slurmdbd's schema (cluster ``tux``) holding the dumps."""
    url = _server_db("mariadb", "jobacct_bench_slurmdbd")
    engine = create_engine(url + "?charset=utf8mb4&local_infile=1")
    schema = (ROOT / "tests" / "golden" / "slurmdbd_schema.sql").read_text(encoding="utf-8")
    lines = [ln for ln in schema.splitlines() if not ln.startswith(("/*M!", "--"))]
    with engine.begin() as conn:
        for statement in "\n".join(lines).replace("golden_", "tux_").split(";\n"):
            if statement.strip():
                conn.exec_driver_sql(statement.replace("%", "%%"))
        conn.exec_driver_sql(
            "INSERT INTO qos_table (creation_time, id, name) VALUES (1, 1, 'normal')"
        )
        for ident, kind, name in [
            (1, "cpu", ""),
            (2, "mem", ""),
            (3, "energy", ""),
            (4, "node", ""),
            (5, "billing", ""),
            (6, "fs", "disk"),
            (7, "vmem", ""),
            (8, "pages", ""),
        ]:
            conn.exec_driver_sql(
                "INSERT INTO tres_table (creation_time, id, type, name) VALUES (1, %s, %s, %s)",
                (ident, kind, name),
            )
        for uid, user in USERS:
            conn.exec_driver_sql(
                "INSERT INTO tux_assoc_table (creation_time, id_assoc, user, acct, lft, rgt)"
                " VALUES (1, %s, %s, 'acct', %s, %s)",
                (uid, user, uid, uid),
            )
    raw = engine.raw_connection()
    cursor = raw.cursor()
    for table, path in (("tux_job_table", job_file), ("tux_step_table", step_file)):
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split("\t")
            sql = (
                f"INSERT INTO {table} ({', '.join(f'`{c}`' for c in header)})"
                f" VALUES ({', '.join(['%s'] * len(header))})"
            )
            batch: list[list[Any]] = []
            for line in handle:
                batch.append([None if c == "NULL" else c for c in line.rstrip("\n").split("\t")])
                if len(batch) == 5000:
                    cursor.executemany(sql, batch)
                    raw.commit()
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                raw.commit()
    raw.close()
    engine.dispose()
    return url


def main() -> None:
    """Run the benchmark and write bench/IMPORT_RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--live", action="store_true", help="also time --from --incremental")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-rerun", action="store_true", help="skip the second (no-op) run")
    parser.add_argument(
        "--workers", type=int, help="the import's --workers (default: the command's default)"
    )
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    tag = f"{args.jobs}-{args.seed}"
    directory = DATA / f"dumps-{tag}"
    job_file, step_file = directory / "job_table.tsv", directory / "step_table.tsv"
    if not step_file.exists():
        print(f"writing dumps of {args.jobs:,} jobs to {directory} ...", flush=True)
        write_dumps(directory, args.jobs, args.seed)
    with step_file.open("rb") as handle:
        n_steps = sum(1 for _ in handle) - 1
    rows = args.jobs + n_steps
    users = DATA / "users.txt"
    users.write_text("".join(f"{uid} {name}\n" for uid, name in USERS))
    size_mb = (job_file.stat().st_size + step_file.stat().st_size) / 1e6
    print(f"{args.jobs:,} jobs + {n_steps:,} steps = {rows:,} rows ({size_mb:,.0f} MB of dumps)")
    lines = []
    sqlite_url = None
    for kind in args.backends.split(","):
        url = _fresh_store(kind, f"{kind}-{tag}")
        if kind == "sqlite":
            sqlite_url = url
        argv = [
            str(JOBACCT),
            "--db",
            url,
            "import",
            "slurmdbd",
            "--job-table",
            str(job_file),
            "--step-table",
            str(step_file),
            "--cluster",
            "tux",
            "--user-map",
            str(users),
        ]
        if args.workers is not None:
            argv += ["--workers", str(args.workers)]
        wall, rss, summary = _run(argv)
        cpu = LAST_CPU
        size = _store_size(url)
        rerun = "not run (--no-rerun)"
        if not args.no_rerun:
            again, rss2, _ = _run(argv)
            rerun = f"{again:,.1f} s ({rows / again:,.0f} rows/s, {rss2 / 1024:,.0f} MiB)"
        line = (
            f"| {kind} | {wall:,.1f} s | **{rows / wall:,.0f}** | {cpu:,.1f} s"
            f" ({rows / cpu:,.0f} rows/s) | {rss / 1024:,.0f} MiB | {size / 2**20:,.0f} MiB |"
            f" {rerun} |"
        )
        print(line, flush=True)
        print("   ", summary.splitlines()[-1], flush=True)
        lines.append(line)
    limit_line = ""
    if sqlite_url is not None:
        seconds, limit_rows = stdlib_limit(sqlite_url, tag)
        limit_line = (
            f"stdlib sqlite3 executemany of the same {limit_rows:,} stored rows:"
            f" {seconds:,.1f} s, **{limit_rows / seconds:,.0f} rows/s**"
        )
        print(limit_line, flush=True)
    live_lines = []
    if args.live:
        print("loading the dumps into a slurmdbd schema on MariaDB ...", flush=True)
        source = load_slurmdbd(job_file, step_file)
        url = _fresh_store("sqlite", f"live-{tag}")
        argv = [
            str(JOBACCT),
            "--db",
            url,
            "import",
            "slurmdbd",
            "--from",
            source,
            "--cluster",
            "tux",
            "--incremental",
        ]
        if args.workers is not None:
            argv += ["--workers", str(args.workers)]
        wall, rss, _ = _run(argv)
        live_lines.append(
            f"| `--from ... --incremental`, first run (everything) | {wall:,.1f} s |"
            f" {rows / wall:,.0f} rows/s | {rss / 1024:,.0f} MiB |"
        )
        noop = []
        for _ in range(3):
            noop.append((_run(argv)[0], LAST_CPU))
        wall_noop, cpu_noop = sorted(noop)[1]
        live_lines.append(
            f"| `--from ... --incremental`, nothing new (median of 3, whole command) |"
            f" {wall_noop:,.2f} s ({cpu_noop:,.2f} s CPU) | | |"
        )
        for line in live_lines:
            print(line, flush=True)
    _write(args, rows, n_steps, size_mb, lines, limit_line, live_lines)


def _write(
    args: argparse.Namespace,
    rows: int,
    n_steps: int,
    size_mb: float,
    lines: list[str],
    limit_line: str,
    live_lines: list[str],
) -> None:
    command = (
        f".venv/bin/python bench/bench_import.py --jobs {args.jobs} --backends {args.backends}"
    )
    if args.live:
        command += " --live"
    if args.no_rerun:
        command += " --no-rerun"
    if args.workers is not None:
        command += f" --workers {args.workers}"
    text_out = [
        f"## {args.jobs:,} jobs + {n_steps:,} steps ({rows:,} rows, {size_mb:,.0f} MB of dumps)"
        f" — {dt.date.today()}",
        "",
        f"`{command}` on {platform.node()} ({os.cpu_count()} CPUs, shared; load average"
        f" {START_LOAD:.1f} at the start, {os.getloadavg()[0]:.1f} at the end), Python"
        f" {platform.python_version()}.",
        "",
        "| store | import | rows/s | CPU (rows per CPU-second) | peak RSS | store size |"
        " second run (no change) |",
        "|---|---:|---:|---:|---:|---:|---|",
        *lines,
        "",
        limit_line,
        "",
    ]
    if live_lines:
        text_out += [
            "| live slurmdbd (MariaDB) -> SQLite | time | rows/s | peak RSS |",
            "|---|---:|---:|---:|",
            *live_lines,
            "",
        ]
    with args.results.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(text_out) + "\n")
    print(f"appended to {args.results}")


if __name__ == "__main__":
    main()
