"""slurmrestd's job reads: ``GET /slurmdb/v0.0.38/jobs`` and ``/slurmdb/v0.0.38/job/{job_id}``.

The answer is Slurm 22.05's document (``openapi/dbv0.0.38``, the same one ``sacct --json``
writes: :mod:`jobacct.formats.jsonout`), ``{"meta", "errors", "warnings", "jobs"}``, so a
slurmrestd client can read from the daemon. The caller is the connection's peer (slurmrestd's
``X-SLURM-USER-*`` headers are ignored: the kernel says who it is). Answered in the daemon
process itself, on a thread of its pool (no worker is forked), and streamed a batch of jobs
at a time, so memory stays flat for any number of jobs.

Query parameters of ``/jobs`` (slurmrestd 22.05's names; comma lists where sacct takes them):
``users``, ``account``, ``cluster``, ``start_time``, ``end_time`` (sacct's ``-S``/``-E``
syntax, epoch seconds included), ``job_name``, ``partition``, ``qos``, ``state``,
``group``, ``wckey``, ``reason``, ``constraints``, ``node``, ``step`` (job ids as ``sacct
-j``). The selection is sacct's with ``-a`` (every user's jobs, sacct's default window); with
``PrivateData=jobs`` a user below Operator sees only its own jobs and those of the accounts
it coordinates. Others are ignored, as slurmrestd ignores unknown ones. A malformed value is
HTTP 400 with the reason in ``errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from jobacct.caller import JobScope
from jobacct.fields import Ctx
from jobacct.jobid import JobIdError, parse_selectors
from jobacct.query import (
    FilterError,
    JobFilter,
    Window,
    default_window,
    iter_lines,
    parse_nodelist,
    parse_states,
)
from jobacct.slurmtime import TimeSpecError, parse_time

#: Bytes of JSON gathered before one write to the client.
CHUNK = 1 << 16
PREFIX = "/slurmdb/v0.0.38"


class Reader:
    """The daemon's own read access to the store: a thread pool and its connections.

    SQLite files are read with stdlib ``sqlite3`` (:mod:`jobacct.fastread`, one connection
    per thread for single-job lookups); servers through a SQLAlchemy engine's pool.
    """

    def __init__(self, url: str, threads: int = 4) -> None:
        from jobacct.fastread import sqlite_url_path

        self.url = url
        self.path = sqlite_url_path(url)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="jobacct-read")
        self._local = threading.local()
        self._engine: Any = None
        self._lock = threading.Lock()

    def engine(self) -> Any:
        """The SQLAlchemy engine on the store (made on first use)."""
        with self._lock:
            if self._engine is None:
                from jobacct.config import make_engine

                self._engine = make_engine(self.url)
            return self._engine

    def _sqlite(self) -> Any:
        from jobacct.fastread import open_store

        assert self.path is not None
        return open_store(self.path)

    @contextlib.contextmanager
    def connection(self, *, shared: bool) -> Iterator[Any]:
        """A connection; ``shared``: this thread's SQLite connection (one call's use)."""
        if self.path is None:
            with self.engine().connect() as conn:
                yield conn
            return
        if not shared:
            conn = self._sqlite()
            try:
                yield conn
            finally:
                conn.close()
            return
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._sqlite()
        yield conn

    def scope(self, uid: int) -> JobScope | None:
        """:func:`jobacct.server.policy.job_scope` on this store."""
        from jobacct.server.policy import job_scope

        return job_scope(self.engine(), uid)

    def close(self) -> None:
        """Stop the threads and close the engine."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self._engine is not None:
            self._engine.dispose()


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def job_filter(params: Any, now: int) -> JobFilter:
    """The :class:`JobFilter` of ``/jobs`` query parameters (see the module docstring).

    Raises:
        ValueError: (JobIdError, FilterError, TimeSpecError) a malformed value.
    """
    f = JobFilter()
    if "step" in params:
        f.selectors = parse_selectors(params["step"])
    if "users" in params:
        items = _split(params["users"])
        f.uids = [int(u) for u in items if u.isdigit()]
        f.user_names = [u for u in items if not u.isdigit()]
    if "group" in params:
        items = _split(params["group"])
        f.gids = [int(g) for g in items if g.isdigit()]
        f.group_names = [g for g in items if not g.isdigit()]
    for key, attr in (
        ("account", "accounts"),
        ("cluster", "clusters"),
        ("job_name", "names"),
        ("partition", "partitions"),
        ("qos", "qos"),
        ("wckey", "wckeys"),
        ("reason", "reasons"),
        ("constraints", "constraints"),
    ):
        if key in params:
            setattr(f, attr, _split(params[key]))
    if "state" in params:
        f.states = parse_states(params["state"])
    if "node" in params:
        f.nodes = parse_nodelist(params["node"])
    for key, attr in (("start_time", "start"), ("end_time", "end")):
        if params.get(key):
            setattr(f, attr, parse_time(params[key], now))
    return f


