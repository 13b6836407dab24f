"""The SQL text behind ``sacct``: one builder for SQLite, PostgreSQL and MariaDB.

The statement is written as text with named parameters (``:p0``, ``:p1``...), which both
stdlib :mod:`sqlite3` and SQLAlchemy's ``text()`` accept, so the SQLite fast path
(:mod:`jobacct.fastread`, no SQLAlchemy import) and the server path run the very same
conditions. Only identifier quoting depends on the dialect (``partition`` is reserved in
MariaDB). The rules are slurm-semantics.md §4.7 (window and selection), §4.8 (ordering and
duplicates) and §4.9 (``-j`` matching); the index each shape relies on is checked by
tests/test_sacct_options.py (``EXPLAIN QUERY PLAN`` never says ``SCAN job``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from jobacct.jobid import JobSelector
from jobacct.migrate import ORDER_KEY_COLUMNS

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import Any

#: An end time no job reaches: bounds ``time_end`` ranges on both sides, which SQLite's
#: planner (without STAT4) needs to prefer the time_end index over a skip-scan of another.
NEVER = 1 << 62

#: ``-F`` names (``str_2_job_flags``, case-insensitive) -> how the Flags text spells them.
#: Slurm 22.05 prints (and so stores) ``StartRecieved``; both spellings are matched.
JOB_FLAGS: dict[str, tuple[str, ...]] = {
    "schedsubmit": ("SchedSubmit",),
    "schedmain": ("SchedMain",),
    "schedbackfill": ("SchedBackfill",),
    "startreceived": ("StartReceived", "StartRecieved"),
}


def quote_char(dialect: str) -> str:
    """The identifier quote of a SQLAlchemy dialect name (``mysql``/``mariadb``: backtick)."""
    return "`" if dialect in ("mysql", "mariadb") else '"'


class Sql:
    """A statement being built: quoted identifiers and numbered named parameters."""

    def __init__(self, quote: str = '"', params: dict[str, Any] | None = None) -> None:
        self.quote = quote
        self.params: dict[str, Any] = {} if params is None else params

    def col(self, table: str, name: str) -> str:
        """``table."name"`` (the table aliases used here never need quoting)."""
        return f"{table}.{self.quote}{name}{self.quote}"

    def p(self, value: Any) -> str:
        """A new parameter holding ``value``; returns its placeholder."""
        key = f"p{len(self.params)}"
        self.params[key] = value
        return ":" + key

    def in_(self, expr: str, values: Sequence[Any]) -> str:
        """``expr IN (...)``; an empty list matches nothing (``IN ()`` is not portable)."""
        if not values:
            return "1 = 0"
        return f"{expr} IN ({', '.join(self.p(v) for v in values)})"


# ---------------------------------------------------------------- the conditions


def _like_escape(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _contains(q: Sql, column: str, text: str) -> str:
    """``column`` contains ``text``, case-insensitively on every backend."""
    pattern = "%" + _like_escape(text.lower()) + "%"
    return f"lower({column}) LIKE {q.p(pattern)} ESCAPE '!'"


def _any(parts: Sequence[str]) -> str:
    return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"


def _ended_after(q: Sql, when: int) -> str:
    end = q.col("job", "time_end")
    return f"({end} > {q.p(when)} AND {end} < {q.p(NEVER)})"


def _state_clause(q: Sql, state: str, start: int, end: int) -> str:
    # _state_time_string (as_mysql_jobacct_process.c, §4.7): states are matched by what the
    # job was doing during the window, terminal states by when they were reached.
    c = q.col
    t_eligible, t_start, t_end = (
        c("job", "time_eligible"),
        c("job", "time_start"),
        c("job", "time_end"),
    )
    st = c("job", "state")
    if state == "PENDING":
        return (
            f"({t_eligible} IS NOT NULL AND {t_eligible} < {q.p(end)} AND ("
            f"{t_start} > {q.p(start)}"
            f" OR ({t_start} IS NULL AND {t_end} > {q.p(start)})"
            f" OR ({t_start} IS NULL AND {t_end} IS NULL AND {st} = {q.p(state)})))"
        )
    if state == "RUNNING":
        return (
            f"({t_start} IS NOT NULL AND {t_start} < {q.p(end)} AND ("
            f"{_ended_after(q, start)} OR ({t_end} IS NULL AND {st} = {q.p(state)})))"
        )
    if state == "SUSPENDED":
        # Slurm reads its suspend table; the store keeps only the total suspended time, so a
        # job matches if it was ever suspended (or is now) and ran during the window.
        return (
            f"(({st} = {q.p(state)} OR {c('job', 'time_suspended')} > {q.p(0)})"
            f" AND {t_start} IS NOT NULL AND {t_start} < {q.p(end)}"
            f" AND ({t_end} IS NULL OR {_ended_after(q, start - 1)}))"
        )
    return f"({st} = {q.p(state)} AND {t_end} BETWEEN {q.p(start)} AND {q.p(end)})"


def _selectors_clause(q: Sql, selectors: Sequence[JobSelector], whole_hetjob: bool | None) -> str:
    """The records a ``-j`` list names (§4.9), as ``job.id IN (<union of index lookups>)``.

    A plain id matches the record itself, every task of an array with that id and every
    component of a het job with that id (``--whole-hetjob=no``: not the components; ``=yes``:
    every component of the het job the record belongs to). ``123_7`` is that task, ``123+1``
    that component (``=yes``: all of them).

    Each kind of match is its own indexed lookup: OR-ing them in one WHERE lets SQLite's
    planner, which sees the mostly-NULL array and het columns as unselective, walk a time
    index over the whole table instead.
    """
    c = q.col
    plain = sorted({s.job_id for s in selectors if s.array_task is None and s.het_offset is None})
    tasks = sorted({(s.job_id, s.array_task) for s in selectors if s.array_task is not None})
    comps = sorted({(s.job_id, s.het_offset) for s in selectors if s.het_offset is not None})
    parts: list[str] = []
    ids = f"SELECT {c('job', 'id')} FROM job WHERE "
    if plain:
        parts.append(ids + q.in_(c("job", "job_id_raw"), plain))
        parts.append(ids + q.in_(c("job", "array_job_id"), plain))
        if whole_hetjob is None:
            parts.append(ids + q.in_(c("job", "het_job_id"), plain))
        elif whole_hetjob:
            members = (
                f"SELECT {c('member', 'het_job_id')} FROM job AS member WHERE "
                f"{q.in_(c('member', 'job_id_raw'), plain)}"
                f" AND {c('member', 'het_job_id')} IS NOT NULL"
            )
            parts.append(ids + f"{c('job', 'het_job_id')} IN ({members})")
    for job_id, task in tasks:
        parts.append(
            ids + f"{c('job', 'array_job_id')} = {q.p(job_id)}"
            f" AND {c('job', 'array_task_id')} = {q.p(task)}"
        )
    for job_id, offset in comps:
        if whole_hetjob:
            parts.append(ids + f"{c('job', 'het_job_id')} = {q.p(job_id)}")
        else:
            # The het id alone is indexed: look it up, then check the offset by rowid.
            members = ids + f"{c('job', 'het_job_id')} = {q.p(job_id)}"
            parts.append(
                ids + f"{c('job', 'id')} IN ({members})"
                f" AND {c('job', 'het_job_offset')} = {q.p(offset)}"
            )
    union = " UNION ".join(parts)
    if q.quote == "`":
        # MariaDB runs an IN (... UNION ...) subquery once per row of a full scan (a DEPENDENT
        # SUBQUERY: 8 s for one job of a million); a derived table it materializes once.
        return f"{c('job', 'id')} IN (SELECT ids.id FROM ({union}) AS ids)"
    return f"{c('job', 'id')} IN ({union})"


def _range_clause(q: Sql, column: str, low: int, high: int | None) -> str:
    if high is None:
        return f"{column} = {q.p(low)}"
    return f"{column} BETWEEN {q.p(low)} AND {q.p(high)}"


def _node_prefix(host: str) -> str:
    # The leading non-digit part of a node name survives any hostlist compression
    # ("tux12" is inside "tux[10-19]" and "tux[1-2]x" alike), so it can prefilter in SQL.
    match = re.match(r"[^0-9\[\],]*", host)
    return match.group(0) if match else ""


def _nodes_clause(q: Sql, nodes: frozenset[str]) -> str:
    nodelist = q.col("job", "nodelist")
    prefixes = sorted({_node_prefix(h) for h in nodes})
    if "" in prefixes:
        return f"{nodelist} IS NOT NULL"
    likes = [f"{nodelist} LIKE {q.p('%' + _like_escape(p) + '%')} ESCAPE '!'" for p in prefixes]
    return f"({nodelist} IS NOT NULL AND {_any(likes)})"


def where_sql(
    q: Sql, f: Any, start: int, end: int, span: int | None = None, *, selectors: bool = True
) -> str:
    """The WHERE conditions (ANDed) of a :class:`jobacct.query.JobFilter` and its window.

    ``span``, if given, must be at least ``max(time_end - time_eligible)`` over the stored
    jobs (seconds; :func:`span_sql` reads it): a plain listing then also bounds the eligible
    time of the ended jobs from below, which selects the same jobs (see there) but lets the
    index scan start near the window instead of at the first job ever stored.
    ``selectors=False`` leaves the ``-j`` condition out (the window rules of ``-j`` stay).
    """
    c = q.col
    clauses: list[str] = []
    t_end = c("job", "time_end")
    if f.states:
        clauses.append(_any([_state_clause(q, s, start, end) for s in f.states]))
    elif f.selectors:
        clauses.append(f"{c('job', 'time_submit')} < {q.p(end)}")
        clauses.append(f"({t_end} IS NULL OR {t_end} >= {q.p(start)})")
    elif span is not None:
        # The same jobs as below. A job that ended in or after the window has
        # time_eligible = time_end - (its span) >= start - span. Without this bound an
        # interval-overlap test can use an index on only one side: eligible < end reads
        # every job eligible before the window (half the store for a day in mid-month).
        # Written as an OR of two index ranges (SQLite's multi-index OR): running jobs by
        # the time_end index, ended ones by a short range of the eligible index.
        eligible = c("job", "time_eligible")
        clauses.append(
            f"(({t_end} IS NULL AND {eligible} < {q.p(end)}) OR ({eligible} >= {q.p(start - span)}"
            f" AND {eligible} < {q.p(end)} AND {t_end} >= {q.p(start)}))"
        )
    else:
        # A plain listing selects on eligible time: never-eligible jobs are hidden (§4.7).
        eligible = c("job", "time_eligible")
        clauses.append(f"{eligible} IS NOT NULL")
        clauses.append(f"{eligible} < {q.p(end)}")
        clauses.append(f"({t_end} IS NULL OR {t_end} >= {q.p(start)})")
    if f.selectors and selectors:
        clauses.append(_selectors_clause(q, f.selectors, f.whole_hetjob))
    if f.clusters is not None:
        clauses.append(q.in_(c("job", "cluster"), f.clusters))
    if f.uids is not None or f.user_names is not None:
        owners: list[str] = []
        if f.uids:
            owners.append(q.in_(c("job", "uid"), f.uids))
        if f.user_names:
            owners.append(q.in_(c("job", "user_name"), f.user_names))
        clauses.append(_any(owners))
    visible = getattr(f, "visible", None)
    if visible is not None:
        # PrivateData=jobs (slurmdbd's _setup_job_cond_limits): own jobs, coordinated accounts.
        mine = [f"{c('job', 'uid')} = {q.p(visible.uid)}"]
        if visible.accounts:
            mine.append(q.in_(c("job", "account"), list(visible.accounts)))
        clauses.append(_any(mine))
    if f.gids is not None or f.group_names is not None:
        groups: list[str] = []
        if f.gids:
            groups.append(q.in_(c("job", "gid"), f.gids))
        if f.group_names:
            groups.append(q.in_(c("job", "group_name"), f.group_names))
        clauses.append(_any(groups))
    if f.accounts is not None:
        clauses.append(q.in_(c("job", "account"), f.accounts))
    if f.names is not None:
        clauses.append(q.in_(c("job", "job_name"), f.names))
    if f.partitions is not None:
        clauses.append(q.in_(c("job", "partition"), f.partitions))
    if f.qos is not None:
        clauses.append(q.in_(f"lower({c('job', 'qos')})", [x.lower() for x in f.qos]))
    if f.wckeys is not None:
        clauses.append(q.in_(c("job", "wckey"), f.wckeys))
    if f.reasons is not None:
        clauses.append(q.in_(f"lower({c('job', 'reason')})", [r.lower() for r in f.reasons]))
    if f.constraints is not None:
        # sacct ANDs the items: each must be part of the constraint string; an empty item
        # asks for jobs without constraints.
        constraints = c("job", "constraints")
        for item in f.constraints or [""]:
            if item:
                clauses.append(_contains(q, constraints, item))
            else:
                clauses.append(f"({constraints} IS NULL OR {constraints} = {q.p('')})")
    if f.job_flags is not None:
        spellings = [s for key in f.job_flags for s in JOB_FLAGS[key]]
        clauses.append(_any([_contains(q, c("job", "flags"), s) for s in spellings]))
    if f.timelimit_min is not None:
        clauses.append(_range_clause(q, c("job", "timelimit"), f.timelimit_min, f.timelimit_max))
    if f.nnodes is not None:
        clauses.append(_range_clause(q, c("job", "nnodes"), f.nnodes.low, f.nnodes.high))
    if f.ncpus is not None:
        clauses.append(_range_clause(q, c("job", "ncpus"), f.ncpus.low, f.ncpus.high))
    if f.nodes is not None:
        # A coarse prefilter; the exact test expands the stored list (jobacct.query).
        clauses.append(_nodes_clause(q, f.nodes))
    if not f.duplicates:
        # §4.7: revoked federation siblings are hidden without -D.
        clauses.append(f"{c('job', 'state')} != 'REVOKED'")
        # §4.8: without -D only the newest record of a job id is shown (requeues, reuse),
        # newest among the records the other conditions select: slurmdbd drops duplicates
        # while it walks its query's result (as_mysql_jobacct_process.c, ordered by id_job,
        # time_submit desc), so `-s RQ` shows a requeued job's REQUEUED record even though a
        # newer record of the job exists (real 22.05.8, tests/test_oracle.py). The same
        # conditions are applied to the newer record, except -j (it names the same job id).
        # SELECT 1: the unique (cluster, job_id_raw, time_submit) index finds the candidates.
        # Only a superseded record can have a newer one (jobacct/superseded.py, migration
        # 0008): the subquery runs for those alone.
        newer = _Renamed(quote=q.quote, params=q.params)
        selected = where_sql(newer, f.replace(duplicates=True), start, end, span, selectors=False)
        clauses.append(
            f"({c('job', 'superseded')} = {q.p(False)} OR NOT EXISTS ("
            f"SELECT 1 FROM job AS newer WHERE {c('newer', 'cluster')} = {c('job', 'cluster')}"
            f" AND {c('newer', 'job_id_raw')} = {c('job', 'job_id_raw')}"
            f" AND {c('newer', 'time_submit')} > {c('job', 'time_submit')}"
            f" AND {c('newer', 'state')} != 'REVOKED' AND {selected}))"
        )
    return " AND ".join(clauses)


class _Renamed(Sql):
    """:class:`Sql` whose ``job`` columns are those of the ``newer`` alias (same parameters)."""

    def col(self, table: str, name: str) -> str:
        return super().col("newer" if table == "job" else table, name)


def span_sql(f: Any) -> str | None:
    """The statement reading the ``span`` bound of :func:`where_sql`, where it applies.

    None unless ``f`` is a plain listing (no ``-s``, no ``-j``). The statement is one probe
    of SQLite's ``ix_job_span`` expression index (migration 0006): it gives the largest
    ``time_end - time_eligible``, or NULL when no ended job has an eligible time. SQLite
    only: the other backends keep the plain conditions.
    """
    if f.states or f.selectors:
        return None
    return "SELECT max(time_end - time_eligible) FROM job"


#: The filter fields that select by an index of their own (a user's, an account's jobs...).
_NARROWING = (
    "selectors", "states", "uids", "user_names", "accounts", "names", "gids", "group_names",
    "partitions", "qos", "wckeys", "reasons", "constraints", "job_flags", "timelimit_min",
    "nnodes", "ncpus", "nodes", "visible",
)  # fmt: skip
#: Share of the store's eligible-time range above which a listing reads "most of the store".
MOST_OF_THE_STORE = 0.4
#: The store's eligible-time range (two probes of the eligible index): ``(low, high)``.
#: One subquery each: SQLite reads a lone min() or max() of an indexed column from an end
#: of the index, but both in one SELECT by scanning all of it (73 ms on a million jobs, a
#: quarter of a day's -X; the two probes: under 0.1 ms).
ELIGIBLE_RANGE_SQL = (
    "SELECT (SELECT min(time_eligible) FROM job), (SELECT max(time_eligible) FROM job)"
)


def plain_listing(f: Any) -> bool:
    """True for a window listing with no filter that has an index of its own (``-a -S -E``,
    ``-M``): the reads whose plan depends on how much of the store the window covers."""
    return not any(getattr(f, name, None) for name in _NARROWING)


def covers_most(low_bound: int, end: int, low: int | None, high: int | None) -> bool:
    """Whether eligible times in ``[low_bound, end)`` cover :data:`MOST_OF_THE_STORE` of the
    store's range ``[low, high]`` (:data:`ELIGIBLE_RANGE_SQL`)."""
    if low is None or high is None or high <= low:
        return False
    return min(end, high) - max(low_bound, low) >= MOST_OF_THE_STORE * (high - low)


