"""The one bulk write path of the importers: a chunk of job records with their steps, written
in one transaction by set-based statements, with the row-by-row importer's exact semantics.

A chunk is a list of :class:`JobEntry` (a job's key, the columns an import read for it, its
steps). :meth:`BulkWriter.write` stores it the way ``store.upsert_job`` / ``store.upsert_step``
/ ``store.set_derived_from_record`` / ``store.refresh_derived`` store one record at a time:

* a new record gets the model's column defaults, then the importer's defaults, then its values;
  an existing one changes only the columns the import read (everything else, a user's
  annotation included, is kept);
* the computed DerivedExitCode is Slurm's rule over every stored step of the job (those
  already in the store and those of the chunk); DerivedExitCode itself follows it unless a
  user annotated the job, or is the record's own value when the import read one;
* the counts (seen, new or changed) are the row-by-row importer's.

How, per chunk: one read of the chunk's existing jobs (and of the steps of those that exist),
the merge in Python, then only the rows that are new or differ are written, by
:mod:`jobacct.bulksql` (SQLite ``INSERT ... ON CONFLICT``, PostgreSQL ``COPY`` into a staging
table + ``INSERT ... ON CONFLICT``, MariaDB multi-row ``INSERT ... ON DUPLICATE KEY UPDATE``).
No ORM objects; memory is bounded by the chunk. A chunk that fails writes nothing (the
transaction rolls back) and earlier chunks stay committed, so a re-run after a kill or an
error finds them unchanged and completes the rest exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from jobacct import bulksql, superseded
from jobacct.config import write_engine
from jobacct.errors import ImportFormatError
from jobacct.exitcode import ExitCode, derive_exit_code
from jobacct.model import Job, Step
from jobacct.store import counts_for_derived

__all__ = ["BulkWriter", "ChunkResult", "JobEntry", "StepEntry"]

#: Derived-exit-code modes of a :class:`JobEntry` whose import read no DerivedExitCode:
#: recompute it when any of its steps changed (slurmdbd), or only when a step that counts
#: toward it changed (sacct).
REFRESH_ANY = "any"
REFRESH_COUNTED = "counted"


@dataclass(slots=True)
class StepEntry:
    """One step of a :class:`JobEntry`: its key within the job and the columns read."""

    step_id: int
    step_het_component: int | None
    values: dict[str, Any]
    line: int = 0


@dataclass(slots=True)
class JobEntry:
    """A job record to store, keyed by (cluster, JobIDRaw, Submit).

    ``values`` are the job columns the import read; ``None`` means the job is not in this
    input and must already be stored (its steps attach to it, its columns are left alone).
    ``derived`` is a DerivedExitCode read from Slurm's own record (``None``: not read, then
    ``refresh`` says when it is recomputed from the steps). ``where`` names the input line
    for error messages.
    """

    cluster: str
    job_id_raw: int
    time_submit: int
    values: dict[str, Any] | None
    steps: list[StepEntry] = field(default_factory=list)
    derived: ExitCode | None = None
    refresh: str = REFRESH_ANY
    where: str = ""
    #: A new record needs these columns (sacct: UID); missing ones are an input error.
    required_on_insert: tuple[str, ...] = ()


@dataclass
class ChunkResult:
    """Counts of one write (same meaning as :class:`jobacct.importer.ImportResult`)."""

    jobs_seen: int = 0
    steps_seen: int = 0
    jobs_changed: int = 0
    steps_changed: int = 0

    def add(self, other: ChunkResult) -> None:
        """Add another chunk's counts to these."""
        self.jobs_seen += other.jobs_seen
        self.steps_seen += other.steps_seen
        self.jobs_changed += other.jobs_changed
        self.steps_changed += other.steps_changed


def _scalar_defaults(columns: Iterable[Any]) -> dict[str, Any]:
    return {
        c.name: c.default.arg
        for c in columns
        if c.default is not None and getattr(c.default, "is_scalar", False)
    }


#: Column names in table order, the surrogate id left out.
JOB_COLUMNS: tuple[str, ...] = tuple(c.name for c in Job.__table__.columns if c.name != "id")
STEP_COLUMNS: tuple[str, ...] = tuple(c.name for c in Step.__table__.columns if c.name != "id")
#: What the ORM fills in on insert when a column is not given (``mapped_column(default=)``).
JOB_MODEL_DEFAULTS = _scalar_defaults(Job.__table__.columns)
STEP_MODEL_DEFAULTS = _scalar_defaults(Step.__table__.columns)
_JOB_BLANK = {**dict.fromkeys(JOB_COLUMNS), **JOB_MODEL_DEFAULTS}
_STEP_BLANK = {**dict.fromkeys(STEP_COLUMNS), **STEP_MODEL_DEFAULTS}
_DERIVED = ("derived_exit_code", "derived_exit_signal", "derived_annotated")


