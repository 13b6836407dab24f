"""Applying batches of controller events to the store: idempotent, order-free, one transaction.

``apply(engine_or_session, events)`` is the Python transport; ``jobacct shim ingest`` and
``jobacct shim jobcomp`` call it. A batch is applied in one transaction: every event of it is
journaled (``event`` table, with the time it was received) and its effects written, or, when
one event is refused, nothing at all and a :class:`ShimEventError` names the event (its
position and idempotency key) and why.

How a batch is applied (tracker issue 5, docs/events.md):

1. Events are validated (``events.adapter``). Events whose idempotency key is already in the
   journal, or twice in the batch, are duplicates: skipped, counted, not journaled again. The
   same key with a *different* event is refused (the controller never reuses a sequence).
2. Lifecycle events (submit/start/step/end) are folded per job with every event already
   journaled for that job (``fold.fold``), and only the columns whose folded value changed are
   written, so a user's DerivedExitCode annotation, or a cancel written by a signal event,
   is kept until an event that owns the column changes it. A job record is created on first
   sight of any lifecycle event of its key.
3. Signal and checkpoint events are requests: they go to ``jobacct.signal.apply_kill`` and
   ``jobacct.checkpoint.apply_checkpoint`` and are answered against the record as it stands,
   after the job's lifecycle events with a lower ``seq`` in the same batch. A refusal fails
   the batch, except ``ESLURM_ALREADY_DONE`` (a second cancel is normal), which is journaled
   with that result and changes no record.

Concurrency (issue 5 item 6): on SQLite the transaction begins IMMEDIATE (one writer at a
time, busy timeout); on PostgreSQL/MariaDB the batch's existing job rows are locked
``FOR UPDATE`` (READ COMMITTED) before the journal is read, and the unique keys of the
journal and of job records catch two writers inserting the same thing at once: the losing
transaction is rolled back and the whole batch retried, and on the retry the winner's events
are duplicates ("already applied"), not errors. ``database is locked`` and deadlocks are
retried the same way.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, cast

from pydantic import BaseModel, ValidationError
from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from jobacct import superseded
from jobacct.config import write_engine
from jobacct.errors import JobAcctError
from jobacct.model import Event, Job, Step
from jobacct.shim.events import (
    LIFECYCLE_TYPES,
    Checkpoint,
    JobEnd,
    JobStart,
    JobSubmit,
    Signal,
    StepEnd,
    StepStart,
    adapter,
)
from jobacct.shim.fold import (
    ANNOTATED_COLUMNS,
    JOB_COLUMNS,
    JOB_PLACEHOLDER,
    STEP_COLUMNS,
    Folded,
    LifecycleEvent,
    StepKey,
    fold,
)
from jobacct.slurm_errno import SlurmErrno, SlurmError

AnyEvent = JobSubmit | JobStart | StepStart | StepEnd | JobEnd | Signal | Checkpoint
JobKey = tuple[str, int, int]
#: Keys per ``IN`` list: below SQLite's 32766 bound parameters with 3 per key.
_CHUNK = 2000
#: Attempts of one batch when concurrent writers collide (module docstring).
MAX_ATTEMPTS = 30

_JOB = cast(Table, Job.__table__)
_STEP = cast(Table, Step.__table__)
_EVENT = cast(Table, Event.__table__)


class ShimEventError(JobAcctError):
    """An event that cannot be applied; nothing of its batch was written.

    ``str()`` is one line: ``event <where> [<cluster>/<JobIDRaw>/<Submit>/seq <seq>]: why``.
    Attributes: ``where`` (position, e.g. ``#3`` or ``events.jsonl:3``), ``key`` (the
    idempotency key, or None when the event is too broken to have one), ``reason``.
    """

    def __init__(self, where: str, key: tuple[Any, ...] | None, reason: str) -> None:
        self.where, self.key, self.reason = where, key, reason
        shown = f" [{key[0]}/{key[1]}/{key[2]}/seq {key[3]}]" if key else ""
        super().__init__(f"event {where}{shown}: {reason}")


class ShimDatabaseError(JobAcctError):
    """A batch still collided with other writers after every retry (nothing was written)."""


@dataclass(frozen=True)
class Incoming:
    """A validated event with where it came from and its journaled JSON text."""

    event: AnyEvent
    where: str
    payload: str


@dataclass
class ApplySummary:
    """What applying a batch did (counts of events and of records written)."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    #: Requests journaled with ESLURM_ALREADY_DONE (applied, no record changed).
    already_done: int = 0
    jobs_written: int = 0
    steps_written: int = 0
    attempts: int = 1

    def add(self, other: ApplySummary) -> None:
        """Add another batch's counts to these."""
        for name in ("received", "applied", "duplicates", "already_done"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.jobs_written += other.jobs_written
        self.steps_written += other.steps_written


def _partial_key(data: Any) -> tuple[Any, ...] | None:
    if not isinstance(data, dict):
        return None
    names = ("cluster", "job_id_raw", "submit", "seq")
    return tuple(data.get(n) for n in names) if all(n in data for n in names) else None


def _explain(exc: ValidationError) -> str:
    error = exc.errors()[0]
    if error["type"] == "union_tag_invalid":
        return (
            f"unknown event type {error['input'].get('type')!r}"
            if isinstance(error["input"], dict)
            else "unknown event type"
        )
    if error["type"] == "union_tag_not_found":
        return "missing field 'type'"
    loc = ".".join(str(part) for part in error["loc"][1:]) or "event"
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    if error["type"] == "missing":
        return f"missing field '{loc}'{more}"
    return f"{loc}: {error['msg']}{more}"


def parse_event(item: AnyEvent | Mapping[str, Any] | str, where: str) -> Incoming:
    """Validate one event given as a model, a dict or JSON text.

    Raises:
        ShimEventError: naming ``where`` and, when it can be read, the event's key.
    """
    if isinstance(item, str):
        try:
            return Incoming(adapter().validate_json(item), where, item.strip())
        except ValidationError:
            pass  # explained below
    elif isinstance(item, BaseModel):
        return Incoming(item, where, item.model_dump_json(by_alias=True, exclude_none=True))
    try:
        if isinstance(item, str):
            event = adapter().validate_json(item)
            return Incoming(event, where, item.strip())
        event = adapter().validate_python(dict(item))
        return Incoming(event, where, json.dumps(dict(item), separators=(",", ":")))
    except RecursionError:
        raise ShimEventError(where, None, "JSON nested too deeply") from None
    except ValidationError as exc:
        data: Any = item
        if isinstance(item, str):
            try:
                data = json.loads(item)
            except RecursionError:
                raise ShimEventError(where, None, "JSON nested too deeply") from None
            except ValueError:
                raise ShimEventError(where, None, "not a JSON object") from None
        if not isinstance(data, dict):
            raise ShimEventError(where, None, "not a JSON object") from None
        raise ShimEventError(where, _partial_key(data), _explain(exc)) from None


def parse_events(
    items: Iterable[AnyEvent | Mapping[str, Any] | str], first: int = 1
) -> Iterator[Incoming]:
    """Validate events, labelled ``#1``, ``#2``... (their position in the batch)."""
    for number, item in enumerate(items, start=first):
        yield parse_event(item, f"#{number}")


def apply(
    target: Engine | Session,
    events: Iterable[AnyEvent | Mapping[str, Any] | str | Incoming],
) -> ApplySummary:
    """Apply one batch of events in one transaction; returns what it did.

    ``target``: an Engine (the batch gets its own transaction, retried on write collisions,
    module docstring) or a Session inside the caller's transaction (no retry: the caller owns
    the transaction). Events may be models, dicts, JSON text, or :class:`Incoming`.

    Raises:
        ShimEventError: an event is invalid, conflicts with a journaled one, or its request
            was refused (e.g. ``ESLURM_ACCESS_DENIED``, ``ESLURM_INVALID_JOB_ID``).
        ShimDatabaseError: the batch kept colliding with other writers.
    """
    batch = [
        item if isinstance(item, Incoming) else parse_event(item, f"#{number}")
        for number, item in enumerate(events, start=1)
    ]
    if isinstance(target, Session):
        return apply_batch(target, batch)
    engine = shim_engine(target)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with Session(engine) as session, session.begin():
                summary = apply_batch(session, batch)
            summary.attempts = attempt
            return summary
        except (IntegrityError, OperationalError, DBAPIError) as exc:
            if not retryable(exc):
                raise
            if attempt == MAX_ATTEMPTS:
                raise ShimDatabaseError(
                    f"batch of {len(batch)} events still collides with other writers after"
                    f" {attempt} attempts: {str(exc.orig).strip().splitlines()[0]}"
                ) from exc
            time.sleep(min(0.5, 0.01 * attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def shim_engine(engine: Engine) -> Engine:
    """The engine options the shim writes with: SQLite BEGIN IMMEDIATE, servers READ COMMITTED.

    READ COMMITTED makes MariaDB (default REPEATABLE READ) read the journal as committed after
    a row lock was granted, as PostgreSQL does by default.
    """
    if engine.dialect.name == "sqlite":
        return write_engine(engine)
    return engine.execution_options(isolation_level="READ COMMITTED")


def retryable(exc: DBAPIError) -> bool:
    """True for write collisions between concurrent writers: duplicate keys, locks, deadlocks."""
    if isinstance(exc, IntegrityError):
        return True
    orig = exc.orig
    code = getattr(orig, "sqlstate", None)
    if code in ("40001", "40P01", "55P03"):
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in (1205, 1213):  # MySQL/MariaDB lock wait timeout, deadlock
        return True
    text = str(orig).lower()
    return any(word in text for word in ("database is locked", "deadlock", "database is busy"))


# ------------------------------------------------------------------------- one batch


@dataclass
class _JobState:
    """One job key within a batch: what is journaled, what is new, and its record id."""

    key: JobKey
    journaled: dict[int, AnyEvent] = field(default_factory=dict)
    new: list[Incoming] = field(default_factory=list)
    job_id: int | None = None
    annotated: bool = False
    existed: bool = False
    step_ids: dict[StepKey, int] | None = None
    applied_lifecycle: list[LifecycleEvent] = field(default_factory=list)


def apply_batch(session: Session, batch: Sequence[Incoming]) -> ApplySummary:
    """Apply validated events inside the caller's transaction (module docstring).

    Raises:
        ShimEventError: see :func:`apply`.
    """
    summary = ApplySummary(received=len(batch))
    received = time.time()
    jobs: dict[JobKey, _JobState] = {}
    seen: dict[tuple[Any, ...], Incoming] = {}
    for item in batch:
        event_key = item.event.key
        if event_key in seen:
            _same_or_conflict(item, seen[event_key].event, seen[event_key].where)
            summary.duplicates += 1
            continue
        seen[event_key] = item
        job_key = item.event.job_key
        jobs.setdefault(job_key, _JobState(job_key)).new.append(item)
    if not jobs:
        return summary
    if session.get_bind().dialect.name == "sqlite":
        # A bigger page cache for this connection: a batch touches the B-trees of a dozen
        # indexes of the job table; the default 2 MiB cache makes that re-read pages.
        session.connection().exec_driver_sql("PRAGMA cache_size=-65536")
    _load_jobs(session, jobs)
    _load_journal(session, jobs)
    journal: list[tuple[Any, ...]] = []
    rounds: dict[JobKey, list[list[Incoming]]] = {}
    depth = 1
    for state in jobs.values():
        fresh: list[Incoming] = []
        journaled = state.journaled
        for item in state.new:
            old = journaled.get(item.event.seq) if journaled else None
            if old is not None:
                _same_or_conflict(item, old, "already journaled")
                summary.duplicates += 1
            else:
                fresh.append(item)
        fresh.sort(key=_by_seq)
        state.applied_lifecycle = _lifecycle(journaled.values()) if journaled else []
        if all(item.event.type in LIFECYCLE_TYPES for item in fresh):
            rounds[state.key] = [fresh]
            continue
        # Segments: lifecycle events up to and including each request, in seq order.
        segments: list[list[Incoming]] = [[]]
        for item in fresh:
            segments[-1].append(item)
            if item.event.type not in LIFECYCLE_TYPES:
                segments.append([])
        rounds[state.key] = segments
        depth = max(depth, len(segments))
    for index in range(depth):
        lifecycle: dict[JobKey, list[Incoming]] = {}
        requests: list[Incoming] = []
        for key, segments in rounds.items():
            if index >= len(segments) or not segments[index]:
                continue
            segment = segments[index]
            if segment[-1].event.type in LIFECYCLE_TYPES:
                lifecycle[key] = segment
            else:
                requests.append(segment[-1])
                if len(segment) > 1:
                    lifecycle[key] = segment[:-1]
        if lifecycle:
            _write_lifecycle(session, jobs, lifecycle, summary)
            for items in lifecycle.values():
                journal.extend(_journal_row(item, received, "SUCCESS") for item in items)
                summary.applied += len(items)
        if requests:
            session.flush()
            session.expire_all()
            for item in requests:
                result = _apply_request(session, item)
                journal.append(_journal_row(item, received, result))
                summary.applied += 1
                if result == SlurmErrno.ESLURM_ALREADY_DONE.name:
                    summary.already_done += 1
            session.flush()
    if journal:
        _insert_many(session.connection(), "event", _EVENT_INSERT, journal)
    return summary


def _by_seq(item: Incoming) -> int:
    return item.event.seq


def _lifecycle(events: Iterable[AnyEvent]) -> list[LifecycleEvent]:
    return [e for e in events if not isinstance(e, Signal | Checkpoint)]


def _same_or_conflict(item: Incoming, other: AnyEvent, other_where: str) -> None:
    if item.event != other:
        raise ShimEventError(
            item.where,
            item.event.key,
            f"conflicts with a different event under the same key ({other_where});"
            " a sequence number may be used once per job",
        )


_JOB_KEY = ("cluster", "job_id_raw", "time_submit")
#: Every column the fold may set, with the placeholder (or NULL) of a new record.
_JOB_DEFAULTS: dict[str, Any] = {c: JOB_PLACEHOLDER.get(c) for c in JOB_COLUMNS}
_STEP_PICK = itemgetter(*STEP_COLUMNS)
_EVENT_INSERT = (*_JOB_KEY, "seq", "kind", "payload", "received", "result")
_STEP_INSERT = ("job_pk", "step_id", "step_het_component", "time_suspended", *STEP_COLUMNS)


def _journal_row(item: Incoming, received: float, result: str) -> tuple[Any, ...]:
    event = item.event
    return (*event.key, event.type, item.payload, received, result)


def _insert_many(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """One ``executemany`` of positional rows through the DBAPI driver.

    The shim's hot path: SQLAlchemy Core's per-row parameter processing costs about 3x the
    insert itself (bench/SHIM_RESULTS.md, reference performance.md), and these columns need no
    type processing (ints, strings, floats, booleans, None).
    """
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)})"
        f" VALUES ({', '.join(mark for _ in columns)})"
    )
    conn.exec_driver_sql(sql, list(rows))


