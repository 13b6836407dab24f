"""``import slurmdbd --from``: a live slurmdbd database on the MariaDB server.

The database gets the real schema of slurmdbd 22.05 (``golden/slurmdbd_schema.sql``, a
``mysqldump --no-data``) and the golden cluster's job and step rows
(``golden/db/golden_job_step_rows.sql``), plus the qos, tres and association rows the names
come from. Reading it must store exactly what importing the dumps of the same rows stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.live_import import import_live, read_watermark
from jobacct.slurmdbd_live import LiveSource, source_name
from jobacct.slurmdbd_stream import TsvReader, import_slurmdbd_stream
from tests.conftest import GOLDEN, _server_database
from tests.test_bulk_import import first_difference, store_rows

pytestmark = pytest.mark.server

USERS = {0: "root", 1001: "alice"}


def _run_script(conn: Any, script: str) -> None:
    lines = [line for line in script.splitlines() if not line.startswith(("/*M!", "--"))]
    for statement in "\n".join(lines).split(";\n"):
        if statement.strip():
            conn.exec_driver_sql(statement.replace("%", "%%"))


@pytest.fixture(scope="module")
def slurmdbd_url() -> Iterator[str]:
    """A MariaDB database holding slurmdbd's schema and the golden cluster's rows."""
    gen = _server_database("mariadb")
    url = next(gen)
    engine = create_engine(url + "?charset=utf8mb4")
    with engine.begin() as conn:
        _run_script(conn, (GOLDEN / "slurmdbd_schema.sql").read_text(encoding="utf-8"))
        _run_script(conn, (GOLDEN / "db" / "golden_job_step_rows.sql").read_text(encoding="utf-8"))
        conn.exec_driver_sql(
            "INSERT INTO qos_table (creation_time, id, name) VALUES (1, 1, 'normal')"
        )
        for ident, kind, name in [
            (1, "cpu", ""),
            (2, "mem", ""),
            (3, "energy", ""),
            (4, "node", ""),
            (5, "billing", ""),
            (6, "fs", "disk"),
            (7, "vmem", ""),
            (8, "pages", ""),
            (1001, "gres", "gpu"),
        ]:
            conn.execute(
                text(
                    "INSERT INTO tres_table (creation_time, id, type, name) VALUES (1, :i, :t, :n)"
                ),
                {"i": ident, "t": kind, "n": name},
            )
        for id_assoc, user, account in [
            (1, "", "root"),
            (2, "", "lc"),
            (4, "root", "lc"),
            (5, "alice", "lc"),
        ]:
            conn.execute(
                text(
                    "INSERT INTO golden_assoc_table (creation_time, id_assoc, user, acct, lft, rgt)"
                    " VALUES (1, :i, :u, :a, :i, :i)"
                ),
                {"i": id_assoc, "u": user, "a": account},
            )
    engine.dispose()
    yield url
    next(gen, None)


def _from_dumps(url: str) -> None:
    engine = make_engine(url)
    import_slurmdbd_stream(
        engine,
        TsvReader(GOLDEN / "db" / "golden_job_table.tsv"),
        TsvReader(GOLDEN / "db" / "golden_step_table.tsv"),
        "golden",
        USERS,
        USERS,
        qos_names={1: "normal"},
    )
    engine.dispose()


@pytest.mark.parametrize("workers", [1, 2], ids=["1-process", "2-workers"])
def test_live_import_stores_what_the_dumps_store(
    workers: int, slurmdbd_url: str, sqlite_url: str, tmp_path: Path
) -> None:
    from jobacct import migrate

    dumps_url = "sqlite:///" + str(tmp_path / "dumps.sqlite")
    engine = make_engine(dumps_url, create=True)
    migrate.upgrade(engine)
    engine.dispose()
    _from_dumps(dumps_url)

    live = LiveSource(slurmdbd_url, "golden")
    engine = make_engine(sqlite_url)
    try:
        # chunk_rows=5: many slices, each carrying the association names met since the last
        done = import_live(engine, live, "golden", group_names=USERS, chunk_rows=5, workers=workers)
    finally:
        live.close()
        engine.dispose()
    assert (done.result.jobs_seen, done.result.steps_seen) == (44, 50)
    assert (done.result.jobs_changed, done.result.steps_changed) == (44, 50)
    # User names came from the associations, QOS and TRES names from their tables.
    assert first_difference(store_rows(sqlite_url), store_rows(dumps_url)) is None


def test_incremental_reads_only_what_changed(slurmdbd_url: str, store_url: str) -> None:
    engine = make_engine(store_url)
    source = source_name(slurmdbd_url, "golden")
    live = LiveSource(slurmdbd_url, "golden")
    admin = create_engine(slurmdbd_url)
    try:
        first = import_live(engine, live, "golden", incremental=True, group_names=USERS)
        assert first.result.jobs_seen == 44
        mark = read_watermark(engine, source)
        assert mark is not None and mark[0] == 72

        again = import_live(engine, live, "golden", incremental=True, group_names=USERS)
        assert (again.result.jobs_seen, again.result.steps_seen) == (0, 0)

        with admin.begin() as conn:
            # sjobexitmod on the cluster: slurmdbd rewrites derived_es and mod_time ...
            conn.exec_driver_sql(
                "UPDATE golden_job_table SET derived_es = 'bad node', mod_time = UNIX_TIMESTAMP()"
                " WHERE job_db_inx = 7"
            )
            # ... and a new job with one step arrives.
            conn.exec_driver_sql(
                "INSERT INTO golden_job_table SELECT 80, UNIX_TIMESTAMP(), deleted, account,"
                " admin_comment, array_task_str, array_max_tasks, array_task_pending,"
                " constraints, container, cpus_req, derived_ec, derived_es, env_hash_inx,"
                " exit_code, flags, job_name, id_assoc, id_array_job, id_array_task, id_block,"
                " 900, id_qos, id_resv, id_wckey, id_user, id_group, het_job_id,"
                " het_job_offset, kill_requid, state_reason_prev, mcs_label, mem_req, nodelist,"
                " nodes_alloc, node_inx, `partition`, priority, script_hash_inx, state,"
                " timelimit, time_submit, time_eligible, time_start, time_end, time_suspended,"
                " gres_used, wckey, work_dir, submit_line, system_comment, tres_alloc, tres_req"
                " FROM golden_job_table WHERE job_db_inx = 1"
            )
            conn.exec_driver_sql(
                "INSERT INTO golden_step_table SELECT 80, deleted, 256, id_step, step_het_comp,"
                " kill_requid, nodelist, nodes_alloc, node_inx, 5, step_name, task_cnt,"
                " task_dist, time_start, time_end, time_suspended, user_sec, user_usec, sys_sec,"
                " sys_usec, act_cpufreq, consumed_energy, container, req_cpufreq_min,"
                " req_cpufreq, req_cpufreq_gov, submit_line, tres_alloc, tres_usage_in_ave,"
                " tres_usage_in_max, tres_usage_in_max_taskid, tres_usage_in_max_nodeid,"
                " tres_usage_in_min, tres_usage_in_min_taskid, tres_usage_in_min_nodeid,"
                " tres_usage_in_tot, tres_usage_out_ave, tres_usage_out_max,"
                " tres_usage_out_max_taskid, tres_usage_out_max_nodeid, tres_usage_out_min,"
                " tres_usage_out_min_taskid, tres_usage_out_min_nodeid, tres_usage_out_tot"
                " FROM golden_step_table WHERE job_db_inx = 1"
            )
        third = import_live(engine, live, "golden", incremental=True, group_names=USERS)
        assert (third.result.jobs_seen, third.result.steps_seen) == (2, 3)
        assert (third.result.jobs_changed, third.result.steps_changed) == (2, 1)
        assert read_watermark(engine, source)[0] == 80  # type: ignore[index]
        with engine.connect() as conn:
            comment = conn.execute(
                text("SELECT comment FROM job WHERE cluster = 'golden' AND job_id_raw = 5")
            ).scalar_one()
            new = conn.execute(
                text(
                    "SELECT s.state, s.exit_code FROM step s JOIN job j ON j.id = s.job_pk"
                    " WHERE j.job_id_raw = 900"
                )
            ).one()
        assert comment == "bad node"
        assert tuple(new) == ("FAILED", 1)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql("DELETE FROM golden_step_table WHERE job_db_inx = 80")
            conn.exec_driver_sql("DELETE FROM golden_job_table WHERE job_db_inx = 80")
            conn.exec_driver_sql(
                "UPDATE golden_job_table SET derived_es = NULL, mod_time = 1795347099"
                " WHERE job_db_inx = 7"
            )
        admin.dispose()
        live.close()
        engine.dispose()


def test_cli_from_database(
    slurmdbd_url: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--db", sqlite_url, "import", "slurmdbd", "--from", slurmdbd_url]
    argv += ["--cluster", "golden", "--incremental"]
    capsys.readouterr()
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "golden: 44 job and 50 step rows, 44 jobs and 50 steps new or changed" in err
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out == "" and "golden: 0 job and 0 step rows" in err


def test_cli_from_a_missing_cluster(
    slurmdbd_url: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    argv = ["--db", sqlite_url, "import", "slurmdbd", "--from", slurmdbd_url, "--cluster", "nope"]
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("jobacct: error: cannot read slurmdbd tables nope_job_table/")
    assert err.count("\n") == 1


def test_follow_keeps_importing_until_interrupted(slurmdbd_url: str, sqlite_url: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    argv = [sys.executable, "-m", "jobacct", "--db", sqlite_url, "import", "slurmdbd"]
    argv += ["--from", slurmdbd_url, "--cluster", "golden", "--follow", "0.2"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first round's summary
    assert "golden: 44 job and 50 step rows, 44 jobs and 50 steps new or changed" in first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out == "" and "Traceback" not in err
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM job")).scalar_one() == 44
    engine.dispose()


def test_since_reads_the_jobs_changed_since_and_keeps_no_marks(
    slurmdbd_url: str, sqlite_url: str
) -> None:
    engine = make_engine(sqlite_url)
    live = LiveSource(slurmdbd_url, "golden")
    try:
        # golden job_db_inx 68, 70 and 72 were last changed at 1795347389 or later.
        late = import_live(engine, live, "golden", since=1795347389, group_names=USERS)
        assert late.result.jobs_seen == 3
        assert read_watermark(engine, source_name(slurmdbd_url, "golden")) is None
        everything = import_live(engine, live, "golden", since=0, group_names=USERS)
        assert (everything.result.jobs_seen, everything.result.jobs_changed) == (44, 41)
    finally:
        live.close()
        engine.dispose()
