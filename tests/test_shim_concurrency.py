"""Several processes ingesting at once lose nothing and apply nothing twice (issue 5 item 6).

Four ``jobacct shim ingest`` processes get the same events (each in its own shuffled order,
so they race on the same jobs and the same journal keys) on SQLite, PostgreSQL and MariaDB;
the store must equal the one a single ordered ingest gives, and every event be journaled once.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from jobacct import migrate
from jobacct.config import enable_wal, make_engine
from jobacct.model import Event
from jobacct.shim.apply import apply
from jobacct.shim.synthetic import job_events
from tests.shim_helpers import dump_store


def test_four_racing_ingesters(store_url: str, tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in job_events(150, seed=21)]
    if store_url.startswith("sqlite"):
        enable_wal(make_engine(store_url))
    files = []
    for number in range(4):
        order = list(lines)
        random.Random(number).shuffle(order)
        path = tmp_path / f"part{number}.jsonl"
        path.write_text("\n".join(order) + "\n")
        files.append(path)
    env = {**os.environ, "TZ": "UTC"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jobacct",
                "--db",
                store_url,
                "shim",
                "ingest",
                "--batch-size",
                "60",
                str(path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for path in files
    ]
    applied = 0
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert err == ""
        applied += int(out.split(" applied")[0].split(": ")[1])
    assert applied == len(lines)  # each event applied by exactly one of the four
    reference = "sqlite:///" + str(tmp_path / "reference.sqlite")
    ref = make_engine(reference, create=True)
    migrate.upgrade(ref)
    apply(ref, lines)
    engine = make_engine(store_url)
    try:
        assert dump_store(engine) == dump_store(ref)
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Event)) == len(lines)
    finally:
        engine.dispose()
        ref.dispose()
