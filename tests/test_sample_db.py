"""The bundled sample database: at head, reproducible from sample_db/build.py, and sane."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session, selectinload

from jobacct import migrate, store
from jobacct.jobid import BATCH_STEP, EXTERN_STEP
from jobacct.model import Job, Step

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_db" / "jobacct.sqlite"
BUILD_SCRIPT = ROOT / "sample_db" / "build.py"


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sample_db_build", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def _read_only(path: Path) -> Engine:
    """An engine that cannot change the file (make_engine would switch it to WAL)."""
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


@pytest.fixture(scope="module")
def sample_engine() -> Iterator[Engine]:
    if not SAMPLE.exists():
        pytest.fail(f"{SAMPLE} is missing: run 'python sample_db/build.py'")
    engine = _read_only(SAMPLE)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def sample_jobs(sample_engine: Engine) -> list[Job]:
    with Session(sample_engine) as session:
        jobs = list(session.scalars(select(Job).options(selectinload(Job.steps))))
        session.expunge_all()
    return jobs


_JOB_COLUMNS = [c for c in Job.__table__.columns if c.name != "id"]
_STEP_COLUMNS = [c for c in Step.__table__.columns if c.name not in ("id", "job_pk")]


def _dump(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every row of job and step without surrogate keys; steps keyed by their job's key."""
    with engine.connect() as conn:
        jobs = sorted(
            (tuple(row) for row in conn.execute(select(*_JOB_COLUMNS))),
            key=repr,
        )
        steps = sorted(
            (
                tuple(row)
                for row in conn.execute(
                    select(Job.cluster, Job.job_id_raw, Job.time_submit, *_STEP_COLUMNS).join(
                        Job, Job.id == Step.job_pk
                    )
                )
            ),
            key=repr,
        )
    return jobs, steps


def test_sample_is_at_head(sample_engine: Engine) -> None:
    assert migrate.current_revision(sample_engine) == migrate.head_revision()


def test_sample_is_one_file_in_rollback_journal_mode(sample_engine: Engine) -> None:
    with sample_engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "delete"


def test_rebuild_gives_the_same_records(sample_engine: Engine, tmp_path: Path) -> None:
    rebuilt = tmp_path / "rebuilt.sqlite"
    _load_build().build(rebuilt)
    engine = _read_only(rebuilt)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        new_jobs, new_steps = _dump(engine)
    finally:
        engine.dispose()
    old_jobs, old_steps = _dump(sample_engine)
    assert len(new_jobs) == len(old_jobs)
    assert len(new_steps) == len(old_steps)
    assert new_jobs == old_jobs
    assert new_steps == old_steps


def test_failed_batch_step_gives_the_job_its_exit_code(sample_jobs: list[Job]) -> None:
    checked = 0
    for job in sample_jobs:
        for step in job.steps:
            if step.step_id == BATCH_STEP and step.state == "FAILED":
                checked += 1
                assert (job.exit_code, job.exit_signal) == (step.exit_code, step.exit_signal), (
                    job.cluster,
                    job.job_id_raw,
                )
    assert checked > 100


def test_derived_exit_code_follows_the_steps_unless_annotated(sample_jobs: list[Job]) -> None:
    annotated = 0
    for job in sample_jobs:
        computed = store.computed_derived(job.steps)
        assert (job.computed_exit_code, job.computed_exit_signal) == (
            computed.code,
            computed.signal,
        ), (job.cluster, job.job_id_raw)
        if job.derived_annotated:
            annotated += 1
            continue
        derived = store.computed_derived(job.steps)
        assert (job.derived_exit_code, job.derived_exit_signal) == (
            derived.code,
            derived.signal,
        ), (job.cluster, job.job_id_raw)
    assert annotated > 0


def test_golden_records_are_there(sample_jobs: list[Job]) -> None:
    golden = {j.job_id_raw: j for j in sample_jobs if j.cluster == "golden"}
    assert (golden[3].derived_exit_code, golden[3].derived_exit_signal) == (7, 0)
    assert (golden[2].state, golden[2].exit_code) == ("FAILED", 3)
    assert (golden[13].state, golden[13].kill_requid) == ("CANCELLED", 0)