def _find_ids(conn: Connection, jobs: dict[JobKey, _JobState], keys: list[JobKey]) -> None:
    for stmt in _by_key(_JOB, [_JOB.c.id], keys):
        for row in conn.execute(stmt):
            state = jobs.get((row.cluster, row.job_id_raw, row.time_submit))
            if state is not None:
                state.job_id = row.id


def _by_key(table: Table, columns: list[Any], keys: Sequence[JobKey]) -> Iterator[Any]:
    """SELECTs of ``columns`` (plus the job key) of the rows whose job key is in ``keys``.

    One ``cluster = ? AND job_id_raw IN (...)`` per cluster and chunk: both the job table's
    unique key and the journal's start with (cluster, job_id_raw), and a one-column IN list
    compiles and plans far faster than a tuple IN (the caller drops rows of other submits).
    """
    by_cluster: dict[str, list[int]] = defaultdict(list)
    for cluster, job_id_raw, _submit in keys:
        by_cluster[cluster].append(job_id_raw)
    for cluster, ids in sorted(by_cluster.items()):
        unique = sorted(set(ids))
        for start in range(0, len(unique), _CHUNK):
            yield select(*columns, table.c.cluster, table.c.job_id_raw, table.c.time_submit).where(
                table.c.cluster == cluster,
                table.c.job_id_raw.in_(unique[start : start + _CHUNK]),
            )