def order_sql(q: Sql, key_columns: bool = False) -> str:
    """§4.8: ascending submit time, then array job id, array task id, job id (then the pk).

    ``key_columns``: the array ids' order keys are read from MariaDB's generated columns
    (:data:`jobacct.migrate.ORDER_KEY_COLUMNS`, where the statement walks
    ``ix_job_sacct_order``), not computed.
    """
    c = q.col
    if key_columns:
        array_job, array_task = (c("job", name) for name in ORDER_KEY_COLUMNS)
    else:
        array_job = f"coalesce({c('job', 'array_job_id')}, 0)"
        array_task = f"coalesce({c('job', 'array_task_id')}, 0)"
    job_id, pk = c("job", "job_id_raw"), c("job", "id")
    return f"{c('job', 'time_submit')}, {array_job}, {array_task}, {job_id}, {pk}"


def step_join_sql(q: Sql, start: int, end: int) -> str:
    """The steps that ran during the window (slurmdbd's step query): started by its end,
    not ended before its start; for ``step`` joined on ``step.job_pk``."""
    s_start, s_end = q.col("step", "time_start"), q.col("step", "time_end")
    return (
        f"({s_start} IS NULL OR {s_start} <= {q.p(end)})"
        f" AND ({s_end} IS NULL OR {s_end} >= {q.p(start)})"
    )


