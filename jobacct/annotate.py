"""Annotating jobs: DerivedExitCode, Comment (and, for operators, Admin/SystemComment).

Every change is checked against :mod:`jobacct.authz` for all matched jobs before anything is
written, and appended to the annotation history with the old value, the new value, who, when
and from which command. The caller's transaction commits it all or nothing; the matched rows
are locked first so concurrent annotations of one job apply one after the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct.authz import check_annotate
from jobacct.errors import UsageError
from jobacct.exitcode import ExitCode
from jobacct.jobid import format_job_id
from jobacct.model import Annotation, Job
from jobacct.textsafe import describe, first_unsafe

#: Longest Comment / AdminComment / SystemComment, in characters. slurmdbd keeps them in TEXT
#: columns (64 KiB); 4096 characters of any script fit in that in utf8mb4 as well.
MAX_COMMENT_CHARS = 4096


@dataclass(frozen=True)
class Changes:
    """The requested new values; None leaves a field as it is."""

    derived: ExitCode | None = None
    comment: str | None = None
    admin_comment: str | None = None
    system_comment: str | None = None

    def fields(self) -> set[str]:
        """The sacct names of the fields this request sets."""
        names = {
            "DerivedExitCode": self.derived,
            "Comment": self.comment,
            "AdminComment": self.admin_comment,
            "SystemComment": self.system_comment,
        }
        return {name for name, value in names.items() if value is not None}


def check_text(field: str, text: str) -> str:
    """Validate a comment: any Unicode up to MAX_COMMENT_CHARS, nothing :mod:`jobacct.textsafe`
    calls unsafe.

    NUL cannot be stored by PostgreSQL, other control characters (escape sequences, newlines)
    would be printed to terminals literally, and bidirectional overrides (U+202E) reorder what
    a reader sees, so all of them are refused.

    Raises:
        UsageError: naming the field and the first bad character.
    """
    if len(text) > MAX_COMMENT_CHARS:
        raise UsageError(f"{field} is {len(text)} characters; at most {MAX_COMMENT_CHARS}")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        # Bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape).
        raise UsageError(f"{field} is not valid UTF-8 text")
    bad = first_unsafe(text)
    if bad is not None:
        raise UsageError(
            f"{field} contains {describe(bad)}; control characters (NUL, escape, newline, ...)"
            " and bidirectional overrides are refused"
        )
    return text


def job_text(job: Job) -> str:
    """The JobID a user knows the job by."""
    return format_job_id(
        job.job_id_raw,
        job.array_job_id,
        job.array_task_id,
        job.het_job_id,
        job.het_job_offset,
        job.array_task_str,
    )


def annotate_jobs(
    session: Session, jobs: Sequence[Job], changes: Changes, uid: int, command: str, now: int
) -> int:
    """Apply ``changes`` to every job, recording history; returns how many jobs changed.

    Raises:
        AccessDeniedError: if the caller may not change any one of the jobs (then none is
            changed, as slurmdbd aborts the whole request on the first foreign job).
    """
    fields = changes.fields()
    for job in jobs:
        check_annotate(session, uid, job, fields, job_text(job))
    changed_jobs = 0
    for job in jobs:
        entries = _apply(job, changes)
        for field, old, new in entries:
            session.add(
                Annotation(
                    job_pk=job.id,
                    field=field,
                    old_value=old,
                    new_value=new,
                    uid=uid,
                    time=now,
                    command=command,
                )
            )
        changed_jobs += bool(entries)
    session.flush()
    return changed_jobs


def _apply(job: Job, changes: Changes) -> list[tuple[str, str | None, str | None]]:
    entries: list[tuple[str, str | None, str | None]] = []
    if changes.derived is not None:
        old = ExitCode(job.derived_exit_code, job.derived_exit_signal)
        # Once a user sets it, steps that report later no longer overwrite it.
        job.derived_annotated = True
        if old != changes.derived:
            job.derived_exit_code = changes.derived.code
            job.derived_exit_signal = changes.derived.signal
            entries.append(("DerivedExitCode", str(old), str(changes.derived)))
    for field, attr, value in (
        ("Comment", "comment", changes.comment),
        ("AdminComment", "admin_comment", changes.admin_comment),
        ("SystemComment", "system_comment", changes.system_comment),
    ):
        if value is None:
            continue
        new = value or None  # '' clears the field, as sacctmgr's Comment=''
        old_text = getattr(job, attr)
        if old_text != new:
            setattr(job, attr, new)
            entries.append((field, old_text, new))
    return entries


def history(session: Session, jobs: Sequence[Job]) -> list[tuple[Job, Annotation]]:
    """The annotation history of the jobs, oldest first."""
    by_pk = {job.id: job for job in jobs}
    rows = session.scalars(
        select(Annotation).where(Annotation.job_pk.in_(by_pk)).order_by(Annotation.id)
    )
    return [(by_pk[a.job_pk], a) for a in rows]