def _load_jobs(session: Session, jobs: dict[JobKey, _JobState]) -> None:
    """Find (and on servers lock, in id order) the existing records of the batch's jobs."""
    conn = session.connection()
    columns = [_JOB.c.id, _JOB.c.derived_annotated]
    for stmt in _by_key(_JOB, columns, sorted(jobs)):
        for row in conn.execute(stmt.order_by(_JOB.c.id).with_for_update()):
            state = jobs.get((row.cluster, row.job_id_raw, row.time_submit))
            if state is not None:
                state.job_id, state.existed = row.id, True
                state.annotated = bool(row.derived_annotated)


def _load_journal(session: Session, jobs: dict[JobKey, _JobState]) -> None:
    """Read the journaled events of the batch's jobs (also of a record deleted since)."""
    keys = sorted(jobs)
    conn = session.connection()
    validate = adapter().validate_json
    for stmt in _by_key(_EVENT, [_EVENT.c.payload], keys):
        for row in conn.execute(stmt):
            state = jobs.get((row.cluster, row.job_id_raw, row.time_submit))
            if state is not None:
                event = validate(row.payload)
                state.journaled[event.seq] = event


def _load_steps(session: Session, states: list[_JobState]) -> None:
    """The step ids of records that existed before this batch (imported ones included)."""
    conn = session.connection()
    by_id = {s.job_id: s for s in states}
    for s in states:
        s.step_ids = {}
    ids = sorted(i for i in by_id if i is not None)
    for start in range(0, len(ids), _CHUNK):
        stmt = select(
            _STEP.c.id, _STEP.c.job_pk, _STEP.c.step_id, _STEP.c.step_het_component
        ).where(_STEP.c.job_pk.in_(ids[start : start + _CHUNK]))
        for row in conn.execute(stmt):
            steps = by_id[row.job_pk].step_ids
            assert steps is not None
            steps[(row.step_id, row.step_het_component)] = row.id


