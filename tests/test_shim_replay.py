"""Order does not matter: a shuffled, duplicated stream gives exactly the ordered stream's store.

Tracker issue 5 item 1: every column of the job and step tables is compared (surrogate ids
excluded; the journal's receive times are not in these tables).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobacct import migrate
from jobacct.config import make_engine
from jobacct.model import Event
from jobacct.shim.apply import apply
from jobacct.shim.synthetic import job_events
from tests.shim_helpers import dump_store


def _fresh(path: Path) -> str:
    url = "sqlite:///" + str(path)
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _apply_in_batches(url: str, lines: list[str], size: int) -> None:
    engine = make_engine(url)
    try:
        for start in range(0, len(lines), size):
            apply(engine, lines[start : start + size])
    finally:
        engine.dispose()


def _shuffled_with_duplicates(lines: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    replayed = lines + rng.sample(lines, len(lines) // 4)
    rng.shuffle(replayed)
    return replayed


def test_shuffled_duplicated_10000_jobs_equal_ordered_sqlite(tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in job_events(10_000, seed=11)]
    ordered = _fresh(tmp_path / "ordered.sqlite")
    shuffled = _fresh(tmp_path / "shuffled.sqlite")
    _apply_in_batches(ordered, lines, 5000)
    # Small batches: most jobs' events are spread over many transactions, out of order.
    _apply_in_batches(shuffled, _shuffled_with_duplicates(lines, 3), 8000)
    a, b = make_engine(ordered), make_engine(shuffled)
    jobs_a, steps_a = dump_store(a)
    jobs_b, steps_b = dump_store(b)
    assert len(jobs_a) == 10_000
    assert len(steps_a) > 30_000
    assert jobs_a == jobs_b
    assert steps_a == steps_b
    for engine in (a, b):
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Event)) == len(lines)
        engine.dispose()


def test_shuffled_stream_on_every_backend(store_url: str, tmp_path: Path) -> None:
    """The same property on PostgreSQL and MariaDB (a smaller stream), against SQLite."""
    lines = [json.dumps(e) for e in job_events(300, seed=12)]
    reference = _fresh(tmp_path / "reference.sqlite")
    _apply_in_batches(reference, lines, 10_000)
    _apply_in_batches(store_url, _shuffled_with_duplicates(lines, 4), 150)
    ref, other = make_engine(reference), make_engine(store_url)
    try:
        assert dump_store(ref) == dump_store(other)
    finally:
        ref.dispose()
        other.dispose()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_job_every_permutation_sample(tmp_path: Path, seed: int) -> None:
    """Single events in random order, one transaction each (the worst spread)."""
    lines = [json.dumps(e) for e in job_events(40, seed=seed)]
    ordered = _fresh(tmp_path / "a.sqlite")
    shuffled = _fresh(tmp_path / "b.sqlite")
    _apply_in_batches(ordered, lines, len(lines))
    _apply_in_batches(shuffled, _shuffled_with_duplicates(lines, seed), 1)
    a, b = make_engine(ordered), make_engine(shuffled)
    assert dump_store(a) == dump_store(b)
    a.dispose()
    b.dispose()
