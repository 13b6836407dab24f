"""What the oracle found, kept as plain tests: no Slurm needed.

The oracle's generated rows (tests/oracle/rows.py) are written as the ``mysql -B`` dumps the
oracle test makes of slurmdbd's tables, imported, and a few sacct command lines must print
what the real sacct 22.05.8 printed for them (copied from tests/test_oracle.py runs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobacct import caller
from jobacct import sacct_command as sacct_cmd
from jobacct.cli import main
from tests.oracle.rows import (
    EXTRA_TRES,
    JOB_COLUMNS,
    MAIN_WINDOW,
    STEP_COLUMNS,
    USERS,
    generate,
    mysql_tsv,
)

WINDOW = ["-S", MAIN_WINDOW[0], "-E", MAIN_WINDOW[1]]


@pytest.fixture(autouse=True)
def _as_root_later(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(caller, "caller_uid", lambda: 0)
    monkeypatch.setattr(sacct_cmd, "_now", lambda: 1796500000)
    yield


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    where = tmp_path_factory.mktemp("oracle_rows")
    assoc = {(user, account): n for n, (user, (_, account)) in enumerate(USERS.items(), 5)}
    rows = generate(assoc)
    (where / "job.tsv").write_text(mysql_tsv(rows.jobs, JOB_COLUMNS))
    (where / "step.tsv").write_text(mysql_tsv(rows.steps, STEP_COLUMNS))
    (where / "qos.tsv").write_text("id\tname\tdescription\n1\tnormal\tNormal QOS default\n")
    # tres_table as slurmdbd and a GPU cluster's slurmctld fill it (1000 is a deleted marker)
    tres = [(n, t, "") for n, t in enumerate(("cpu", "mem", "energy", "node", "billing"), 1)]
    tres += [(6, "fs", "disk"), (7, "vmem", ""), (8, "pages", ""), (1000, "dynamic_offset", "")]
    tres += [(i, t, n) for i, t, n in EXTRA_TRES]
    (where / "tres.tsv").write_text(
        "creation_time\tdeleted\tid\ttype\tname\n"
        + "".join(f"1\t{int(i == 1000)}\t{i}\t{t}\t{n}\n" for i, t, n in tres)
    )
    (where / "users").write_text("".join(f"{uid} {name}\n" for name, (uid, _) in USERS.items()))
    db = str(where / "store.sqlite")
    assert main(["--db", db, "db", "init"]) == 0
    status = main(
        ["--db", db, "import", "slurmdbd", "--job-table", str(where / "job.tsv"),
         "--step-table", str(where / "step.tsv"), "--cluster", "oracle",
         "--user-map", str(where / "users"), "--qos-table", str(where / "qos.tsv"),
         "--tres-table", str(where / "tres.tsv")]
    )  # fmt: skip
    assert status == 0
    return db


def _sacct(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["--db", db, "sacct", "-M", "oracle", *args, *WINDOW]) == 0
    return capsys.readouterr().out


def test_open_steps_end_with_their_job_and_the_pending_step_prints_tdb(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # as_mysql_jobacct_process.c: a step without an end, of an ended job, takes the job's
    # end and state; log_build_step_id_str spells the pending step TDB in 22.05
    out = _sacct(store, capsys, "-P", "-j", "3000", "-o", "JobID,State,End,Elapsed,TotalCPU")
    assert out == (
        "JobID|State|End|Elapsed|TotalCPU\n"
        "3000|COMPLETED|2026-12-01T11:16:40|00:10:00|21:44.028\n"
        "3000.interactive|FAILED|2026-12-01T11:08:25|00:01:40|00:47.250\n"
        "3000.batch|COMPLETED|2026-12-01T11:16:40|00:10:00|04:45.251\n"
        "3000.extern|COMPLETED|2026-12-01T11:16:40|00:10:00|04:45.252\n"
        "3000.TDB|COMPLETED|2026-12-01T11:16:40|00:03:20|00:00.253\n"
        "3000.0|COMPLETED|2026-12-01T11:07:40|00:00:50|00:00:23\n"
        "3000.1|FAILED|2026-12-01T11:08:40|00:00:50|00:23.001\n"
        "3000.2|CANCELLED by 50001|2026-12-01T11:09:40|00:00:50|00:23.002\n"
        "3000.3|CANCELLED|2026-12-01T11:16:40|00:05:00|02:22.003\n"
        "3000.10|COMPLETED|2026-12-01T11:26:40|00:16:40|07:55.010\n"
    )


def test_pending_alone_reads_no_steps(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    # as_mysql_jobacct_process.c only_pending: -s PD alone, no steps, step sums zero
    out = _sacct(store, capsys, "-P", "-s", "PD", "-j", "3000,3001", "-o", "JobID,State,TotalCPU")
    assert out == "JobID|State|TotalCPU\n3000|COMPLETED|00:00:00\n3001|FAILED|00:00:00\n"


def test_het_step_without_component_names_it_in_every_component(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _sacct(store, capsys, "-P", "-j", "4200+1.0", "-o", "JobID,State")
    assert out == "JobID|State\n4200+1.0+1|FAILED\n"


def test_alloc_nodes_of_a_job_never_given_nodes(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _sacct(store, capsys, "-P", "-j", "2100,2102", "-o", "JobID,AllocNodes,NNodes")
    assert out == "JobID|AllocNodes|NNodes\n2100|0|1\n2102|0|1\n"


def test_state_selection_before_duplicates(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = _sacct(store, capsys, "-a", "-P", "-s", "RQ", "-o", "JobID,State,Submit")
    assert out == (
        "JobID|State|Submit\n"
        "2011|REQUEUED|2026-12-01T09:14:00\n"
        "2011.batch|COMPLETED|2026-12-01T09:15:00\n"
        "2011.extern|COMPLETED|2026-12-01T09:15:00\n"
        "5100|REQUEUED|2026-12-01T19:25:40\n"
        "5100.batch|CANCELLED|2026-12-01T19:26:40\n"
    )


def test_dbindex_width_and_qos_names(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = _sacct(store, capsys, "-j", "1000", "-o", "JobID,DBIndex,QOS")
    assert out == (
        "JobID        DBIndex           QOS \n"
        "------------ ---------- ---------- \n"
        "1000         1              normal \n"
        "1000.batch   1                     \n"
        "1000.0       1                     \n"
    )


def test_json_lists_duplicates_and_revoked_records(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _sacct(store, capsys, "--json", "-j", "2013,5100")
    jobs = [(j["job_id"], j["state"]["current"]) for j in json.loads(out)["jobs"]]
    # real sacct: [(5100, 'REQUEUED'), (2013, 'REVOKED'), (5100, 'COMPLETED')]
    assert sorted(jobs) == [(2013, "REVOKED"), (5100, "COMPLETED"), (5100, "REQUEUED")]


def test_reserved_of_a_job_that_ended_without_starting(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # start reaches print.c as NO_VAL: (NO_VAL - eligible) wraps in its int
    out = _sacct(store, capsys, "-P", "-j", "2100,2102,2103", "-o",
                 "JobID,Start,Reserved,ResvCPU,ResvCPURAW")  # fmt: skip
    assert out == (
        "JobID|Start|Reserved|ResvCPU|ResvCPURAW\n"
        "2100|None|INVALID|8133-13:14:52|702738892\n"
        "2102|None|00:00:00|00:00:00|0\n"
        "2103|None|INVALID|8133-13:11:32|702738692\n"
    )
    doc = json.loads(_sacct(store, capsys, "--json", "-j", "2100"))
    assert doc["jobs"][0]["time"]["start"] is None


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        # print_fields_str: strlen/memcpy/%*.*s count bytes; a cut may split a character
        ("JobID,Comment%3", b"5004         r\xc3+ \n"),
        ("JobID,Comment%7", b"5004         r\xc3\xa9sum+ \n"),
        ("JobID,Comment%25", "5004            résumé ünïcode ✓ \n".encode()),
    ],
)
def test_widths_count_bytes(store: str, fields: str, line: bytes) -> None:
    # the real entry point, so the bytes written to stdout are what is compared
    jobacct = str(Path(sys.executable).parent / "jobacct")
    done = subprocess.run(
        [jobacct, "--db", store, "sacct", "-M", "oracle", "-X", "-n", "-j", "5004", "-o",
         fields, *WINDOW],
        capture_output=True, check=True, env={**os.environ, "TZ": "UTC"},
    )  # fmt: skip
    assert done.stdout == line


def test_tres_names_from_the_tres_table(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = _sacct(store, capsys, "-P", "-X", "-j", "6012", "-o", "JobID,AllocTRES,ReqTRES")
    assert out == (
        "JobID|AllocTRES|ReqTRES\n"
        "6012|billing=4,cpu=4,gres/gpu=2,mem=4000M,node=1|"
        "billing=4,cpu=4,gres/gpu=2,license/matlab=1,mem=4000M,node=1\n"
    )
