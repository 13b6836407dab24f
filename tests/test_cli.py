"""The ``jobacct`` command through its real entry point: the main job and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobacct import migrate
from jobacct.config import make_engine
from tests.conftest import GOLDEN, golden_stdout

ENV = {**os.environ, "TZ": "UTC", "COLUMNS": "120", "NO_COLOR": "1"}


def jobacct(
    *args: str, db: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m jobacct`` as a user would."""
    argv = [sys.executable, "-m", "jobacct"]
    if db is not None:
        argv += ["--db", db]
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, env=ENV, input=stdin, timeout=120
    )


@pytest.fixture
def golden_db(tmp_path: Path) -> str:
    """A SQLite file made by ``db init`` and ``import sacct`` of the golden records."""
    path = str(tmp_path / "golden.sqlite")
    assert jobacct("db", "init", db=path).returncode == 0
    source = tmp_path / "all.txt"
    source.write_text(golden_stdout(GOLDEN / "sacct" / "03_parsable2_ALL.txt"))
    result = jobacct("import", "sacct", "--cluster", "golden", str(source), db=path)
    assert result.returncode == 0, result.stderr
    assert "39 job and 50 step rows" in result.stderr
    return path


def _dump(path: str) -> bytes:
    return (
        subprocess.run(["sqlite3", path, ".dump"], capture_output=True, check=False).stdout
        or Path(path).read_bytes()
    )


def test_annotation_round_trip(golden_db: str) -> None:
    before = jobacct("sjobexitmod", "-l", "37", db=golden_db)
    assert before.returncode == 0
    assert before.stdout == (
        "JobID           Account   NNodes        NodeList      State ExitCode DerivedExitCode "
        "       Comment \n"
        "------------ ---------- -------- --------------- ---------- -------- --------------- "
        "-------------- \n"
        "37                   lc        1              vm     FAILED      3:0            44:0 "
        " only a reason \n"
    )
    done = jobacct("sjobexitmod", "-e", "49", "-r", "out of memory", "37", db=golden_db)
    assert (done.returncode, done.stdout) == (0, "\n Modification of job 37 was successful.\n\n")
    after = jobacct("sjobexitmod", "-l", "37", db=golden_db)
    assert after.stdout.splitlines()[2] == (
        "37                   lc        1              vm     FAILED      3:0            49:0 "
        " out of memory "
    )
    # -e 0 marks a failed job as a success (Slurm's script silently ignores it, §3 bug 1).
    assert jobacct("sjobexitmod", "-e", "0", "37", db=golden_db).returncode == 0
    view = jobacct(
        "sacct",
        "-X",
        "-j",
        "37",
        "-P",
        "-o",
        "JobID,ExitCode,DerivedExitCode,Comment",
        db=golden_db,
    )
    assert view.stdout == "JobID|ExitCode|DerivedExitCode|Comment\n37|3:0|0:0|out of memory\n"


def test_annotation_changes_only_derived_fields(golden_db: str) -> None:
    fields = "ALL"
    before = jobacct("sacct", "-a", "-P", "-S", "2026-11-22", "-o", fields, db=golden_db).stdout
    assert jobacct("sjobexitmod", "-e", "2:0", "-r", "x", "1", db=golden_db).returncode == 0
    after = jobacct("sacct", "-a", "-P", "-S", "2026-11-22", "-o", fields, db=golden_db).stdout
    header = before.splitlines()[0].split("|")
    changed = {
        header[i]
        for old, new in zip(before.splitlines(), after.splitlines())
        for i, (a, b) in enumerate(zip(old.split("|"), new.split("|")))
        if a != b
    }
    assert changed == {"DerivedExitCode", "Comment"}


