"""``import slurmdbd --from``: one run against a live slurmdbd database, with its watermark.

The store keeps, per source (:func:`jobacct.slurmdbd_live.source_name`), the largest
``job_db_inx`` imported and a ``mod_time`` mark (table ``import_watermark``). An incremental
run reads only the job rows past them (with all their steps); every committed chunk moves the
marks in the same transaction, so a run killed half-way resumes where it stopped, and a run
with nothing new reads nothing but the marks and two indexed/one scanning query on the
server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from jobacct.model import ImportWatermark
from jobacct.slurmdbd_live import CLOCK_MARGIN, LiveSource, Window, source_name
from jobacct.slurmdbd_stream import DEFAULT_CHUNK_ROWS, ProgressHook, StreamResult
from jobacct.slurmdbd_stream import import_slurmdbd_stream as _stream

__all__ = ["LiveResult", "import_live", "read_watermark"]


@dataclass
class LiveResult:
    """What one live run read and stored, and the window it read."""

    result: StreamResult
    window: Window
    source: str


def read_watermark(engine: Engine, source: str) -> tuple[int, int] | None:
    """(last job_db_inx, mod_time mark) stored for ``source``, or None before its first run."""
    with Session(engine) as session:
        mark = session.scalars(
            select(ImportWatermark).where(ImportWatermark.source == source)
        ).one_or_none()
        return None if mark is None else (mark.last_job_db_inx, mark.last_mod_time)


def _save_watermark(conn: Any, source: str, cluster: str, last_inx: int, mod_time: int) -> None:
    values = {"last_job_db_inx": last_inx, "last_mod_time": mod_time, "updated": int(time.time())}
    done = conn.execute(
        update(ImportWatermark).where(ImportWatermark.source == source).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(insert(ImportWatermark).values(source=source, cluster=cluster, **values))


def import_live(
    engine: Engine,
    live: LiveSource,
    cluster: str,
    *,
    incremental: bool = False,
    since: int | None = None,
    user_names: Mapping[int, str] | None = None,
    group_names: Mapping[int, str],
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    skip_bad: bool = False,
    on_warning: Callable[[str], None] | None = None,
    on_chunk: ProgressHook | None = None,
    workers: int = 1,
) -> LiveResult:
    """Import ``live``'s job and step rows into the store ``engine`` under ``cluster``.

    Without ``incremental`` or ``since`` every row is read; with ``incremental`` only the
    rows past the stored watermark (all rows on the first run); with ``since`` (epoch
    seconds) the rows whose ``mod_time`` is at or after it. Every run but a ``since`` run
    keeps the watermark. ``user_names`` overrides the names taken from the associations.
    ``workers`` > 1 converts the rows in worker processes
    (:mod:`jobacct.parallel_import`).

    Raises:
        ImportFormatError: bad rows (see :func:`~jobacct.slurmdbd_stream.
            import_slurmdbd_stream`); the committed chunks and their watermark stay.
    """
    source = source_name(live.url, live.cluster)
    now, top = live.clock_and_last_inx()
    mark = read_watermark(engine, source) if incremental else None
    if since is not None:
        window = Window(up_to_inx=top, since=since)
    elif mark is not None:
        window = Window(up_to_inx=top, after_inx=mark[0], since=mark[1])
    else:
        window = Window(up_to_inx=top)
    next_mod = now - CLOCK_MARGIN
    keep_marks = since is None

    def on_commit(conn: Any, last_inx: int | None) -> None:
        if keep_marks:
            _save_watermark(conn, source, cluster, top if last_inx is None else last_inx, next_mod)

    names: dict[int, str] = {}
    if user_names is not None:
        names.update(user_names)
    nothing_new = (
        mark is not None and since is None and top <= mark[0] and not _changed_since(live, window)
    )
    if nothing_new:
        return LiveResult(StreamResult(), window, source)
    result = _stream(
        engine,
        live.job_rows(window, None if user_names is not None else names),
        live.step_rows(window),
        cluster,
        names,
        group_names,
        qos_names=live.qos_names(),
        tres_names=live.tres_names(),
        job_source=live.job_table + " job_db_inx",
        step_source=live.step_table + " job_db_inx",
        chunk_rows=chunk_rows,
        skip_bad=skip_bad,
        on_warning=on_warning,
        on_chunk=on_chunk,
        on_commit=on_commit,
        workers=workers,
    )
    return LiveResult(result, window, source)


def _changed_since(live: LiveSource, window: Window) -> bool:
    """Whether any job row in the window exists (one cheap probe before a real read)."""
    where, params = window.where()
    rows = live._query(f"SELECT 1 FROM `{live.job_table}` WHERE {where} LIMIT 1", params)
    return bool(rows)
