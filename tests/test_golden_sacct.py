"""Every recorded sacct view of the golden corpus, replayed through ``jobacct sacct``.

The store is the import of ``sacct -a --parsable2 --format=ALL`` from the same real Slurm;
each command runs at its recorded clock, in UTC, as its recorded user, and must print the
same bytes.
"""

from __future__ import annotations

import calendar
import shlex
import time

import pytest

from jobacct import caller
from jobacct import sacct_command as sacct_cmd
from jobacct.cli import main
from tests.conftest import GOLDEN, build_golden_store, parse_case

#: Views whose whole stdout jobacct reproduces; the rest need options of a later issue.
EXACT = [
    "01_sacct_default.txt",
    "01b_sacct_default_all.txt",
    "02_X_exitcodes.txt",
    "02b_all_exitcodes.txt",
    "03_parsable2_ALL.txt",
    "04b_P_long.txt",
    "05_p.txt",
    "06_n.txt",
    "08_l.txt",
    "09_X.txt",
    "10_width.txt",
    "11_s_CA_F.txt",
    "11g_s_CA_F_window.txt",
    "11i_s_TO_window.txt",
    "12_window.txt",
    "13_batch_step.txt",
    "13b_step0.txt",
    "13e_job_not_found.txt",
    "14_e.txt",
    "15_helpformat.txt",
    "17_user_alice.txt",
    "17b_as_alice_default.txt",
    "19_array_view.txt",
]
#: Views that are errors in sacct: jobacct must fail too, with nothing on stdout.
ERRORS = [
    "04_P_long_requested.txt",
    "11e_s_bogus.txt",
    "12d_end_before_start.txt",
    "13d_bad_step.txt",
]

USERS = {"root": 0, "alice": 1001}


def _epoch(stamp: str) -> int:
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S"))


def run_recorded(
    command: str,
    user: str,
    when: str,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    """Run a recorded ``sacct`` command line as ``jobacct sacct`` at its clock and user."""
    argv = shlex.split(command)
    if argv[:2] == ["runuser", "-u"]:
        user, argv = argv[2], argv[4:]
    assert argv[0] == "sacct", command
    monkeypatch.setattr(sacct_cmd, "_now", lambda: _epoch(when))
    monkeypatch.setattr(caller, "caller_uid", lambda: USERS[user])
    status = main(["--db", url, "sacct", *argv[1:]])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def golden_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding the golden records."""
    return build_golden_store(tmp_path_factory.mktemp("golden") / "golden.sqlite")


@pytest.mark.parametrize("name", EXACT)
def test_sacct_view_is_byte_identical(
    name: str,
    golden_store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for entry in parse_case(GOLDEN / "sacct" / name):
        status, out, _ = run_recorded(
            entry["command"], entry["user"], entry["time"], golden_store, monkeypatch, capsys
        )
        assert out == entry["stdout"], entry["command"]
        assert status == int(entry["status"])


@pytest.mark.parametrize("name", ERRORS)
def test_sacct_error_views_fail_cleanly(
    name: str,
    golden_store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (entry,) = parse_case(GOLDEN / "sacct" / name)
    status, out, err = run_recorded(
        entry["command"], entry["user"], entry["time"], golden_store, monkeypatch, capsys
    )
    assert status != 0
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("jobacct: error: ")
