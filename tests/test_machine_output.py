"""--json, -P and -n wherever a command lists records (issue 15): sjobexitmod -l and
--history, admin list, report -P/-n and --output-format."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import golden_db, jobacct  # noqa: F401  (golden_db: a fixture)
from tests.test_report_data import cancellation_jobs, failure_jobs, fill

WINDOW = ["-S", "2026-11-20", "-E", "2026-11-22"]
LISTED = (
    "JobID           Account   NNodes        NodeList      State ExitCode DerivedExitCode "
    "       Comment \n"
)


def test_sjobexitmod_listing(golden_db: str) -> None:  # noqa: F811
    table = jobacct("sjobexitmod", "-l", "37", db=golden_db)
    assert table.stdout.startswith(LISTED)  # Slurm's layout, as before
    parsable = jobacct("sjobexitmod", "-l", "37", "-P", db=golden_db)
    assert parsable.stdout == (
        "JobID|Account|NNodes|NodeList|State|ExitCode|DerivedExitCode|Comment\n"
        "37|lc|1|vm|FAILED|3:0|44:0|only a reason\n"
    )
    bare = jobacct("sjobexitmod", "-l", "37", "-P", "-n", db=golden_db)
    assert bare.stdout == "37|lc|1|vm|FAILED|3:0|44:0|only a reason\n"
    doc = json.loads(jobacct("sjobexitmod", "-l", "37", "--json", db=golden_db).stdout)
    assert doc == {"jobs": [{
        "JobID": "37", "Account": "lc", "NNodes": "1", "NodeList": "vm", "State": "FAILED",
        "ExitCode": "3:0", "DerivedExitCode": "44:0", "Comment": "only a reason",
    }]}  # fmt: skip


def test_sjobexitmod_history(golden_db: str) -> None:  # noqa: F811
    assert jobacct("sjobexitmod", "-e", "49", "-r", "oom|x", "37", db=golden_db).returncode == 0
    plain = jobacct("sjobexitmod", "--history", "37", db=golden_db).stdout.splitlines()
    assert plain[0] == "Time|JobID|Field|Old|New|UID|Command"
    assert plain[1].split("|")[1:] == ["37", "DerivedExitCode", "44:0", "49:0", "0", "sjobexitmod"]
    assert jobacct("sjobexitmod", "--history", "37", "-P", db=golden_db).stdout.splitlines() == (
        plain
    )
    assert (
        jobacct("sjobexitmod", "--history", "37", "-n", db=golden_db).stdout.splitlines()
        == (plain[1:])
    )
    doc = json.loads(jobacct("sjobexitmod", "--history", "37", "--json", db=golden_db).stdout)
    comment = doc["history"][1]
    assert comment["Field"] == "Comment" and comment["New"] == "oom|x"  # no '|' splitting
    assert comment["UID"] == 0 and comment["Old"] == "only a reason"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--json", "37"], "--json, -P and -n go with -l or --history"),
        (["-l", "--json", "-P", "37"], "--json and -P cannot be used together"),
        (["--history", "--json", "-n", "37"], "--json and -n cannot be used together"),
    ],
)
def test_sjobexitmod_bad_combinations(golden_db: str, args: list[str], message: str) -> None:  # noqa: F811
    result = jobacct("sjobexitmod", *args, db=golden_db)
    assert (result.returncode, result.stderr) == (2, f"jobacct: error: {message}\n")


def test_admin_list(golden_db: str) -> None:  # noqa: F811
    assert jobacct("admin", "add-coordinator", "4001", "chem", db=golden_db).returncode == 0
    assert jobacct("admin", "set-level", "4002", "Operator", db=golden_db).returncode == 0
    plain = jobacct("admin", "list", db=golden_db).stdout
    assert plain == "UID|User|AdminLevel|Coordinator of\n4001||None|chem\n4002||Operator|\n"
    assert jobacct("admin", "list", "-P", db=golden_db).stdout == plain
    assert jobacct("admin", "list", "-n", db=golden_db).stdout == plain.split("\n", 1)[1]
    doc = json.loads(jobacct("admin", "list", "--json", db=golden_db).stdout)
    assert doc == {"users": [
        {"UID": 4001, "User": None, "AdminLevel": "None", "Coordinator of": ["chem"]},
        {"UID": 4002, "User": None, "AdminLevel": "Operator", "Coordinator of": []},
    ]}  # fmt: skip


@pytest.fixture
def report_db(sqlite_url: str) -> str:
    fill(sqlite_url, failure_jobs() + cancellation_jobs())
    return sqlite_url.removeprefix("sqlite:///")


def test_report_parsable(report_db: str) -> None:
    out = jobacct("report", "failures", *WINDOW, "-P", db=report_db).stdout
    blocks = out.split("\n\n")
    assert blocks[0].startswith("Job Failures 2026-11-20T00:00:00 - 2026-11-21T23:59:59")
    assert blocks[1].startswith("Summary\nFigure|Value\nFailed jobs|")
    by_state = next(b for b in blocks if b.startswith("By state\n"))
    assert by_state.splitlines()[1] == "State|Jobs|Core-hours"
    rows = jobacct("report", "failures", *WINDOW, "-P", "-n", db=report_db).stdout
    assert "State|Jobs" not in rows and "Job Failures" not in rows
    assert by_state.split("\n", 2)[2] in rows  # the same rows, without title and header
    usage = jobacct("report", "utilization", *WINDOW, "-P", "-n", db=report_db).stdout
    assert usage.count("|") == usage.count("\n") and usage.split("|")[0] != "Cluster"


def test_report_output_format_and_its_old_name(report_db: str) -> None:
    new = jobacct("report", "failures", *WINDOW, "--output-format", "json", db=report_db)
    old = jobacct("report", "failures", *WINDOW, "--format", "json", db=report_db)
    assert new.returncode == 0 and new.stdout == old.stdout
    assert json.loads(new.stdout)["report"] == "failures"
    for args, message in (
        (["-P", "--output-format", "csv"], "-P and --output-format csv cannot be used together"),
        (["-n"], "-n/--noheader goes with -P"),
    ):
        bad = jobacct("report", "failures", *WINDOW, *args, db=report_db)
        assert (bad.returncode, bad.stderr) == (2, f"jobacct: error: {message}\n")
