"""A plain install (no extras): server URLs name the extra to install, reports work without
charts (tracker issue 15). The modules of the extras are made unimportable for the command's
process (tests/blockimport/sitecustomize.py), as in an install without them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobacct.report.charts import NO_CHARTS
from tests.test_report_data import cancellation_jobs, failure_jobs, fill

BLOCKER = Path(__file__).resolve().parent / "blockimport"
WINDOW = ["-S", "2026-11-20", "-E", "2026-11-22"]


def without(modules: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m jobacct ARGS`` in a process where ``modules`` cannot be imported."""
    env = {
        **os.environ, "TZ": "UTC", "JOBACCT_CONFIG": "/dev/null", "JOBACCT_TEST_BLOCK": modules,
        "PYTHONPATH": os.pathsep.join([str(BLOCKER), os.environ.get("PYTHONPATH", "")]),
    }  # fmt: skip
    env.pop("JOBACCT_SERVER", None)
    return subprocess.run(
        [sys.executable, "-m", "jobacct", *args], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "module", "server", "extra"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:5432/x", "psycopg", "PostgreSQL", "postgresql"),
        ("mysql+pymysql://root@127.0.0.1:3306/x", "pymysql", "MariaDB", "mysql"),
    ],
)
@pytest.mark.parametrize("command", [["sacct", "-j", "1"], ["db", "init"], ["report", "failures"]])
def test_server_url_without_its_driver(
    url: str, module: str, server: str, extra: str, command: list[str]
) -> None:
    result = without(module, "--db", url, *command)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == (
        f"jobacct: error: the {server} driver ({module}) is not installed:"
        f" pip install 'jobacct[{extra}]'\n"
    )


def test_import_from_slurmdbd_without_pymysql(sqlite_url: str) -> None:
    db = sqlite_url.removeprefix("sqlite:///")
    from jobacct import migrate
    from jobacct.config import make_engine

    migrate.upgrade(make_engine(sqlite_url, create=True))
    result = without(
        "pymysql", "--db", db, "import", "slurmdbd", "--from", "mysql+pymysql://root@127.0.0.1/s",
        "--cluster", "tux",
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "pip install 'jobacct[mysql]'" in result.stderr


@pytest.fixture
def db(sqlite_url: str) -> str:
    fill(sqlite_url, failure_jobs() + cancellation_jobs())
    return sqlite_url.removeprefix("sqlite:///")


def test_reports_without_matplotlib(db: str) -> None:
    page = without("matplotlib", "--db", db, "report", "failures", *WINDOW, "--format", "html")
    assert page.returncode == 0, page.stderr
    assert NO_CHARTS in page.stdout.replace("&#x27;", "'")
    assert "<img" not in page.stdout and "<h2" in page.stdout
    text = without("matplotlib", "--db", db, "report", "failures", *WINDOW)
    assert text.returncode == 0 and "FAILED" in text.stdout
    # with matplotlib, the same page has its charts and no note
    full = without("", "--db", db, "report", "failures", *WINDOW, "--format", "html")
    assert "<img" in full.stdout and NO_CHARTS not in full.stdout.replace("&#x27;", "'")
