"""Reading a live slurmdbd database (``slurm_acct_db`` on MariaDB/MySQL), no dump files.

:class:`LiveSource` opens two connections (MySQL serves one unbuffered result per
connection) and streams ``<cluster>_job_table`` and ``<cluster>_step_table`` through PyMySQL
server-side cursors (``SSCursor``), both ordered by ``job_db_inx`` (their primary keys'
order), so :func:`jobacct.slurmdbd_stream.import_slurmdbd_stream` merges them in one pass.
Cells are handed over as the text ``mysql -B`` would print (numbers as decimal text), so a
live import stores exactly what an import of the same rows' dump stores. Names come from the
database: QOS from ``qos_table``, TRES from ``tres_table``, users from the job's association
(``<cluster>_assoc_table.user``).

Incremental reads (:class:`Window`): the job rows with ``job_db_inx`` past the store's mark
or ``mod_time`` at or after its time mark, with all their steps. slurmdbd 22.05's step table
has no ``mod_time``; a step's changes arrive with its job's next change (its end at the
latest). The time mark kept for the next run is the database's clock at the start of this
one minus :data:`CLOCK_MARGIN` seconds, so rows changed while a run reads are read again
next time (re-reading is idempotent).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from jobacct.errors import DatabaseUnavailableError, UsageError
from jobacct.slurmdbd_import import tres_name

__all__ = ["CLOCK_MARGIN", "LiveSource", "Window", "source_name"]

#: Seconds subtracted from the database clock for the next run's time mark (clock skew
#: between slurmdbd, which writes ``mod_time``, and the database server).
CLOCK_MARGIN = 60
#: Rows fetched per round trip from a server-side cursor.
_FETCH = 5000
_NAME = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Window:
    """Which job rows to read: ``job_db_inx`` in (``after_inx``, ``up_to_inx``], or with a
    ``mod_time`` at or after ``since`` (and ``job_db_inx`` <= ``up_to_inx``).

    ``after_inx=None`` and ``since=None`` read every row up to ``up_to_inx``.
    """

    up_to_inx: int
    after_inx: int | None = None
    since: int | None = None

    def where(self) -> tuple[str, tuple[int, ...]]:
        """The SQL condition on a job table (alias-free) and its parameters."""
        parts = ["job_db_inx <= %s"]
        params: list[int] = [self.up_to_inx]
        alternatives = []
        if self.after_inx is not None:
            alternatives.append("job_db_inx > %s")
            params.append(self.after_inx)
        if self.since is not None:
            alternatives.append("mod_time >= %s")
            params.append(self.since)
        if alternatives:
            parts.append("(" + " OR ".join(alternatives) + ")")
        return " AND ".join(parts), tuple(params)


def source_name(url: str, cluster: str) -> str:
    """The watermark key of a source: ``host[:port]/database/cluster`` (no user, password)."""
    parsed = make_url(url)
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database or ''}/{cluster}"[:255]


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8")
    return str(value)


#: Query options a --from URL may carry (none names a local file).
_ALLOWED_QUERY = frozenset({"charset", "connect_timeout"})


class LiveSource:
    """Streams of one cluster's job and step rows from a slurmdbd database.

    Raises (from the constructor):
        UsageError: the URL is not a MySQL/MariaDB URL, or the cluster name is not a plain
            identifier (it becomes part of table names).
        DatabaseUnavailableError: the server cannot be reached, or the cluster's tables
            are not there.
    """

    def __init__(self, url: str, cluster: str) -> None:
        if not _NAME.fullmatch(cluster):
            raise UsageError(f"cluster name '{cluster}' is not a plain name (letters, digits, _)")
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise UsageError(f"cannot use --from URL '{url}': {exc}") from exc
        if parsed.get_backend_name() not in ("mysql", "mariadb"):
            raise UsageError(f"--from needs a mysql+pymysql:// URL of slurmdbd's database: {url}")
        unsafe = sorted(set(parsed.query) - _ALLOWED_QUERY)
        if unsafe:
            # read_default_file, unix_socket, ssl_* name local files: through the daemon they
            # would be opened with its rights (tracker issue 13). Host, port, user, password.
            raise UsageError(
                f"--from URL option(s) {', '.join(unsafe)} not allowed; allowed: "
                + ", ".join(sorted(_ALLOWED_QUERY))
            )
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        self.url = url
        self.cluster = cluster
        self.job_table = f"{cluster}_job_table"
        self.step_table = f"{cluster}_step_table"
        try:
            self.engine = create_engine(parsed, poolclass=NullPool)
        except ImportError as exc:
            from jobacct.config import missing_driver

            raise missing_driver(parsed.get_backend_name(), exc) from exc
        self.shown = parsed.render_as_string(hide_password=True)
        self._conns: list[Any] = []
        try:
            with self.engine.connect() as conn:
                for table in (self.job_table, self.step_table):
                    conn.exec_driver_sql(f"SELECT 1 FROM `{table}` LIMIT 0")
        except (OperationalError, ProgrammingError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseUnavailableError(
                f"cannot read slurmdbd tables {self.job_table}/{self.step_table} at"
                f" {self.shown}: {reason}"
            ) from exc

    def close(self) -> None:
        """Close every connection this source opened."""
        for conn in self._conns:
            with contextlib.suppress(Exception):  # a connection already broken
                conn.close()
        self._conns.clear()
        self.engine.dispose()

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql, params)]

    def clock_and_last_inx(self) -> tuple[int, int]:
        """(the database's UNIX_TIMESTAMP(), the largest job_db_inx of the job table)."""
        ((now, top),) = self._query(
            f"SELECT UNIX_TIMESTAMP(), COALESCE(MAX(job_db_inx), 0) FROM `{self.job_table}`"
        )
        return int(now), int(top)

    def qos_names(self) -> dict[int, str]:
        """QOS id -> name (``qos_table``)."""
        return {int(i): str(n) for i, n in self._query("SELECT id, name FROM qos_table")}

    def tres_names(self) -> dict[int, str]:
        """TRES id -> sacct's name (``tres_table``: ``type``, or ``type/name``)."""
        rows = self._query("SELECT id, type, name FROM tres_table")
        return {int(i): tres_name(str(t), n) for i, t, n in rows}

    def assoc_users(self) -> dict[int, str]:
        """Association id -> user name (``<cluster>_assoc_table``; account rows left out)."""
        rows = self._query(f"SELECT id_assoc, user FROM `{self.cluster}_assoc_table`")
        return {int(i): str(u) for i, u in rows if u}

    def _stream(self, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[int, dict[str, Any]]]:
        import pymysql.cursors

        raw = self.engine.raw_connection()
        self._conns.append(raw)
        cursor = raw.driver_connection.cursor(pymysql.cursors.SSCursor)  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            names = [d[0] for d in cursor.description]
            inx_at = names.index("job_db_inx")
            while rows := cursor.fetchmany(_FETCH):
                for row in rows:
                    yield int(row[inx_at]), dict(zip(names, map(_text, row), strict=True))
        finally:
            cursor.close()

    def job_rows(
        self, window: Window, user_names: dict[int, str] | None = None
    ) -> Iterator[tuple[int, Mapping[str, str | None]]]:
        """The job rows in the window, by ``job_db_inx``; yields ``(job_db_inx, cells)``.

        With ``user_names``, each row's uid is named after its association's user (unless
        already named), so the name map grows with the users met, not the rows.
        """
        where, params = window.where()
        assoc = self.assoc_users() if user_names is not None else {}
        sql = f"SELECT * FROM `{self.job_table}` WHERE {where} ORDER BY job_db_inx"
        for inx, row in self._stream(sql, params):
            if user_names is not None:
                uid, id_assoc = row.get("id_user"), row.get("id_assoc")
                if uid and uid.isdigit() and int(uid) not in user_names and id_assoc:
                    name = assoc.get(int(id_assoc)) if id_assoc.isdigit() else None
                    if name is not None:
                        user_names[int(uid)] = name
            yield inx, row

    def step_rows(self, window: Window) -> Iterator[tuple[int, Mapping[str, str | None]]]:
        """The steps of the window's jobs, by ``job_db_inx``; yields ``(job_db_inx, cells)``."""
        where, params = window.where()
        if window.after_inx is None and window.since is None:
            sql = (
                f"SELECT * FROM `{self.step_table}` WHERE job_db_inx <= %s"
                " ORDER BY job_db_inx, id_step, step_het_comp"
            )
        else:
            sql = (
                f"SELECT * FROM `{self.step_table}` WHERE job_db_inx IN"
                f" (SELECT job_db_inx FROM `{self.job_table}` WHERE {where})"
                " ORDER BY job_db_inx, id_step, step_het_comp"
            )
        if window.after_inx is None and window.since is None:
            params = (window.up_to_inx,)
        return self._stream(sql, params)
