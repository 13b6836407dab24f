"""Streaming ``import sacct``: ``sacct -P``/``-p`` output read line by line, written in chunks.

Each row is read by the same code as the row-by-row importer (:mod:`jobacct.importer`:
header, field parsers, the job/step rules), so the stored values are the same; the chunks go
through the one bulk write path (:mod:`jobacct.bulkwrite`). Memory is bounded by the chunk
(plus the keys of the last :data:`RECENT_JOBS` job rows, which later step rows may name).

A step row attaches to the last job row of its JobIDRaw printed before it (sacct prints a
job's steps right after it), or, when that job row is not among the recent ones, to the job
already in the store (as ``import_slurmdbd``'s orphans: the newest record of that JobIDRaw
submitted before the step started, in the default cluster first).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, tuple_

from jobacct.bulkwrite import REFRESH_COUNTED, BulkWriter, ChunkResult, JobEntry, StepEntry
from jobacct.errors import ImportFormatError
from jobacct.exitcode import ExitCode, ExitCodeError
from jobacct.importer import (
    _JOB_DEFAULTS,
    _STEP_DEFAULTS,
    _exit_columns,
    _JobRecord,
    _read_header,
    _read_row,
    _StepRecord,
)
from jobacct.jobid import JobIdError
from jobacct.model import Job

__all__ = ["DEFAULT_CHUNK_ROWS", "RECENT_JOBS", "SacctStreamResult", "import_sacct_stream"]

DEFAULT_CHUNK_ROWS = 10_000
#: Job rows whose keys are remembered for step rows printed after a chunk boundary.
RECENT_JOBS = 100_000
_MAX_SHOWN = 50

Key = tuple[str, int, int]


@dataclass
class SacctStreamResult(ChunkResult):
    """What a streaming sacct import did; ``ignored_fields`` as :class:`ImportResult`."""

    ignored_fields: list[str] = field(default_factory=list)
    bad_rows: int = 0
    errors: list[str] = field(default_factory=list)
    #: Records printed twice in the input with other values (the later one is kept).
    warnings: list[str] = field(default_factory=list)
    #: With ``keep_existing``: job rows of records already stored, left as they are.
    kept_existing: int = 0


@dataclass
class _Chunk:
    entries: dict[Key, JobEntry] = field(default_factory=dict)
    orphans: list[_StepRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rows: int = 0


def _job_entry(rec: _JobRecord, source: str) -> JobEntry:
    values = dict(rec.values)
    if rec.exit_code is not False:
        values.update(_exit_columns(rec.exit_code))  # type: ignore[arg-type]
    return JobEntry(
        cluster=rec.cluster,
        job_id_raw=rec.job_id_raw,
        time_submit=rec.time_submit,
        values=values,
        derived=rec.derived if isinstance(rec.derived, ExitCode) else None,
        refresh=REFRESH_COUNTED,
        where=f"{source}:{rec.line}",
        required_on_insert=("uid",),
    )


def _step(rec: _StepRecord) -> StepEntry:
    return StepEntry(rec.step_id, rec.step_het_component, rec.values, rec.line)


def _chunks(
    lines: Iterable[str],
    default_cluster: str,
    source: str,
    chunk_rows: int,
    result: SacctStreamResult,
) -> Iterator[_Chunk]:
    header: list[str] | None = None
    trailing = False
    recent: OrderedDict[int, Key] = OrderedDict()  # JobIDRaw -> key of its last job row
    chunk = _Chunk()
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        cells = text.split("|")
        if header is None:
            header, trailing, ignored, problem = _read_header(cells)
            if problem:
                raise ImportFormatError(f"{source}:{number}: {problem}")
            result.ignored_fields = ignored
            continue
        chunk.rows += 1
        if trailing:
            if cells[-1] != "":
                chunk.errors.append(f"{source}:{number}: expected a trailing '|' (sacct -p)")
                continue
            cells = cells[:-1]
        if len(cells) != len(header):
            chunk.errors.append(
                f"{source}:{number}: {len(cells)} fields, the header has {len(header)}"
            )
            continue
        try:
            record = _read_row(dict(zip(header, cells, strict=True)), number, default_cluster)
        except (ValueError, JobIdError, ExitCodeError) as exc:
            chunk.errors.append(f"{source}:{number}: {exc}")
            continue
        if isinstance(record, _JobRecord):
            if chunk.rows > chunk_rows:
                # Chunks end before a job row, so a job's steps (printed after it) share its
                # chunk and the job's counts come out as in one pass.
                chunk.rows -= 1
                yield chunk
                chunk = _Chunk(rows=1)
            key = (record.cluster, record.job_id_raw, record.time_submit)
            entry = _job_entry(record, source)
            old = chunk.entries.get(key)
            if old is not None and old.values is not None:
                # The same record printed again (outputs of two runs joined): stored after
                # the first, as one record after another, so it starts the next chunk.
                changed = sorted(
                    c
                    for c in set(old.values) | set(entry.values or {})
                    if old.values.get(c) != (entry.values or {}).get(c)
                )
                if changed:
                    # A later state of the job (RUNNING, then COMPLETED) is normal for joined
                    # outputs; say so rather than replace silently (tracker issue 14).
                    result.warnings.append(
                        f"{source}:{number}: job {record.job_id_raw} submitted at"
                        f" {record.time_submit} printed again with other {', '.join(changed)}"
                        f" (line {old.where.rpartition(':')[2]}); the later record is kept"
                    )
                chunk.rows -= 1
                yield chunk
                chunk = _Chunk(rows=1)
                old = None
            if old is not None:  # steps of a job of an earlier chunk, met before its row
                entry.steps = old.steps
                del chunk.entries[key]
            chunk.entries[key] = entry
            recent[record.job_id_raw] = key
            recent.move_to_end(record.job_id_raw)
            if len(recent) > RECENT_JOBS:
                recent.popitem(last=False)
        else:
            owner = recent.get(record.job_id_raw)
            if owner is None:
                chunk.orphans.append(record)
                continue
            stub = chunk.entries.get(owner)
            if stub is None:
                stub = chunk.entries[owner] = JobEntry(
                    *owner, values=None, refresh=REFRESH_COUNTED, where=f"{source}:{number}"
                )
            stub.steps.append(_step(record))
    if header is None:
        raise ImportFormatError(f"{source}: no header line (sacct -P output needs its header)")
    if chunk.rows or chunk.errors:
        yield chunk


def _owner(conn: Any, cluster: str | None, job_id_raw: int, before: int | None) -> Key | None:
    """``store.newest_job``'s key, read on an open connection."""
    stmt = select(Job.cluster, Job.job_id_raw, Job.time_submit).where(Job.job_id_raw == job_id_raw)
    if cluster is not None:
        stmt = stmt.where(Job.cluster == cluster)
    if before is not None:
        stmt = stmt.where(Job.time_submit <= before)
    row = conn.execute(stmt.order_by(Job.time_submit.desc()).limit(1)).first()
    return None if row is None else (row[0], row[1], row[2])


