"""Streaming ``import slurmdbd``: job and step rows read once, in ``job_db_inx`` order, in chunks.

The rows come from ``mysql -B`` dumps (:class:`TsvReader`) or straight from a live slurmdbd
database (:mod:`jobacct.slurmdbd_live`); either way both tables arrive sorted by
``job_db_inx`` (their primary keys' order), so each job meets its steps in one merge pass and
nothing but the current chunk is held in memory. Every row is turned into columns by the same
code as the row-by-row importer (:mod:`jobacct.slurmdbd_import`), so the stored values are the
same, and the chunks go through the one bulk write path (:mod:`jobacct.bulkwrite`).

A bad row (unreadable cell, unknown state, a step whose job is not in the job table, rows out
of ``job_db_inx`` order) is one message naming the file, line and column. Without
``skip_bad`` the import stops at the first chunk holding one, writing nothing of that chunk
(earlier chunks are committed); with it, bad rows are left out, counted and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from jobacct import inputs
from jobacct.bulkwrite import REFRESH_ANY, BulkWriter, ChunkResult, JobEntry, StepEntry
from jobacct.errors import ImportFormatError
from jobacct.lines import bounded_lines
from jobacct.slurmdbd_import import (
    _JOB_DEFAULTS,
    _STEP_DEFAULTS,
    JOB_TABLE_COLUMNS,
    STEP_TABLE_COLUMNS,
    _Cells,
    _Context,
    _end_open_step,
    _JobRec,
    _read_job,
    _read_step,
    _sum_cpu,
    _unescape,
)

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "StreamResult",
    "TsvReader",
    "decode_line",
    "import_slurmdbd_stream",
    "repeated_job",
]

#: Rows (jobs + steps) written per transaction.
DEFAULT_CHUNK_ROWS = 10_000
#: Most errors listed in one message.
_MAX_SHOWN = 50

#: One input row: its line number (or row number) and the cells by column name.
Row = tuple[int, Mapping[str, str | None]]


_KNOWN_COLUMNS = JOB_TABLE_COLUMNS | STEP_TABLE_COLUMNS


class TsvReader:
    """The rows of a ``mysql -B`` dump, read line by line (never the whole file).

    Iterating yields ``(line number, {column: text})``; cells are the dump's text with the
    batch escapes (``\\t \\n \\\\ \\0``) undone, ``NULL`` left as the text ``NULL`` (the row
    reader takes it as SQL NULL, as :func:`~jobacct.slurmdbd_import.read_mysql_tsv` does).
    ``bytes_read`` / ``size`` give the progress through the file.

    Raises (while iterating):
        ImportFormatError: no header or a repeated column name (the whole file is refused),
            or, per row, a wrong number of cells (reported through ``bad_rows``).
        OSError, UnicodeDecodeError: the file cannot be read as UTF-8.
    """

    def __init__(self, path: str | Path, source: str | None = None) -> None:
        self.path = Path(path)
        self.source = source or str(path)
        # Opened here, through jobacct.inputs: run by the daemon, the client opens the file
        # (with its own rights) and streams it; the size of a pipe is unknown (0).
        self._handle = inputs.open_binary(str(path))
        self.size = inputs.size_of(self._handle)
        self.bytes_read = 0
        #: Rows with the wrong number of cells: (line, message), taken by the importer.
        self.bad_rows: list[tuple[int, str]] = []
        #: The column names, once the header is read.
        self.header: tuple[str, ...] = ()

    def _header(self, handle: Any) -> None:
        first = next(bounded_lines(handle, self.source), b"")
        self.bytes_read = len(first)
        header_text = first.decode("utf-8").rstrip("\n").rstrip("\r")
        if not header_text.strip():
            raise ImportFormatError(f"{self.source}: no header line (expected a mysql -B dump)")
        header = [_unescape(name) for name in header_text.split("\t")]
        if len(set(header)) != len(header):
            name = next(n for n in header if header.count(n) > 1)
            raise ImportFormatError(f"{self.source}:1: column '{name}' appears twice in the header")
        unknown = [n for n in header if n not in _KNOWN_COLUMNS]
        if unknown:
            raise ImportFormatError(
                f"{self.source}:1: column '{unknown[0]}' is not a column of Slurm 22.05's"
                " job or step table"
            )
        if "job_db_inx" not in header:
            # Both tables key their rows by it; the import merges them on it.
            raise ImportFormatError(f"{self.source}:1: no job_db_inx column in the header")
        self.header = tuple(header)

    def __iter__(self) -> Iterator[Row]:
        for number, raw in self.raw_lines():
            row, error = decode_line(self.header, self.source, number, raw)
            if row is None:
                self.bad_rows.append((number, error))
                continue
            yield number, row

    def raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """The data lines as they are in the file, numbered (the header read and checked
        first: :attr:`header`); :func:`decode_line` turns one into a row. The parallel
        importer reads this way, so that worker processes do the decoding.
        """
        with self._handle as handle:
            self._header(handle)
            number = 1
            for raw in bounded_lines(handle, self.source, first_line=2):
                number += 1
                self.bytes_read += len(raw)
                yield number, raw


def decode_line(
    header: tuple[str, ...], source: str, number: int, raw: bytes
) -> tuple[dict[str, str] | None, str]:
    """One dump line as ``{column: text}`` (batch escapes undone), or None and the message
    for a line with the wrong number of cells.

    Raises:
        UnicodeDecodeError: the line is not UTF-8.
    """
    line = raw.decode("utf-8")
    if line.endswith("\n"):
        line = line[:-1]
    cells = line.split("\t")
    if len(cells) != len(header):
        return None, f"{source}:{number}: {len(cells)} fields, the header has {len(header)}"
    if "\\" in line:
        cells = [_unescape(cell) for cell in cells]
    return dict(zip(header, cells)), ""


@dataclass
class StreamResult(ChunkResult):
    """What a streaming import did: counts, rows left out (``skip_bad``), chunks written."""

    bad_rows: int = 0
    chunks: int = 0
    warnings: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Chunk:
    entries: list[JobEntry] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0
    first_line: int = 0
    last_db_inx: int | None = None
    #: What the readers warned of while reading this chunk's rows.
    warnings: list[str] = field(default_factory=list)
    #: The line of each job record of the chunk, by (JobIDRaw, Submit).
    job_lines: dict[tuple[int, int], int] = field(default_factory=dict)


#: Called after each committed chunk with the running totals and the rows read so far.
ProgressHook = Callable[[StreamResult, int], None]


def import_slurmdbd_stream(
    engine: Engine,
    job_rows: Iterable[Row],
    step_rows: Iterable[Row],
    cluster: str,
    user_names: Mapping[int, str],
    group_names: Mapping[int, str],
    *,
    qos_names: Mapping[int, str] | None = None,
    tres_names: Mapping[int, str] | None = None,
    job_source: str = "job table",
    step_source: str = "step table",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    skip_bad: bool = False,
    on_warning: Callable[[str], None] | None = None,
    on_chunk: ProgressHook | None = None,
    on_commit: Callable[[Any, int | None], None] | None = None,
    workers: int = 1,
) -> StreamResult:
    """Import slurmdbd job and step rows (both in ``job_db_inx`` order) in chunks.

    ``job_rows`` / ``step_rows`` yield ``(line, cells)``; see :func:`jobacct.slurmdbd_import.
    import_slurmdbd` for the column meanings and name maps. Each chunk of about
    ``chunk_rows`` rows (a job and its steps are never split) is written in one transaction;
    ``on_commit(connection, last job_db_inx)`` runs inside it (the live importer keeps its
    watermark there). Warnings (values that cannot be mapped exactly) go to ``on_warning``
    as they are found. With ``workers`` > 1 the rows are converted in that many worker
    processes (:mod:`jobacct.parallel_import`); what is stored and reported is the same.

    Raises:
        ImportFormatError: a chunk holds bad rows and ``skip_bad`` is false; the message
            lists them (file:line: column and value) and says what was imported before.
            Nothing of that chunk is written.
    """
    ctx = _Context.of(user_names, group_names, qos_names, tres_names)
    writer = BulkWriter(engine, _JOB_DEFAULTS, _STEP_DEFAULTS)
    total = StreamResult()
    rows_read = 0
    tsv_readers = [r for r in (job_rows, step_rows) if isinstance(r, TsvReader)]
    sources = (job_source, step_source)
    chunks: Generator[_Chunk, None, None]
    if workers > 1:
        from jobacct.parallel_import import converted_chunks

        chunks = converted_chunks(job_rows, step_rows, ctx, cluster, sources, chunk_rows, workers)
    else:
        chunks = _chunks(job_rows, step_rows, ctx, cluster, sources, chunk_rows)
    # Closed on any way out: the worker processes stop with the import.
    with closing(chunks):
        for chunk in chunks:
            for reader in tsv_readers:
                chunk.errors.extend(reader.bad_rows)
                reader.bad_rows.clear()
            rows_read += chunk.rows
            if on_warning is not None:
                for warning in chunk.warnings:
                    on_warning(warning)
            total.warnings += len(chunk.warnings)
            if chunk.errors:
                messages = [message for _, message in chunk.errors]
                if not skip_bad:
                    raise ImportFormatError(_stopped(messages, total, job_source, step_source))
                total.bad_rows += len(messages)
                total.errors.extend(messages[: max(0, _MAX_SHOWN - len(total.errors))])
            last = chunk.last_db_inx

            def commit_hook(conn: Any, last: int | None = last) -> None:
                if on_commit is not None:
                    on_commit(conn, last)

            if chunk.entries or on_commit is not None:
                total.add(writer.write(chunk.entries, commit_hook))
                total.chunks += 1
            if on_chunk is not None:
                on_chunk(total, rows_read)
    return total


def _stopped(errors: list[str], done: StreamResult, job_source: str, step_source: str) -> str:
    shown = "\n".join("  " + e for e in errors[:_MAX_SHOWN])
    more = f"\n  (and {len(errors) - _MAX_SHOWN} more)" if len(errors) > _MAX_SHOWN else ""
    if done.jobs_seen == 0:
        outcome = "nothing was imported"
    else:
        outcome = (
            f"nothing of the chunk holding them was imported; the {done.jobs_seen} jobs and"
            f" {done.steps_seen} steps before it were (a re-run after fixing the rows skips"
            " them as unchanged)"
        )
    return f"{job_source}, {step_source}: {len(errors)} unreadable rows; {outcome}\n{shown}{more}"


def repeated_job(where: str, key: tuple[int, int], first_line: int) -> str:
    """The message for a job record (JobIDRaw, Submit) met twice in one chunk."""
    return f"{where}: job {key[0]} submitted at {key[1]} repeats line {first_line}"


def _num_cell(row: Mapping[str, str | None], name: str) -> int | None:
    value = row.get(name)
    if value is None or value == "NULL" or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def _chunks(
    job_rows: Iterable[Row],
    step_rows: Iterable[Row],
    ctx: _Context,
    cluster: str,
    sources: tuple[str, str],
    chunk_rows: int,
    start: tuple[int, int] = (-1, -1),
) -> Generator[_Chunk, None, None]:
    """Merge the two sorted row streams into chunks of complete jobs.

    ``start`` is the highest job_db_inx of the job and of the step rows before these (a
    worker of :mod:`jobacct.parallel_import` converts a slice of the streams).
    """
    job_source, step_source = sources
    steps = iter(step_rows)
    pending: Row | None = next(steps, None)
    last_job_inx, last_step_inx = start
    chunk = _Chunk()
    keys: dict[tuple[int, int], int] = {}

    def step_error(line: int, message: str) -> None:
        chunk.errors.append((line, f"{step_source}:{line}: {message}"))

    def take_steps(up_to: int, job: _JobRec | None, bad_inx: int | None) -> None:
        """Consume the steps with job_db_inx <= up_to; those == up_to belong to ``job``."""
        nonlocal pending, last_step_inx
        seen: dict[tuple[int, int | None], int] = {}
        while pending is not None:
            line, row = pending
            inx = _num_cell(row, "job_db_inx")
            if inx is not None and inx > up_to:
                return
            pending = next(steps, None)
            chunk.rows += 1
            if inx is None:
                step_error(line, f"job_db_inx '{row.get('job_db_inx')}' is not a whole integer")
                continue
            if inx < last_step_inx:
                step_error(
                    line,
                    f"job_db_inx {inx} comes after {last_step_inx}: the step table must be in"
                    " job_db_inx order (as mysql dumps it)",
                )
                continue
            last_step_inx = inx
            if inx != up_to or job is None:
                if inx != bad_inx:
                    step_error(line, f"job_db_inx {inx} is not in the job table")
                continue
            where = f"{step_source}:{line}"
            try:
                _, step = _read_step(_Cells(row), where, ctx)
            except (ValueError, KeyError) as exc:
                step_error(line, str(exc))
                continue
            step.line = line
            skey = (step.step_id, step.step_het_component)
            if skey in seen:
                step_error(line, f"step repeats line {seen[skey]}")
                continue
            seen[skey] = line
            if "ncpus" not in step.values:
                # print.c: a step without a CPU count in its tres_alloc shows its job's.
                step.values["ncpus"] = job.cpu_from_tres
            _end_open_step(step, job)
            job.steps.append(step)

    for line, row in job_rows:
        chunk.rows += 1
        if not chunk.first_line:
            chunk.first_line = line
        where = f"{job_source}:{line}"
        inx = _num_cell(row, "job_db_inx")
        try:
            rec = _read_job(_Cells(row), where, ctx)
        except (ValueError, KeyError) as exc:
            chunk.errors.append((line, f"{where}: {exc}"))
            if inx is not None and inx > last_job_inx:
                take_steps(inx, None, inx)
                last_job_inx = inx
            continue
        rec.line = line
        if rec.db_inx <= last_job_inx:
            chunk.errors.append(
                (
                    line,
                    f"{where}: job_db_inx {rec.db_inx} comes after {last_job_inx}: the job"
                    " table must be in job_db_inx order (as mysql dumps it)",
                )
            )
            continue
        last_job_inx = rec.db_inx
        take_steps(rec.db_inx, rec, None)
        key = (rec.job_id_raw, rec.time_submit)
        if key in keys:
            chunk.errors.append((line, repeated_job(where, key, keys[key])))
            continue
        keys[key] = line
        _sum_cpu(rec)
        chunk.entries.append(_entry(rec, cluster, where))
        chunk.last_db_inx = rec.db_inx
        if chunk.rows >= chunk_rows:
            chunk.warnings, ctx.warnings[:] = ctx.warnings[:], []
            chunk.job_lines = keys
            yield chunk
            chunk = _Chunk()
            keys = {}
    take_steps(1 << 64, None, None)
    if chunk.rows or chunk.errors or ctx.warnings:
        chunk.warnings, ctx.warnings[:] = ctx.warnings[:], []
        chunk.job_lines = keys
        yield chunk


def _entry(rec: _JobRec, cluster: str, where: str) -> JobEntry:
    return JobEntry(
        cluster=cluster,
        job_id_raw=rec.job_id_raw,
        time_submit=rec.time_submit,
        values=rec.values,
        steps=[StepEntry(s.step_id, s.step_het_component, s.values, s.line) for s in rec.steps],
        derived=rec.derived,
        refresh=REFRESH_ANY,
        where=where,
    )