def step_order_sql(q: Sql) -> str:
    """Steps of one job in step id order (batch, extern, then 0, 1...; het components)."""
    return f"{q.col('step', 'step_id')}, {q.col('step', 'step_het_component')}"


def select_list(q: Sql, table: str, columns: Sequence[str], prefix: str = "") -> str:
    """``table."a", table."b" AS "s_b"...`` for the select list."""
    return _select_list(q.quote, table, tuple(columns), prefix)


@lru_cache(maxsize=256)
def _select_list(quote: str, table: str, columns: tuple[str, ...], prefix: str) -> str:
    # Made once per set of columns: the daemon answers thousands of lookups with a few sets.
    q = Sql(quote)
    if not prefix:
        return ", ".join(q.col(table, name) for name in columns)
    return ", ".join(f"{q.col(table, name)} AS {quote}{prefix}{name}{quote}" for name in columns)


def submit_range_sql(q: Sql, submit_range: tuple[int | None, int | None] | None) -> str:
    """`` AND``-ed conditions keeping the jobs submitted in ``[low, high)`` (None: open
    side; no range: ``""``): a slice of a shared read (jobacct.splitread)."""
    if submit_range is None:
        return ""
    low, high = submit_range
    submit = q.col("job", "time_submit")
    return (f" AND {submit} >= {q.p(low)}" if low is not None else "") + (
        f" AND {submit} < {q.p(high)}" if high is not None else ""
    )