def _exit_of(code: int | None, signal: int | None) -> ExitCode | None:
    if code is None and signal is None:
        return None
    return ExitCode(code or 0, signal or 0)


def computed_derived(steps: Iterable[Mapping[str, Any]]) -> ExitCode:
    """``store.computed_derived`` over step rows given as column dicts."""
    counted = sorted(
        (s for s in steps if counts_for_derived(s["step_id"])),
        key=lambda s: (s["time_end"] is None, s["time_end"] or 0, s["step_id"]),
    )
    return derive_exit_code(_exit_of(s["exit_code"], s["exit_signal"]) for s in counted)


class BulkWriter:
    """Writes chunks of :class:`JobEntry` to one store, each chunk in its own transaction.

    ``job_defaults`` / ``step_defaults`` fill columns missing from a new record's values
    (after the model's own defaults), as the row-by-row importers' ``_JOB_DEFAULTS``.
    """

    def __init__(
        self,
        engine: Engine,
        job_defaults: Mapping[str, Any] | None = None,
        step_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self.engine = write_engine(engine)
        self.sql = bulksql.for_dialect(engine.dialect)
        self.job_blank = {**_JOB_BLANK, **(job_defaults or {})}
        self.step_blank = {**_STEP_BLANK, **(step_defaults or {})}

    def write(self, entries: list[JobEntry], extra: Any = None) -> ChunkResult:
        """Store one chunk in one transaction; returns its counts.

        ``extra``, if given, is called with the open SQLAlchemy connection before the commit
        (the importers record their progress watermark there, in the same transaction).

        Raises:
            ImportFormatError: a step names a job that is in neither the chunk nor the store,
                or a new record lacks a required column. Nothing of the chunk is written.
            sqlalchemy.exc.SQLAlchemyError: the database refused a write (rolled back).
        """
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            with self.engine.begin() as conn:
                result = self._write(conn, entries)
                if extra is not None:
                    extra(conn)
        except dbapi_error as exc:
            # The bulk statements talk to the driver directly: give its errors SQLAlchemy's
            # shape (IntegrityError, OperationalError...), which the CLI reports in one line.
            raise DBAPIError.instance(None, None, exc, dbapi_error) from exc
        return result

    # ------------------------------------------------------------------ the merge

    def _write(self, conn: Any, entries: list[JobEntry]) -> ChunkResult:
        sql = self.sql
        result = ChunkResult()
        existing = sql.find_jobs(conn, [(e.cluster, e.job_id_raw) for e in entries])
        old_steps = sql.find_steps(
            conn,
            [
                existing[key]["id"]
                for e in entries
                if (key := (e.cluster, e.job_id_raw, e.time_submit)) in existing
            ],
        )
        job_rows: list[dict[str, Any]] = []  # full rows to upsert by key
        new_steps_of: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
        changed_steps: list[dict[str, Any]] = []
        changed_ids: set[int] = set()
        errors: list[str] = []
        written_keys: set[tuple[str, int, int]] = set()
        for entry in entries:
            key = (entry.cluster, entry.job_id_raw, entry.time_submit)
            old = existing.get(key)
            if entry.values is not None:
                result.jobs_seen += 1
            if old is None:
                if entry.values is None:
                    errors.append(
                        f"{entry.where}: step of job {entry.job_id_raw}, which is in neither"
                        " the file nor the store"
                    )
                    continue
                missing = [c for c in entry.required_on_insert if c not in entry.values]
                if missing:
                    errors.append(
                        f"{entry.where}: a new job record needs the {', '.join(missing)} field"
                    )
                    continue
                row = {**self.job_blank, **entry.values}
                entry.values = row  # the entry's own dict is not needed twice (memory)
                row["cluster"], row["job_id_raw"], row["time_submit"] = key
                before = None
                job_changed = True
                stored_steps: dict[tuple[int, int | None], dict[str, Any]] = {}
            else:
                row = dict(old)
                job_changed = False
                for column, value in (entry.values or {}).items():
                    if row[column] != value:
                        row[column] = value
                        job_changed = True
                before = old
                stored_steps = {
                    (s["step_id"], s["step_het_component"]): s for s in old_steps.get(old["id"], [])
                }
            steps_changed = counted_changed = False
            for step in entry.steps:
                result.steps_seen += 1
                skey = (step.step_id, step.step_het_component)
                srow = stored_steps.get(skey)
                if srow is None:
                    srow = {**self.step_blank, **step.values}
                    step.values = srow
                    srow["step_id"], srow["step_het_component"] = skey
                    stored_steps[skey] = srow
                    new_steps_of.setdefault(key, []).append(srow)
                    changed = True
                else:
                    # A stored step (a dict of this chunk's read) or one met earlier in the
                    # chunk: changed in place, as the ORM assigns to the same object.
                    changed = False
                    for column, value in step.values.items():
                        if srow[column] != value:
                            srow[column] = value
                            changed = True
                    if changed and "id" in srow and srow["id"] not in changed_ids:
                        changed_ids.add(srow["id"])
                        changed_steps.append(srow)
                if changed:
                    result.steps_changed += 1
                    steps_changed = True
                    counted_changed = counted_changed or counts_for_derived(step.step_id)
            derived_before = tuple(row[c] for c in _DERIVED)
            refresh = steps_changed if entry.refresh == REFRESH_ANY else counted_changed
            if entry.derived is not None or refresh:
                computed = computed_derived(stored_steps.values())
                row["computed_exit_code"], row["computed_exit_signal"] = (
                    computed.code,
                    computed.signal,
                )
                if entry.derived is not None:
                    row["derived_exit_code"] = entry.derived.code
                    row["derived_exit_signal"] = entry.derived.signal
                    row["derived_annotated"] = bool(stored_steps) and computed != entry.derived
                elif not row["derived_annotated"]:
                    row["derived_exit_code"], row["derived_exit_signal"] = (
                        computed.code,
                        computed.signal,
                    )
            if entry.values is not None and (
                job_changed or derived_before != tuple(row[c] for c in _DERIVED)
            ):
                # A job met only through its steps is not counted (the row-by-row importers
                # count the steps, and the job row where the input has it).
                result.jobs_changed += 1
            if before is None or any(row[c] != before[c] for c in JOB_COLUMNS):
                if key in written_keys:
                    errors.append(
                        f"{entry.where}: job {key[1]} submitted at {key[2]} appears twice"
                        " in one chunk"
                    )
                    continue
                written_keys.add(key)
                job_rows.append(row)
        if errors:
            raise ImportFormatError(_listed(errors))
        # ------------------------------------------------------------------ the writes
        if job_rows:
            sql.upsert_jobs(conn, job_rows)
            superseded.refresh(conn.connection, conn.dialect.name, _reused_ids(job_rows, existing))
        if new_steps_of:
            ids = {k: v["id"] for k, v in existing.items()}
            missing_ids = [k for k in new_steps_of if k not in ids]
            if missing_ids:
                found = sql.find_jobs(conn, [(k[0], k[1]) for k in missing_ids], id_only=True)
                ids.update({k: v["id"] for k, v in found.items()})
            new_steps: list[dict[str, Any]] = []
            for key, rows in new_steps_of.items():
                job_pk = ids[key]
                for srow in rows:
                    srow["job_pk"] = job_pk
                    new_steps.append(srow)
            sql.insert_steps(conn, new_steps)
        if changed_steps:
            sql.update_steps(conn, changed_steps)
        return result


def _reused_ids(
    rows: list[dict[str, Any]], existing: Mapping[tuple[str, int, int], Any]
) -> set[tuple[str, int]]:
    """The (cluster, JobIDRaw) of written rows that have other records: only those can be
    superseded or supersede (``existing`` holds every stored record of the chunk's ids)."""
    records: dict[tuple[str, int], set[int]] = {}
    for cluster, job_id, submit in existing:
        records.setdefault((cluster, job_id), set()).add(submit)
    for row in rows:
        records.setdefault((row["cluster"], row["job_id_raw"]), set()).add(row["time_submit"])
    return {key for row in rows if len(records[key := (row["cluster"], row["job_id_raw"])]) > 1}


def _listed(errors: list[str], limit: int = 50) -> str:
    shown = "\n".join("  " + e for e in errors[:limit])
    more = f"\n  (and {len(errors) - limit} more)" if len(errors) > limit else ""
    return f"{len(errors)} records cannot be stored\n{shown}{more}"
