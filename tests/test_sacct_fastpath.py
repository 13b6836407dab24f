"""``sacct`` without Typer (jobacct.sacct_fastpath, tracker issue 16) against the Typer path.

Each command line runs both ways on the same real SQLite store (the golden records) at the
same clock and caller: the fast path as the console script calls it (root options hoisted),
and the Typer command (:func:`jobacct.cli.main`). Standard output, standard error and the exit
status must be the same. Forms the fast path does not take must leave it without a trace
(nothing written, None returned), so the Typer path alone answers them. A few lines also run
as the installed command in a fresh interpreter, with ``JOBACCT_SACCT_FASTPATH`` on and off.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from jobacct import caller, client, sacct_fastpath
from jobacct import sacct_command as sacct_cmd
from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.importer import import_sacct
from tests.conftest import GOLDEN, build_golden_store, golden_stdout, parse_case
from tests.test_golden_sacct import USERS, _epoch

#: The golden clock (golden/README.md) and a window holding every golden job.
WHEN = "2026-11-22T11:42:37"
WINDOW = ["-S", "2026-11-22T00:00:00", "-E", "2026-11-22T12:00:00"]

#: Command lines (after ``jobacct --db URL``) the fast path takes: every accepted form.
TAKEN: list[list[str]] = [
    ["sacct", "-j", "2"],
    ["sacct", "-j2"],
    ["sacct", "--jobs=2,3"],
    ["sacct", "--jobs", "3.0"],
    ["sacct", "-XP", "-j", "2,3,8"],
    ["sacct", "-Xj3"],
    ["sacct", "-nXPj", "2,3"],
    ["sacct", "-j", "3", "-o", "JobID,State,ExitCode"],
    ["sacct", "-j", "3", "--format=JobID%20,State%-15,ExitCode"],
    ["sacct", "-j", "3", "--fields", "jobid,jobname"],
    ["sacct", "-j", "3", "-p"],
    ["sacct", "-j", "3", "--parsable2", "--noheader"],
    ["sacct", "-j", "3", "-P", "--delimiter", ";"],
    ["sacct", "-j", "3", "-b"],
    ["sacct", "-j", "3", "-l", "-P"],
    ["sacct", "-j", "3", "-M", "golden", "-D"],
    ["sacct", "-j", "3", "--clusters=nosuch"],
    ["sacct", "-j", "3", "-L", "--duplicates"],
    ["sacct", "-a", *WINDOW],
    ["sacct", "--allusers", "-X", "-s", "CA,F", *WINDOW],
    ["sacct", "-aX", "--state=TO", "-T", *WINDOW],
    ["sacct", "-u", "-1", "-X", *WINDOW],
    ["sacct", "--user", "alice", "-X", *WINDOW],
    ["sacct", "--uid=0", "-X", "--starttime", WINDOW[1], "--endtime", WINDOW[3]],
    ["sacct", "-a", "-A", "lc", "-r", "debug", "-X", *WINDOW],
    ["sacct", "-a", "--name=arr,arr_thr", "-X", "-o", "JobID%-12,JobName,State", *WINDOW],
    ["sacct", "--accounts", "nosuch", "--partition", "debug", "-a", *WINDOW],
    ["sacct", "-X"],
    ["sacct"],
    ["sacct", "--truncate", "--allclusters", "--brief", "-a", *WINDOW],
    ["sacct", "--long", "--allocations", "-j", "3"],
    # Errors the command itself reports (one line, its exit status): the same from both.
    ["sacct", "-j", "3.x"],
    ["sacct", "-j", "abc"],
    ["sacct", "-j", "123_[1-3]"],
    ["sacct", "-j", "-X"],
    ["sacct", "-S", "garbage"],
    ["sacct", "-a", "-s", "BOGUS"],
    ["sacct", "-o", "NoSuchField", "-j", "3"],
    ["sacct", "-l", "-o", "JobID", "-j", "3"],
    ["sacct", "-u", "99999999999"],
    ["sacct", "-a", "-X", "-S", "2026-11-22T11:33:56", "-E", "2026-11-22T11:32:56"],
    ["sacct", "-j", "999999"],
]

#: Command lines the fast path must leave to Typer (with ``--db URL`` before them).
LEFT: list[list[str]] = [
    ["sacct", "--help"],
    ["sacct", "-h"],
    ["sacct", "-e"],
    ["sacct", "--usage"],
    ["sacct", "-j", "2", "-j", "3"],
    ["sacct", "-o", "JobID", "-o", "State", "-j", "3"],
    ["sacct", "-X", "--allocations"],
    ["sacct", "-XX"],
    ["sacct", "-j"],
    ["sacct", "-Xj"],
    ["sacct", "--jobs"],
    ["sacct", "-X=1"],
    ["sacct", "-j=3"],
    ["sacct", "--allocations=yes"],
    ["sacct", "--no-allocations"],
    ["sacct", "-Z"],
    ["sacct", "-XZ"],
    ["sacct", "--bogus"],
    ["sacct", "--job=3"],
    ["sacct", "extra"],
    ["sacct", "-j", "3", "--", "-X"],
    ["sacct", "-"],
    ["sacct", "--json", "-j", "2"],
    ["sacct", "-j", "2", "--csv"],
    ["sacct", "-N", "vm"],
    ["sacct", "-j", "3", "-s", "CD", "--whole-hetjob=yes"],
    ["sacct", "-j", "\udcff"],
    ["--version"],
    ["--help"],
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding the golden records."""
    return build_golden_store(tmp_path_factory.mktemp("fastpath") / "golden.sqlite")


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The golden clock and caller; the fast path on, no daemon, no site config file."""
    monkeypatch.setattr(sacct_cmd, "_now", lambda: _epoch(WHEN))
    monkeypatch.setattr(caller, "caller_uid", lambda: 0)
    for name in (sacct_fastpath.ENV_SWITCH, client.ENV_SERVER, "SACCT_FORMAT", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOBACCT_CONFIG", "/dev/null")


def both_ways(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[tuple[int | None, str, str], tuple[int, str, str]]:
    """(fast path's (status, out, err), Typer path's) of one command line."""
    hoisted = client.hoist_root_options(argv)  # as jobacct.client.entry hands it over
    fast = sacct_fastpath.run(hoisted)
    fast_out, fast_err = capsys.readouterr()
    typer_status = main(argv, route=False)
    typer_out, typer_err = capsys.readouterr()
    return (fast, fast_out, fast_err), (typer_status, typer_out, typer_err)


@pytest.mark.parametrize("args", TAKEN, ids=shlex.join)
def test_taken_forms_match_typer(
    args: list[str], store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fast, typer = both_ways(["--db", store, *args], capsys)
    assert fast[0] is not None, "the fast path left it to Typer"
    assert fast == typer


def test_db_after_the_command_is_taken(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["sacct", "--db", store, "-XPj", "2,3"],
        ["sacct", "-XPj", "2,3", f"--db={store}"],
    ):
        fast, typer = both_ways(argv, capsys)
        assert fast[0] == 0 and fast == typer


def test_a_missing_store_is_the_same_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "sqlite:///" + str(tmp_path / "none.sqlite")
    fast, typer = both_ways(["--db", url, "sacct", "-j", "3"], capsys)
    assert fast == typer
    assert fast[0] == 3 and "does not exist" in fast[2]


@pytest.mark.parametrize("args", LEFT, ids=shlex.join)
def test_other_forms_are_left_to_typer(
    args: list[str], store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = client.hoist_root_options(["--db", store, *args])
    assert sacct_fastpath.run(argv) is None
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "argv",
    [
        ["--server", "unix:/nonexistent.sock", "sacct", "-j", "3"],
        ["--db", "postgresql://nobody@127.0.0.1:1/none", "sacct", "-j", "3"],
        ["--db", "sqlite://", "sacct", "-j", "3"],
        ["--db", "", "sacct", "-j", "3"],
        ["--db", "a.sqlite", "--db", "b.sqlite", "sacct"],
        ["sacct", "-j", "3"],  # the default store: no such file here, but not refused
    ],
)
def test_other_stores_and_root_options_are_left_to_typer(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOBACCT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert sacct_fastpath.run(client.hoist_root_options(argv)) is None
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("backend_url", ["postgresql", "mariadb"], indirect=True)
def test_plain_server_urls_are_taken(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A plain PostgreSQL/MariaDB URL is read by the driver alone (jobacct.serverread):
    taken here too, with the Typer path's bytes."""
    engine = make_engine(store_url)
    with Session(engine) as session, session.begin():
        lines = golden_stdout(GOLDEN / "sacct" / "03_parsable2_ALL.txt").splitlines()
        import_sacct(session, lines, "golden")
    engine.dispose()
    for args in (["sacct", "-j", "2,3"], ["sacct", "-XPna"], ["sacct", "-a", "-P", "-D"]):
        fast, typer = both_ways(["--db", store_url, *args], capsys)
        assert fast[0] == 0, args
        assert fast == typer, args
        assert fast[1].count("\n") >= 2, args