def _error_document(message: str, number: int) -> dict[str, Any]:
    from jobacct.formats.jsonout import meta

    return {
        "meta": meta(),
        "errors": [{"error": message, "error_number": number, "description": message}],
        "warnings": [],
        "jobs": [],
    }


def _chunks(
    reader: Reader, f: JobFilter, window: Window, now: int, shared: bool
) -> Generator[str, None, None]:
    from jobacct.formats.jsonout import json_document

    with reader.connection(shared=shared) as conn:
        pending: list[str] = []
        size = 0
        for piece in json_document(iter_lines(conn, f, window, now=now), Ctx(now=now)):
            pending.append(piece)
            size += len(piece)
            if size >= CHUNK:
                yield "".join(pending)
                pending, size = [], 0
        if pending:
            yield "".join(pending)


async def _answer(
    request: web.Request, reader: Reader, f: JobFilter, now: int, *, single: bool
) -> web.StreamResponse:
    from jobacct.server.app import STATE
    from jobacct.server.relay import request_peer

    state = request.app[STATE]
    peer = request_peer(request)
    loop = asyncio.get_running_loop()
    # What slurmdbd gives slurmrestd, as it gives sacct --json: every record (a requeued
    # job's earlier runs too, as -D), and no steps for a PENDING-only state list.
    f.duplicates = True
    f.allocations_only = f.states == ["PENDING"]
    try:
        window = default_window(f, now, parse_time("today", now))
    except FilterError as exc:
        return web.json_response(_error_document(str(exc), 22), status=400)
    if state.policy.private_jobs:
        f.visible = await loop.run_in_executor(reader.pool, reader.scope, peer.uid)
    if single:
        # One job: one call on a thread's own connection, one write. On a SQLite file the
        # read takes about half a millisecond and never waits (WAL readers do not block):
        # it runs on the event loop itself, which keeps the latency of many concurrent
        # lookups low (no hand-over of the GIL to a pool thread and back for each).
        def body() -> str:
            return "".join(_chunks(reader, f, window, now, True))

        text = body() if reader.path is not None else await loop.run_in_executor(reader.pool, body)
        return web.Response(text=text, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    chunks = _chunks(reader, f, window, now, False)
    try:
        while True:
            piece = await loop.run_in_executor(reader.pool, next, chunks, None)
            if piece is None:
                break
            await response.write(piece.encode())
    finally:
        await loop.run_in_executor(reader.pool, chunks.close)
    await response.write_eof()
    return response


async def handle_job(request: web.Request) -> web.StreamResponse:
    """``GET /slurmdb/v0.0.38/job/{job_id}``: one job (``123``, ``123_4``, ``123+1``), with
    its steps, as ``sacct --json -j ID``."""
    from jobacct.server.app import STATE

    now = int(time.time())
    try:
        f = JobFilter(selectors=parse_selectors(request.match_info["job_id"]))
    except JobIdError as exc:
        return web.json_response(_error_document(str(exc), 2017), status=400)
    return await _answer(request, request.app[STATE].reader, f, now, single=True)


async def handle_jobs(request: web.Request) -> web.StreamResponse:
    """``GET /slurmdb/v0.0.38/jobs``: the jobs selected by the query (module docstring)."""
    from jobacct.server.app import STATE

    now = int(time.time())
    try:
        f = job_filter(request.query, now)
    except (JobIdError, FilterError, TimeSpecError, ValueError) as exc:
        return web.json_response(_error_document(str(exc), 22), status=400)
    return await _answer(request, request.app[STATE].reader, f, now, single=False)


def routes() -> list[web.RouteDef]:
    """The routes of this module."""
    return [
        web.get(PREFIX + "/jobs", handle_jobs),
        web.get(PREFIX + "/job/{job_id}", handle_job),
    ]