def joined_lines_sql(
    f: Any,
    start: int,
    end: int,
    job_columns: Sequence[str],
    step_columns: Sequence[str],
    dialect: str = "sqlite",
    job_source: str = "job",
    submit_range: tuple[int | None, int | None] | None = None,
    key_columns: bool = False,
) -> tuple[str, dict[str, Any]]:
    """One statement for job and step lines: ``job LEFT JOIN step`` in sacct's order.

    Step columns are labelled ``s_<name>``; with ``f.allocations_only`` there are none and
    no join. ``job_source`` is what ``FROM`` names for ``job`` (an index hint may follow the
    name); ``submit_range``: a read without steps only (:func:`submit_range_sql`);
    ``key_columns``: as :func:`order_sql` takes it. Returns the SQL text and its parameters.
    """
    q = Sql(quote_char(dialect))
    cols = select_list(q, "job", job_columns)
    if f.allocations_only or not step_columns:
        where = where_sql(q, f, start, end) + submit_range_sql(q, submit_range)
        order = order_sql(q, key_columns)
        return f"SELECT {cols} FROM {job_source} WHERE {where} ORDER BY {order}", q.params
    steps = select_list(q, "step", step_columns, prefix="s_")
    join = step_join_sql(q, start, end)
    where = where_sql(q, f, start, end)
    sql = (
        f"SELECT {cols}, {steps} FROM {job_source} LEFT OUTER JOIN step"
        f" ON {q.col('step', 'job_pk')} = {q.col('job', 'id')} AND {join}"
        f" WHERE {where} ORDER BY {order_sql(q, key_columns)}, {step_order_sql(q)}"
    )
    return sql, q.params