def import_sacct_stream(
    engine: Engine,
    lines: Iterable[str],
    default_cluster: str,
    source: str = "<stdin>",
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    skip_bad: bool = False,
    keep_existing: bool = False,
    on_chunk: Callable[[SacctStreamResult, int], None] | None = None,
) -> SacctStreamResult:
    """Import one sacct ``-P``/``-p`` output, streamed, one transaction per chunk.

    ``keep_existing``: records already in the store (same cluster, JobIDRaw and Submit) are
    left exactly as stored, their steps too; only new records are written (an overlapping
    output would otherwise replace stored values by its own renderings, ``91.00M`` by
    ``91M``: :func:`_drop_stored`).

    Raises:
        ImportFormatError: a bad header (nothing written), or a chunk with unreadable rows or
            steps of jobs in neither the input nor the store while ``skip_bad`` is false:
            nothing of that chunk is written, the chunks before it stay.
    """
    writer = BulkWriter(engine, _JOB_DEFAULTS, _STEP_DEFAULTS)
    result = SacctStreamResult()
    rows = 0
    for chunk in _chunks(lines, default_cluster, source, chunk_rows, result):
        rows += chunk.rows
        errors = list(chunk.errors)
        orphans: dict[Key, JobEntry] = {}
        if chunk.orphans:
            with engine.connect() as conn:
                _resolve(conn, chunk, default_cluster, source, orphans, errors)
        if errors:
            if not skip_bad:
                raise ImportFormatError(_stopped(source, errors, result))
            result.bad_rows += len(errors)
            result.errors.extend(errors[: max(0, _MAX_SHOWN - len(result.errors))])
        if keep_existing:
            result.kept_existing += _drop_stored(engine, chunk.entries, orphans)
        result.add(writer.write(list(chunk.entries.values())))
        if orphans:
            # Attached after the chunk's own jobs are stored, as the row-by-row import does.
            result.add(writer.write(list(orphans.values())))
        if on_chunk is not None:
            on_chunk(result, rows)
    return result