def _write_lifecycle(
    session: Session,
    jobs: dict[JobKey, _JobState],
    lifecycle: dict[JobKey, list[Incoming]],
    summary: ApplySummary,
) -> None:
    """Fold each touched job before and after its new events; write what changed."""
    conn = session.connection()
    inserts: list[tuple[_JobState, Folded]] = []
    updates: list[tuple[_JobState, Folded, Folded]] = []
    for key in sorted(lifecycle):
        state = jobs[key]
        before = fold(state.applied_lifecycle) if state.applied_lifecycle else Folded()
        state.applied_lifecycle = state.applied_lifecycle + _lifecycle(
            i.event for i in lifecycle[key]
        )
        after = fold(state.applied_lifecycle)
        if state.job_id is None:
            inserts.append((state, after))
        else:
            updates.append((state, before, after))
    if inserts:
        columns = (*_JOB_KEY, "time_suspended", "derived_annotated", *JOB_COLUMNS)
        pick = itemgetter(*JOB_COLUMNS)
        rows = [
            (*state.key, 0, False, *pick({**_JOB_DEFAULTS, **after.job}))
            for state, after in inserts
        ]
        if conn.dialect.name == "sqlite":
            # The transaction holds SQLite's write lock (BEGIN IMMEDIATE): the next ids are
            # ours, which saves reading them back.
            top = conn.execute(select(func.max(_JOB.c.id))).scalar() or 0
            for offset, (state, _after) in enumerate(inserts, start=1):
                state.job_id = top + offset
            columns = ("id", *columns)
            rows = [(state.job_id, *row) for (state, _), row in zip(inserts, rows)]
        _insert_many(conn, "job", columns, rows)
        if conn.dialect.name != "sqlite":
            _find_ids(conn, jobs, [state.key for state, _ in inserts])
        for state, _after in inserts:
            state.step_ids = {}
        summary.jobs_written += len(inserts)
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for state, before, after in updates:
        changed = {
            c: v
            for c, v in after.job.items()
            if before.job.get(c, _MISSING) != v and not (state.annotated and c in ANNOTATED_COLUMNS)
        }
        if changed:
            grouped[tuple(sorted(changed))].append({"_id": state.job_id, **changed})
            summary.jobs_written += 1
    for columns, params in grouped.items():
        values: dict[str, Any] = {c: bindparam(c) for c in columns}
        if "state" in values:
            values["state"] = _KEEP_TERMINAL_STATE
        stmt = update(_JOB).where(_JOB.c.id == bindparam("_id")).values(values)
        conn.execute(stmt, params)
    # A new record may supersede older ones (events of two runs of a job id arrive in any
    # order); a State change may make a record (not) REVOKED. jobacct/superseded.py.
    restated = {
        (state.key[0], state.key[1])
        for state, before, after in updates
        if before.job.get("state", _MISSING) != after.job.get("state", _MISSING)
    }
    superseded.refresh_session(conn, [(s.key[0], s.key[1]) for s, _a in inserts] + [*restated])
    _write_steps(
        session,
        [(s, b, a) for s, b, a in updates] + [(s, Folded(), a) for s, a in inserts],
        summary,
    )