@pytest.mark.parametrize(
    ("args", "status", "needle"),
    [
        (["sacct", "-j", "12_"], 2, "12_"),
        (["sacct", "-j", "1.2.3"], 2, "1.2.3"),
        (["sacct", "-j", "abc"], 2, "abc"),
        (["sjobexitmod", "-e", "300", "1"], 2, "300"),
        (["sjobexitmod", "-e", "-1", "1"], 2, "-1"),
        (["sjobexitmod", "-e", "1:2:3", "1"], 2, "1:2:3"),
        (["sjobexitmod", "-r", "bell\x07", "1"], 2, "control character"),
        (["sjobexitmod", "1"], 2, "Either reason string or exit code required"),
        (["sjobexitmod", "-e", "1", "999999"], 1, "ESLURM_INVALID_JOB_ID"),
        (["sacct", "-S", "2026-13-45"], 2, "2026-13-45"),
        (["sacct", "-E", "yesterdayish"], 2, "yesterdayish"),
        (["sacct", "-o", "JobID,Bogus"], 2, "Bogus"),
        (["sacct", "-o", "JobID%x"], 2, "JobID%x"),
        (["sacct", "-l", "-o", "JobID"], 2, "mutually exclusive"),
        (["sacct", "-s", "BOGUS"], 2, "BOGUS"),
        (
            ["sacct", "-a", "-S", "2026-11-22T11:33:56", "-E", "2026-11-22T11:32:56"],
            2,
            "after end time",
        ),
        (["sacct", "--no-such-option"], 2, "--no-such-option"),
        # An unreadable import file is 1 (the README's table; it was 2 before issue 15).
        (["import", "sacct", "/nonexistent/file.txt"], 1, "/nonexistent/file.txt"),
    ],
)
def test_bad_input_one_line_no_change(
    golden_db: str, args: list[str], status: int, needle: str
) -> None:
    before = _dump(golden_db)
    result = jobacct(*args, db=golden_db)
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("jobacct: error: ") and needle in result.stderr
    assert "Traceback" not in result.stderr
    assert _dump(golden_db) == before


def test_bad_import_file_reports_lines_and_writes_nothing(golden_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "JobID|JobIDRaw|UID|State|Submit\n900|900|0|COMPLETED|2026-11-22T00:00:00\n"
        "901|901|x|COMPLETED|2026-11-22T00:00:00\n"
    )
    before = _dump(golden_db)
    result = jobacct("import", "sacct", str(bad), db=golden_db)
    assert result.returncode == 1
    assert f"{bad}:3: bad UID 'x'" in result.stderr
    assert "Traceback" not in result.stderr
    assert _dump(golden_db) == before


def test_import_from_stdin_is_idempotent(golden_db: str) -> None:
    text = golden_stdout(GOLDEN / "sacct" / "04b_P_long.txt")
    result = jobacct("import", "sacct", "--cluster", "golden", "-", db=golden_db, stdin=text)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the summary goes to stderr: nothing breaks a pipeline
    assert "0 jobs and 0 steps new or changed" in result.stderr


def test_missing_database_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.sqlite")
    result = jobacct("sacct", db=missing)
    assert result.returncode == 3
    assert len(result.stderr.splitlines()) == 1 and "db init" in result.stderr
    assert not Path(missing).exists()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nobody@127.0.0.1:1/jobacct",
        "mysql+pymysql://nobody@127.0.0.1:1/jobacct",
        "nosuchdriver://x/y",
    ],
)
def test_unreachable_server(url: str) -> None:
    result = jobacct("sacct", db=url)
    assert result.returncode in (2, 3), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_schema_behind_names_upgrade(tmp_path: Path) -> None:
    path = str(tmp_path / "old.sqlite")
    engine = make_engine("sqlite:///" + path, create=True)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0000')")
    engine.dispose()
    result = jobacct("sacct", db=path)
    assert result.returncode == 4
    assert "newer than this jobacct" in result.stderr or "jobacct db upgrade" in result.stderr
    empty = str(tmp_path / "empty.sqlite")
    make_engine("sqlite:///" + empty, create=True).connect().close()
    result = jobacct("sacct", db=empty)
    assert result.returncode == 4 and "jobacct db init" in result.stderr
    assert jobacct("db", "upgrade", db=empty).returncode == 0
    assert migrate.current_revision(make_engine("sqlite:///" + empty)) == migrate.head_revision()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15: ``jobacct --version`` prints the installed version (importlib.metadata)."""
    from importlib.metadata import version

    from jobacct.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"jobacct {version('jobacct')}\n"