def test_golden_slurmdbd_records_when_the_importer_exists(sample_jobs: list[Job]) -> None:
    if importlib.util.find_spec("jobacct.slurmdbd_import") is None:
        pytest.skip("jobacct.slurmdbd_import not written yet")
    golden = {j.job_id_raw: j for j in sample_jobs if j.cluster == "golden"}
    # Pending jobs cancelled before they ran: in slurmdbd's table, hidden from plain sacct.
    for job_id in (20, 32, 33):
        job = golden[job_id]
        assert job.state == "CANCELLED" and job.time_start is None and not job.steps


def test_every_state_is_represented(sample_jobs: list[Job]) -> None:
    states = Counter(j.state for j in sample_jobs if j.cluster == "tux")
    for state in (
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "OUT_OF_MEMORY",
        "RUNNING",
        "PENDING",
        "NODE_FAIL",
    ):
        assert states[state] > 0, state


def test_generated_scenarios_follow_slurm(sample_jobs: list[Job]) -> None:
    """slurm-semantics.md §1.4, row by row, on the generated cluster."""
    for job in (j for j in sample_jobs if j.cluster == "tux"):
        steps = {s.step_id: s for s in job.steps}
        batch, extern = steps.get(BATCH_STEP), steps.get(EXTERN_STEP)
        exit_pair = (job.exit_code, job.exit_signal)
        if job.time_start is None:
            assert not job.steps and job.nodelist is None
            assert job.state in ("PENDING", "CANCELLED")
            continue
        assert batch is not None and extern is not None
        assert job.time_eligible is not None and job.time_submit <= job.time_eligible
        assert job.time_eligible <= job.time_start
        if job.state == "RUNNING":
            assert job.time_end is None and batch.state == "RUNNING"
            continue
        assert (extern.state, extern.exit_code, extern.exit_signal) == ("COMPLETED", 0, 0)
        batch_pair = (batch.state, batch.exit_code, batch.exit_signal)
        if job.state == "COMPLETED":
            assert exit_pair == (0, 0) and batch_pair == ("COMPLETED", 0, 0)
        elif job.state == "FAILED" and job.exit_signal:
            assert batch_pair == ("CANCELLED", 0, job.exit_signal)
        elif job.state == "FAILED":
            assert job.reason == "NonZeroExitCode" and job.exit_code
            assert batch_pair == ("FAILED", job.exit_code, 0)
        elif job.state == "CANCELLED":
            assert exit_pair == (0, 0) and job.kill_requid in (0, job.uid)
            assert batch_pair in (("CANCELLED", 0, 15), ("CANCELLED", 0, 9))
        elif job.state == "TIMEOUT":
            assert exit_pair == (0, 0) and batch_pair == ("CANCELLED", 0, 15)
            assert job.time_end is not None and job.timelimit is not None
            assert job.time_end - job.time_start > job.timelimit * 60
        elif job.state == "OUT_OF_MEMORY":
            assert exit_pair == (0, 125) and batch_pair == ("OUT_OF_MEMORY", 0, 125)
        elif job.state == "NODE_FAIL":
            assert exit_pair == (1, 0)
        else:
            raise AssertionError(job.state)
        for step in job.steps:
            assert step.max_rss is None or step.max_rss % 1024 == 0


def test_array_last_task_reuses_the_array_id(sample_jobs: list[Job]) -> None:
    tasks: dict[int, list[Job]] = {}
    for job in sample_jobs:
        if job.cluster == "tux" and job.array_job_id is not None:
            tasks.setdefault(job.array_job_id, []).append(job)
    assert tasks
    for array_id, members in tasks.items():
        last = max(members, key=lambda j: j.array_task_id or 0)
        assert last.job_id_raw == array_id
        assert all(j.job_id_raw != array_id for j in members if j is not last)