_MISSING = object()
_UNFINISHED_STATES = ("PENDING", "RUNNING", "SUSPENDED")
#: Terminal beats running, also for a state no event wrote: a cancel applied by a signal
#: request (``jobacct.signal``) is kept when the controller's ``job_start`` (Slurm sends it
#: after a pending cancel) or a late ``job_submit`` folds to RUNNING or PENDING (tracker issue
#: 11, finding 5). Decided in the UPDATE itself, against the row as it stands.
#: (Constants as SQL literals: an expanding IN list cannot be used with executemany.)
_UNFINISHED_SQL: list[ColumnElement[str]] = [
    literal_column(f"'{name}'") for name in _UNFINISHED_STATES
]
_KEEP_TERMINAL_STATE = case(
    (
        and_(
            and_(*(_JOB.c.state != name for name in _UNFINISHED_SQL)),
            or_(*(bindparam("state", type_=String) == name for name in _UNFINISHED_SQL)),
        ),
        _JOB.c.state,
    ),
    else_=bindparam("state", type_=String),
)


def _write_steps(
    session: Session,
    folds: list[tuple[_JobState, Folded, Folded]],
    summary: ApplySummary,
) -> None:
    conn = session.connection()
    unknown = [s for s, _b, a in folds if s.step_ids is None and a.steps]
    if unknown:
        _load_steps(session, unknown)
    inserts: list[tuple[Any, ...]] = []
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    new_ids: list[tuple[_JobState, StepKey]] = []
    for state, before, after in folds:
        step_ids = state.step_ids or {}
        for step, values in after.steps.items():
            row_id = step_ids.get(step)
            if row_id is None:
                inserts.append((state.job_id, *step, 0, *_STEP_PICK(values)))
                new_ids.append((state, step))
                continue
            old = before.steps.get(step, {})
            changed = {c: v for c, v in values.items() if old.get(c, _MISSING) != v}
            if changed:
                grouped[tuple(sorted(changed))].append({"_id": row_id, **changed})
                summary.steps_written += 1
    if inserts:
        _insert_many(conn, "step", _STEP_INSERT, inserts)
        summary.steps_written += len(inserts)
        # Ids of the new steps are read again only if a later round of this batch needs them.
        for state, _step in new_ids:
            state.step_ids = None
    for columns, params in grouped.items():
        stmt = (
            update(_STEP)
            .where(_STEP.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns})
        )
        conn.execute(stmt, params)