def _drop_stored(engine: Engine, entries: dict[Key, JobEntry], orphans: dict[Key, JobEntry]) -> int:
    """Remove from ``entries`` and ``orphans`` the records the store holds; how many job rows.

    Steps go with their job: a step row of a stored record is not written either.
    """
    keys = list({*entries, *orphans})
    stored: set[Key] = set()
    with engine.connect() as conn:
        for at in range(0, len(keys), 500):
            batch = keys[at : at + 500]
            stmt = select(Job.cluster, Job.job_id_raw, Job.time_submit).where(
                tuple_(Job.cluster, Job.job_id_raw, Job.time_submit).in_(batch)
            )
            stored.update((r[0], r[1], r[2]) for r in conn.execute(stmt))
    kept = 0
    for key in stored:
        entry = entries.pop(key, None)
        kept += entry is not None and entry.values is not None
        orphans.pop(key, None)
    return kept


def _resolve(
    conn: Any,
    chunk: _Chunk,
    default_cluster: str,
    source: str,
    orphans: dict[Key, JobEntry],
    errors: list[str],
) -> None:
    pending = {key: entry for key, entry in chunk.entries.items() if entry.values is not None}
    for step in chunk.orphans:
        start = step.values.get("time_start")

        def newest(
            cluster: str | None, job_id_raw: int = step.job_id_raw, start: int | None = start
        ) -> Key | None:
            found = [
                key
                for key in (
                    _newest_in(pending, cluster, job_id_raw, start),
                    _owner(conn, cluster, job_id_raw, start),
                )
                if key is not None
            ]
            return max(found, key=lambda k: k[2]) if found else None

        owner = newest(default_cluster) or newest(None)
        if owner is None:
            errors.append(
                f"{source}:{step.line}: step of job {step.job_id_raw}, which is in neither"
                " the file nor the store"
            )
            continue
        entry = orphans.get(owner)
        if entry is None:
            entry = orphans[owner] = JobEntry(
                *owner, values=None, refresh=REFRESH_COUNTED, where=f"{source}:{step.line}"
            )
        entry.steps.append(_step(step))


def _newest_in(
    entries: dict[Key, JobEntry], cluster: str | None, job_id_raw: int, before: int | None
) -> Key | None:
    """The chunk's own newest job row of ``job_id_raw`` (the store does not hold it yet)."""
    found = [
        key
        for key in entries
        if key[1] == job_id_raw
        and (cluster is None or key[0] == cluster)
        and (before is None or key[2] <= before)
    ]
    return max(found, key=lambda k: k[2]) if found else None


def _stopped(source: str, errors: list[str], done: SacctStreamResult) -> str:
    shown = "\n".join("  " + e for e in errors[:_MAX_SHOWN])
    more = f"\n  (and {len(errors) - _MAX_SHOWN} more)" if len(errors) > _MAX_SHOWN else ""
    if done.jobs_seen == 0 and done.steps_seen == 0:
        outcome = "nothing was imported"
    else:
        outcome = (
            f"nothing of the chunk holding them was imported; the {done.jobs_seen} job and"
            f" {done.steps_seen} step rows before it were"
        )
    return f"{source}: {len(errors)} unreadable rows; {outcome}\n{shown}{more}"