def test_switch_and_completion_turn_it_off(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--db", store, "sacct", "-j", "3"]
    monkeypatch.setenv(sacct_fastpath.ENV_SWITCH, "0")
    assert sacct_fastpath.run(argv) is None
    monkeypatch.delenv(sacct_fastpath.ENV_SWITCH)
    monkeypatch.setenv("_JOBACCT_COMPLETE", "bash_complete")
    assert sacct_fastpath.run(argv) is None
    assert capsys.readouterr() == ("", "")


def _golden_commands() -> list[tuple[str, str, str]]:
    """(command, user, time) of every recorded sacct command line of the golden corpus."""
    found = []
    for path in sorted((GOLDEN / "sacct").glob("*.txt")):
        for entry in parse_case(path):
            if "sacct" in entry["command"].split():
                found.append((entry["command"], entry["user"], entry["time"]))
    return found


def test_golden_command_lines_match_typer(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = 0
    for command, user, when in _golden_commands():
        args = shlex.split(command)
        if args[:2] == ["runuser", "-u"]:
            user, args = args[2], args[4:]
        monkeypatch.setattr(sacct_cmd, "_now", lambda when=when: _epoch(when))
        monkeypatch.setattr(caller, "caller_uid", lambda user=user: USERS[user])
        fast, typer = both_ways(["--db", store, *args], capsys)
        if fast[0] is None:
            assert fast[1:] == ("", ""), command
            continue
        taken += 1
        assert fast == typer, command
    assert taken >= 20  # most of the corpus's command lines take the fast path


# ------------------------------------------------------------ the installed command

ENTRY = "from jobacct.client import entry; entry()"


def _run(argv: list[str], fastpath: str) -> tuple[int, bytes, bytes]:
    env = {
        "TZ": "UTC",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "JOBACCT_CONFIG": "/dev/null",
        sacct_fastpath.ENV_SWITCH: fastpath,
    }
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *argv], capture_output=True, env=env, timeout=60
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["sacct", "-j", "2,3", "-o", "JobID,JobName,State,ExitCode,Elapsed"],
        ["sacct", "-XPnj3"],
        ["sacct", "-j", "3.x"],
        ["sacct", "-j", "3", "-j", "2"],  # left to Typer either way
    ],
    ids=shlex.join,
)
def test_installed_command_same_bytes(args: list[str], store: str) -> None:
    fast = _run(["--db", store, *args], "1")
    assert fast == _run(["--db", store, *args], "0")