# ------------------------------------------------------------------------- requests


def _apply_request(session: Session, item: Incoming) -> str:
    """Hand a signal or checkpoint event to its rule; returns the journal result name."""
    event = item.event
    try:
        if isinstance(event, Signal):
            try:
                from jobacct.signal import KillRequest, apply_kill
            except ImportError:
                raise ShimEventError(
                    item.where, event.key, "signal events need jobacct.signal (not installed)"
                ) from None
            apply_kill(
                session,
                KillRequest(
                    cluster=event.cluster,
                    target=event.target_text,
                    signal=event.signal_value,
                    flags=event.flags,
                    uid=event.uid,
                    time=event.time,
                    api=event.api,
                    reason=event.reason,
                    admin_comment=event.admin_comment,
                ),
            )
        elif isinstance(event, Checkpoint):
            try:
                from jobacct.checkpoint import CheckpointRequest, apply_checkpoint
            except ImportError:
                raise ShimEventError(
                    item.where,
                    event.key,
                    "checkpoint events need jobacct.checkpoint (not installed)",
                ) from None
            apply_checkpoint(
                session,
                CheckpointRequest(
                    cluster=event.cluster,
                    job_id_raw=event.job_id_raw,
                    step=event.step,
                    uid=event.uid,
                    time=event.time,
                    action=event.action,
                    error_code=event.error_code,
                    error_msg=event.error_msg,
                    task_id=event.task_id,
                ),
            )
        else:  # pragma: no cover - lifecycle events never get here
            raise AssertionError(event.type)
    except SlurmError as err:
        if err.errno == SlurmErrno.ESLURM_ALREADY_DONE:
            return err.errno.name
        raise ShimEventError(item.where, event.key, str(err)) from None
    return SlurmErrno.SLURM_SUCCESS.name.replace("SLURM_", "")
