"""Benchmark the daemon (tracker issue 13): lookups and controller events through the socket.

Usage (from the project root, as the store's owner, e.g. root)::

    .venv/bin/python bench/bench_serve.py [--jobs 20000] [--clients 50] [--seconds 10]
        [--event-jobs 20000] [--ingesters 1,2] [--commands 20]

1. A SQLite store made by ``jobacct db init`` (0600 in a 0700 directory) holding ``--jobs``
   synthetic jobs (``jobacct.shim.synthetic``, about 9 events a job), and a real
   ``jobacct serve`` subprocess on a socket beside it.
2. Lookups: ``--clients`` concurrent keep-alive connections, each asking
   ``GET /slurmdb/v0.0.38/job/{id}`` for a random stored job, answer read in full, for
   ``--seconds``; lookups/s and the p50/p99 latency (request written to last byte read).
3. A command through the daemon against the same command run directly by the store's owner:
   ``jobacct sacct -j ID`` (whole process: start-up, lookup, output), ``--commands`` runs of
   each, alternating, medians.
4. Events: ``--event-jobs`` further synthetic jobs as JSON Lines files, split by job among N
   concurrent ``jobacct shim ingest FILE`` clients through the socket (for each N of
   ``--ingesters``), timed from their start to the last one's exit (every event committed).

Targets (issue 13): >= 500 lookups/s with p99 <= 100 ms under 50 clients; >= 20,000
events/s through the socket on SQLite; a lookup through the daemon no slower than a direct
one. Results are printed and written to bench/SERVE_RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobacct.config import make_engine  # noqa: E402
from jobacct.shim.apply import apply  # noqa: E402
from jobacct.shim.synthetic import job_events  # noqa: E402

JOBACCT = [sys.executable, "-m", "jobacct"]
_LENGTH = re.compile(rb"content-length: *(\d+)", re.IGNORECASE)


def make_store(work: Path, jobs: int) -> str:
    path = work / "store" / "jobacct.sqlite"
    subprocess.run([*JOBACCT, "--db", str(path), "db", "init"], check=True, capture_output=True)
    url = "sqlite:///" + str(path)
    engine = make_engine(url)
    events = job_events(jobs, cluster="bench", first_job=1000)
    for i in range(0, len(events), 20000):
        apply(engine, events[i : i + 20000])
    engine.dispose()
    return url


def start_daemon(url: str, sock: Path, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [*JOBACCT, "--db", url, "serve", "--socket", str(sock)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "JOBACCT_CONFIG": "/dev/null"},
    )
    deadline = time.monotonic() + 60
    while not sock.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"daemon did not start: {log.read_text()}")
        time.sleep(0.05)
    return process


async def _client(path: str, ids: list[int], stop_at: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_unix_connection(path)
    rng = random.Random(id(latencies) ^ len(latencies))
    try:
        while time.perf_counter() < stop_at:
            job = rng.choice(ids)
            started = time.perf_counter()
            writer.write(f"GET /slurmdb/v0.0.38/job/{job} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            found = _LENGTH.search(head)
            if not head.startswith(b"HTTP/1.1 200") or found is None:
                raise SystemExit(f"unexpected answer: {head[:200]!r}")
            body = await reader.readexactly(int(found.group(1)))
            latencies.append(time.perf_counter() - started)
            if f'"job_id": {job},'.encode() not in body:
                raise SystemExit(f"job {job} not in its answer")
    finally:
        writer.close()


async def lookups(path: str, ids: list[int], clients: int, seconds: float) -> dict[str, float]:
    per_client: list[list[float]] = [[] for _ in range(clients)]
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(_client(path, ids, stop_at, lat) for lat in per_client))
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat in per_client for x in lat)
    return {
        "lookups": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def command_times(url: str, sock: Path, job: int, runs: int) -> tuple[float, float]:
    """Median seconds of ``jobacct sacct -j JOB``: (direct, through the daemon)."""
    env = {**os.environ, "JOBACCT_CONFIG": "/dev/null", "TZ": "UTC"}
    env.pop("JOBACCT_SERVER", None)
    script = shutil.which("jobacct", path=str(Path(sys.executable).parent))
    base = [script] if script else JOBACCT
    direct, served = [], []
    for _ in range(runs):
        for out, extra in ((direct, ["--db", url]), (served, ["--server", f"unix:{sock}"])):
            started = time.perf_counter()
            done = subprocess.run(
                [*base, *extra, "sacct", "-j", str(job)], capture_output=True, env=env
            )
            out.append(time.perf_counter() - started)
            if done.returncode != 0 or str(job).encode() not in done.stdout:
                raise SystemExit(f"sacct failed: {done.stderr.decode()}")
    return statistics.median(direct), statistics.median(served)


def ingest(sock: Path, work: Path, jobs: int, writers: int, first_job: int) -> dict[str, float]:
    events = job_events(jobs, cluster=f"ev{writers}", first_job=first_job)
    files = [work / f"events-{writers}-{i}.jsonl" for i in range(writers)]
    handles = [f.open("w") for f in files]
    for event in events:
        handles[event["job_id_raw"] % writers].write(json.dumps(event) + "\n")
    for handle in handles:
        handle.close()
    env = {**os.environ, "JOBACCT_SERVER": f"unix:{sock}", "JOBACCT_CONFIG": "/dev/null"}
    started = time.perf_counter()
    running = [
        subprocess.Popen([*JOBACCT, "shim", "ingest", str(f)], env=env, stdout=subprocess.PIPE)
        for f in files
    ]
    for process in running:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"ingest failed ({process.returncode}): {out.decode()}")
    elapsed = time.perf_counter() - started
    return {"events": len(events), "seconds": elapsed, "per_s": len(events) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--event-jobs", type=int, default=20000)
    parser.add_argument("--ingesters", default="1,2")
    parser.add_argument("--commands", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="do not write SERVE_RESULTS.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jobacct-bench-serve-"))
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        url = make_store(work, args.jobs)
        sock = work / "jobacct.sock"
        daemon = start_daemon(url, sock, work / "daemon.log")
        try:
            ids = list(range(1000, 1000 + args.jobs))
            asyncio.run(lookups(str(sock), ids, args.clients, 2.0))  # warm-up, not counted
            result = asyncio.run(lookups(str(sock), ids, args.clients, args.seconds))
            say(
                f"lookups: {args.clients} clients, {args.seconds:.0f} s, store of {args.jobs} jobs:"
                f" {result['per_s']:,.0f} lookups/s, p50 {result['p50_ms']:.1f} ms,"
                f" p99 {result['p99_ms']:.1f} ms ({result['lookups']} lookups)"
            )
            direct, served = command_times(url, sock, ids[len(ids) // 2], args.commands)
            say(
                f"sacct -j ID as a command (median of {args.commands}): direct"
                f" {direct * 1000:.0f} ms, through the daemon {served * 1000:.0f} ms"
            )
            for number, writers in enumerate(int(w) for w in args.ingesters.split(",")):
                first = 10_000_000 * (number + 1)
                r = ingest(sock, work, args.event_jobs, writers, first)
                say(
                    f"events: {writers} x shim ingest through the socket: {r['events']} events"
                    f" in {r['seconds']:.2f} s = {r['per_s']:,.0f} events/s"
                )
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not args.no_write:
        header = [
            "# Daemon benchmark (tracker issue 13)",
            "",
            "`bench/bench_serve.py` (its docstring has the method). Command:",
            "",
            "    " + " ".join(["python", "bench/bench_serve.py", *sys.argv[1:]]),
            "",
            f"Machine: {platform.platform()}, {os.cpu_count()} CPUs;"
            f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average at the"
            f" end {os.getloadavg()[0]:.2f} (other work shares the machine: figures are lower"
            " bounds of an idle one).",
            "",
        ]
        (ROOT / "bench" / "SERVE_RESULTS.md").write_text(
            "\n".join([*header, "```", *lines, "```", ""])
        )


if __name__ == "__main__":
    main()
