"""Converting slurmdbd rows in worker processes while the main process writes (issue 12).

Turning a step row into sacct's values (sixteen TRES usage strings, forty other cells) costs
about ten times what writing it costs, so one process converts at a fraction of the store's
speed. Here the main process only reads lines and cuts the two ``job_db_inx``-ordered
streams into slices of whole jobs (a job with all its steps); worker processes decode and
convert each slice with the same code as the one-process path
(:func:`jobacct.slurmdbd_stream._chunks`), and the main process writes the converted chunks
in input order through the one bulk write path. The stored values, the messages for bad
rows and the chunks' order are the one-process path's; only the work is spread.

Memory stays flat: slices are small (:data:`SLICE_ROWS`), at most one more than there are
workers is read ahead, converted slices wait pickled, and by default at most
:data:`MAX_DEFAULT_WORKERS` workers run: past three or four the main process's writing is
the bound, not the conversion.
Workers are forked (they inherit the readers' context: user, group, QOS and TRES names) and
never touch the store or the input: the main process reads the input, so a daemon relaying a
client's file works the same. A process with other threads does not fork (see
:func:`default_workers`).
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import multiprocessing
import os
import pickle
import signal
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import Any

from jobacct.bulkwrite import JobEntry, StepEntry
from jobacct.slurmdbd_import import _Context
from jobacct.slurmdbd_stream import (
    Row,
    TsvReader,
    _Chunk,
    _chunks,
    _num_cell,
    decode_line,
    repeated_job,
)

__all__ = [
    "MIN_PARALLEL_BYTES",
    "converted_chunks",
    "default_workers",
    "worker_count",
]

#: Rows (jobs + steps) a worker converts at a time; the main process writes chunks of
#: several (``chunk_rows``). Small slices keep each worker's memory small.
SLICE_ROWS = 2_500
#: Dumps smaller than this are converted in the main process (forking costs more than it
#: saves on a few thousand rows).
MIN_PARALLEL_BYTES = 4 * 1024 * 1024
#: Most worker processes by default.
MAX_DEFAULT_WORKERS = 4

#: An input line with the wrong number of cells: the worker reports it.
_BAD = -2
#: One input item as the main process passes it on: (line, job_db_inx or None or _BAD,
#: the dump line's bytes or the row's cells).
_Item = tuple[int, int | None, Any]


def default_workers() -> int:
    """Worker processes for a large import: the CPUs this process may run on (at most
    :data:`MAX_DEFAULT_WORKERS`), or 1 (convert in this process) on one CPU or when this
    process runs other threads, which a fork would not carry over safely."""
    if threading.active_count() > 1:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


def _tsv_items(reader: TsvReader) -> Iterator[_Item]:
    lines = reader.raw_lines()
    first = next(lines, None)  # reads and checks the header
    if first is None:
        return
    header = reader.header
    at = header.index("job_db_inx")
    tabs = len(header) - 1
    last = at == tabs

    def item(number: int, raw: bytes) -> _Item:
        if raw.count(b"\t") != tabs:
            return number, _BAD, raw
        cell = raw.split(b"\t", at + 1)[at]
        if last:
            cell = cell.rstrip(b"\r\n")
        return number, int(cell) if cell.isdigit() else None, raw

    yield item(*first)
    for number, raw in lines:
        yield item(number, raw)


def _row_items(rows: Iterable[Row]) -> Iterator[_Item]:
    for line, cells in rows:
        yield line, _num_cell(cells, "job_db_inx"), cells


def _slices(
    jobs: Iterator[_Item], steps: Iterator[_Item], chunk_rows: int
) -> Iterator[tuple[tuple[int, int], list[_Item], list[_Item]]]:
    """Cut the streams where :func:`~jobacct.slurmdbd_stream._chunks` would: a slice ends
    after the job row that brings it to ``chunk_rows`` rows, with every step up to the
    highest job_db_inx seen. Yields (highest job and step job_db_inx before the slice, its
    job items, its step items)."""
    pending = next(steps, None)
    job_hi = step_hi = -1
    start = (job_hi, step_hi)
    slice_jobs: list[_Item] = []
    slice_steps: list[_Item] = []
    for item in jobs:
        slice_jobs.append(item)
        inx = item[1]
        if inx is not None and inx > job_hi:
            job_hi = inx
        # Steps up to the highest job so far, and unreadable ones, go with this slice: the
        # one-process merge takes them at the same point.
        while pending is not None and (pending[1] is None or pending[1] <= job_hi):
            slice_steps.append(pending)
            if pending[1] is not None and pending[1] > step_hi:
                step_hi = pending[1]
            pending = next(steps, None)
        if len(slice_jobs) + len(slice_steps) >= chunk_rows:
            yield start, slice_jobs, slice_steps
            start = (job_hi, step_hi)
            slice_jobs, slice_steps = [], []
    while pending is not None:
        slice_steps.append(pending)
        pending = next(steps, None)
    if slice_jobs or slice_steps:
        yield start, slice_jobs, slice_steps


# ---------------------------------------------------------------------- in the workers

_WORKER: dict[str, Any] = {}


def _init(
    ctx: _Context,
    cluster: str,
    sources: tuple[str, str],
    headers: tuple[tuple[tuple[str, ...], str] | None, tuple[tuple[str, ...], str] | None],
) -> None:
    # Ctrl-C reaches the whole process group: the main process stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _WORKER.update(ctx=ctx, cluster=cluster, sources=sources, headers=headers)


def _decoded(
    items: list[_Item],
    header: tuple[tuple[str, ...], str] | None,
    errors: list[tuple[int, str]],
) -> Iterator[Row]:
    """The rows of ``items``: dump lines decoded by their (header, reader's source name), or
    rows as they came; lines with the wrong number of cells go to ``errors``."""
    for line, _inx, payload in items:
        if header is None:
            yield line, payload
            continue
        row, message = decode_line(header[0], header[1], line, payload)
        if row is None:
            errors.append((line, message))
        else:
            yield line, row


def _convert(task: tuple[tuple[int, int], list[_Item], list[_Item], dict[int, str]]) -> bytes:
    start, jobs, steps, new_names = task
    ctx: _Context = _WORKER["ctx"]
    if new_names:
        ctx.user_names.update(new_names)  # type: ignore[attr-defined]
    job_header, step_header = _WORKER["headers"]
    bad: list[tuple[int, str]] = []
    out = _Chunk()
    for chunk in _chunks(
        _decoded(jobs, job_header, bad),
        _decoded(steps, step_header, bad),
        ctx,
        _WORKER["cluster"],
        _WORKER["sources"],
        chunk_rows=1 << 62,
        start=start,
    ):
        out = chunk  # one chunk: the slice is smaller than chunk_rows
    out.errors.extend(sorted(bad))
    # Plain tuples: they pickle in half the time of the dataclasses, and the main process,
    # which unpickles every row, is the one that bounds the speed.
    entries = [
        (
            e.cluster,
            e.job_id_raw,
            e.time_submit,
            e.values,
            [(s.step_id, s.step_het_component, s.values, s.line) for s in e.steps],
            e.derived,
            e.refresh,
            e.where,
            e.required_on_insert,
        )
        for e in out.entries
    ]
    out.entries = []
    # Pickled here, unpickled when the main process writes the chunk: a converted slice
    # waiting its turn holds a quarter of the memory it takes as objects.
    return pickle.dumps((out, entries), protocol=pickle.HIGHEST_PROTOCOL)


def _unpacked(result: bytes) -> _Chunk:
    chunk: _Chunk
    chunk, entries = pickle.loads(result)
    chunk.entries = [
        JobEntry(c, j, t, v, [StepEntry(*s) for s in steps], d, r, w, req)
        for c, j, t, v, steps, d, r, w, req in entries
    ]
    return chunk


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the main process dies (a killed import
    leaves no worker behind, and none writes a traceback about the closed pipe)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != _WORKER["parent"]:  # the parent died before the call above
        os._exit(1)


_PR_SET_PDEATHSIG = 1


# ---------------------------------------------------------------------- in the main process


def converted_chunks(
    job_rows: Iterable[Row],
    step_rows: Iterable[Row],
    ctx: _Context,
    cluster: str,
    sources: tuple[str, str],
    chunk_rows: int,
    workers: int,
) -> Generator[_Chunk, None, None]:
    """The chunks :func:`~jobacct.slurmdbd_stream._chunks` yields for the same rows, in the
    same order, converted by ``workers`` forked processes.

    ``job_rows`` / ``step_rows`` are :class:`~jobacct.slurmdbd_stream.TsvReader` (its lines
    are decoded in the workers) or any iterable of ``(line, cells)``. When ``ctx.user_names``
    is a dict that grows while the rows are read (the live importer's association names),
    each slice carries the names added since the workers were forked.

    Raises:
        Whatever reading the input raises (:class:`~jobacct.errors.ImportFormatError` for a
        bad header or an over-long line, OSError, UnicodeDecodeError), in the main process
        or re-raised from a worker.
    """
    job_items = _tsv_items(job_rows) if isinstance(job_rows, TsvReader) else _row_items(job_rows)
    step_items = (
        _tsv_items(step_rows) if isinstance(step_rows, TsvReader) else _row_items(step_rows)
    )
    slices = _slices(job_items, step_items, min(chunk_rows, SLICE_ROWS))
    # The headers are known once the first lines are read: take the first slice before the
    # workers are forked, so that they inherit the headers.
    first = next(slices, None)
    if first is None:
        return
    headers = (
        (job_rows.header, job_rows.source) if isinstance(job_rows, TsvReader) else None,
        (step_rows.header, step_rows.source) if isinstance(step_rows, TsvReader) else None,
    )
    names = ctx.user_names if isinstance(ctx.user_names, dict) else None
    # Workers know the names met before the fork; each slice carries every name met since,
    # as any worker may take it.
    forked_names = len(names) if names is not None else 0
    _WORKER["parent"] = os.getpid()
    # Forked workers share this process's pages until they write to them; the collector
    # would write to every object it scans: keep it off what exists now (CPython's advice
    # for forking servers, gc.freeze).
    gc.freeze()
    try:
        pool = multiprocessing.get_context("fork").Pool(
            workers, initializer=_init, initargs=(ctx, cluster, sources, headers)
        )
    finally:
        gc.unfreeze()
    pending: deque[Any] = deque()
    finished = False
    current = _Chunk()

    def gathered(keep: int) -> Iterator[_Chunk]:
        """Take converted slices, oldest first, until ``keep`` are left; yield each chunk
        they fill."""
        nonlocal current
        while len(pending) > keep:
            if _add(current, _unpacked(pending.popleft().get())) >= chunk_rows:
                yield current
                current = _Chunk()

    try:
        for start, jobs, steps in itertools.chain((first,), slices):
            new_names: dict[int, str] = {}
            if names is not None and len(names) > forked_names:
                new_names = dict(list(names.items())[forked_names:])
            pending.append(pool.apply_async(_convert, ((start, jobs, steps, new_names),)))
            # One slice per worker and one more: every worker has one while the main
            # process writes the oldest.
            yield from gathered(workers)
        yield from gathered(0)
        if current.rows or current.errors or current.warnings:
            yield current
        finished = True
    finally:
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()


def _add(chunk: _Chunk, part: _Chunk) -> int:
    """Add a converted slice to the chunk being gathered; returns the chunk's rows.

    A job record met twice in one chunk is a bad row, as the one-process merge finds it
    (each slice found those within itself)."""
    for entry in part.entries:
        key = (entry.job_id_raw, entry.time_submit)
        line = part.job_lines[key]
        if key in chunk.job_lines:
            chunk.errors.append((line, repeated_job(entry.where, key, chunk.job_lines[key])))
            continue
        chunk.job_lines[key] = line
        chunk.entries.append(entry)
    chunk.errors.extend(part.errors)
    chunk.warnings.extend(part.warnings)
    chunk.rows += part.rows
    chunk.first_line = chunk.first_line or part.first_line
    if part.last_db_inx is not None:
        chunk.last_db_inx = part.last_db_inx
    return chunk.rows


def worker_count(workers: int | None, sizes: Sequence[int] = ()) -> int:
    """The worker processes to use: ``workers`` as given (1: none), or when None,
    :func:`default_workers` for inputs of at least :data:`MIN_PARALLEL_BYTES` in all (or of
    an unknown size: 0, a pipe) and 1 for smaller ones."""
    if workers is not None:
        return max(1, workers)
    if sizes and all(sizes) and sum(sizes) < MIN_PARALLEL_BYTES:
        return 1
    return default_workers()
