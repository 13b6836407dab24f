"""The record store on every backend: sacct import, idempotency, DerivedExitCode upkeep."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobacct import store
from jobacct.annotate import Changes, annotate_jobs
from jobacct.config import make_engine
from jobacct.errors import ImportFormatError
from jobacct.exitcode import ExitCode
from jobacct.importer import ImportResult, import_sacct
from jobacct.model import Job, Step


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with Session(engine) as s:
        counts = (
            s.scalar(select(func.count(Job.id))) or 0,
            s.scalar(select(func.count(Step.id))) or 0,
        )
    engine.dispose()
    return counts


def _import(url: str, lines: list[str], cluster: str = "golden") -> ImportResult:
    engine = make_engine(url)
    try:
        with Session(engine) as s, s.begin():
            return import_sacct(s, lines, cluster)
    finally:
        engine.dispose()


def test_golden_import_is_idempotent(store_url: str, golden_all_lines: list[str]) -> None:
    first = _import(store_url, golden_all_lines)
    assert (first.jobs_seen, first.steps_seen) == (39, 50)
    assert _counts(store_url) == (39, 50)
    again = _import(store_url, golden_all_lines)
    assert (again.jobs_changed, again.steps_changed) == (0, 0)
    assert _counts(store_url) == (39, 50)


def test_golden_exit_codes_survive_the_store(store_url: str, golden_all_lines: list[str]) -> None:
    _import(store_url, golden_all_lines)
    engine = make_engine(store_url)
    with Session(engine) as s:
        jobs = {j.job_id_raw: j for j in s.scalars(select(Job))}
        # golden db/jobs_exit_view.tsv, decoded
        assert (jobs[2].exit_code, jobs[2].exit_signal) == (3, 0)
        assert (jobs[3].derived_exit_code, jobs[3].derived_exit_signal) == (7, 0)
        assert (jobs[8].exit_code, jobs[8].exit_signal) == (0, 9)
        assert (jobs[13].state, jobs[13].kill_requid) == ("CANCELLED", 0)
        assert (jobs[31].state, jobs[31].kill_requid) == ("CANCELLED", 1001)
        assert (jobs[36].derived_exit_code, jobs[36].derived_exit_signal) == (0, 49)
        # 36's 0:49 came from sacctmgr, not from its steps: recognised as an annotation.
        assert jobs[36].derived_annotated and not jobs[3].derived_annotated
        assert jobs[24].array_job_id == 23 and jobs[24].array_task_id == 0
        steps = store.job_steps(s, jobs[7])
        assert [(st.step_id, st.state, st.exit_code, st.exit_signal) for st in steps] == [
            (-5, "FAILED", 1, 0),
            (0, "FAILED", 2, 0),
            (1, "CANCELLED", 0, 9),
            (2, "CANCELLED", 0, 11),
        ]
    engine.dispose()


def test_bad_file_writes_nothing(store_url: str, golden_all_lines: list[str]) -> None:
    broken = list(golden_all_lines)
    broken[5] = broken[5].replace("|COMPLETED|", "|COMPLETED|extra|", 1)
    broken[8] = broken[8].replace("2026-11-22T", "2026-13-45T", 1)
    with pytest.raises(ImportFormatError) as info:
        _import(store_url, broken)
    message = str(info.value)
    assert ":6:" in message and ":9:" in message and "2026-13-45" in message
    assert _counts(store_url) == (0, 0)


def test_step_rows_attach_to_stored_job_and_refresh_derived(store_url: str) -> None:
    header = "JobID|JobIDRaw|JobName|UID|State|ExitCode|Submit|Start|End"
    _import(
        store_url,
        [
            header,
            "50|50|x|1000|COMPLETED|0:0|2026-01-01T00:00:00|"
            "2026-01-01T00:00:01|2026-01-01T00:01:00",
        ],
    )
    # Steps arriving later, without their job row, still update DerivedExitCode (§2.1).
    _import(
        store_url,
        [
            header,
            "50.0|50.0|a||FAILED|2:0|2026-01-01T00:00:02|2026-01-01T00:00:02|2026-01-01T00:00:10",
            "50.1|50.1|b||CANCELLED|0:9|2026-01-01T00:00:11|2026-01-01T00:00:11|"
            "2026-01-01T00:00:20",
        ],
    )
    engine = make_engine(store_url)
    with Session(engine) as s, s.begin():
        job = s.scalars(select(Job)).one()
        assert ExitCode(job.derived_exit_code, job.derived_exit_signal) == ExitCode(2, 0)
        # A user's annotation is kept when more steps report afterwards.
        annotate_jobs(
            s, [job], Changes(derived=ExitCode(0, 0), comment="fine after all"), 0, "test", 0
        )
    _import(
        store_url,
        [
            header,
            "50.2|50.2|c||FAILED|9:0|2026-01-01T00:00:21|2026-01-01T00:00:21|2026-01-01T00:00:30",
        ],
    )
    with Session(engine) as s:
        job = s.scalars(select(Job)).one()
        assert (job.derived_exit_code, job.derived_exit_signal, job.comment) == (
            0,
            0,
            "fine after all",
        )
    engine.dispose()


def test_orphan_step_without_job_is_refused(store_url: str) -> None:
    header = "JobID|JobIDRaw|State|ExitCode|Submit"
    with pytest.raises(ImportFormatError, match="neither the file nor the store"):
        _import(store_url, [header, "77.batch|77.batch|FAILED|1:0|2026-01-01T00:00:00"])
    assert _counts(store_url) == (0, 0)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "no header"),
        (["JobID|Bogus|Submit"], "unknown field 'Bogus'"),
        (["JobName|State"], "JobID or JobIDRaw"),
        (["JobID|State"], "needs Submit"),
    ],
)
def test_bad_headers(store_url: str, lines: list[str], message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        _import(store_url, lines)
