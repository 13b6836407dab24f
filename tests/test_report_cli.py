"""``jobacct report`` through its real entry point: formats, windows, errors, options."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import time
from pathlib import Path

import pytest

from jobacct.errors import UsageError
from jobacct.report.units import parse_unit
from jobacct.report.window import Window, local_midnight, resolve_window
from tests.test_cli import jobacct
from tests.test_report_data import DAY, T, cancellation_jobs, failure_jobs, fill, job, ran

WINDOW = ["-S", "2026-11-20", "-E", "2026-11-22"]


@pytest.fixture
def db(sqlite_url: str) -> str:
    fill(sqlite_url, failure_jobs() + cancellation_jobs())
    return sqlite_url.removeprefix("sqlite:///")


def test_text_failures(db: str) -> None:
    result = jobacct("report", "failures", *WINDOW, db=db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Job Failures 2026-11-20T00:00:00 - 2026-11-21T23:59:59 (172800 secs)"
    assert lines[2:6] == [
        "Failed jobs: 8",
        "Core-hours in failed jobs: 27.00",
        "Failures marked success: 1",
        "Successes marked failure: 1",
    ]
    text = result.stdout
    assert (
        "By state\n"
        "+---------------+------+------------+\n"
        "| State         | Jobs | Core-hours |\n"
        "+---------------+------+------------+\n"
        "| FAILED        |    5 |      10.00 |\n"
        "| TIMEOUT       |    1 |       8.00 |\n"
        "| NODE_FAIL     |    1 |       5.00 |\n"
        "| OUT_OF_MEMORY |    1 |       4.00 |\n"
        "+---------------+------+------------+\n"
    ) in text
    assert "| alice |    4 |      13.00 |        50.00% |" in text
    assert "| 104   | tux     | bob   | FAILED    | 0:9      | 0:0             |" in text
    assert not any(line.endswith(" ") for line in lines)


def test_text_cancellations_and_filters(db: str) -> None:
    result = jobacct("report", "cancellations", *WINDOW, "-A", "ml", "-M", "tux", db=db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Job Cancellations 2026-11-20T00:00:00")
    assert lines[1] == "Filters: cluster=tux account=ml"
    assert "Cancelled jobs: 2" in lines
    assert "Core-hours lost: 6.00" in lines
    assert "| 70009        | bob   |    1 |       0 |       1 |         0 |            6.00 |" in (
        result.stdout
    )


def test_json_csv_markdown(db: str) -> None:
    doc = json.loads(jobacct("report", "failures", *WINDOW, "--format", "json", db=db).stdout)
    assert doc["report"] == "failures"
    assert doc["window"] == {
        "start": T,
        "end": T + 2 * DAY,
        "seconds": 172800,
        "text": "2026-11-20T00:00:00 - 2026-11-21T23:59:59 (172800 secs)",
    }
    assert doc["summary"]["Core-hours in failed jobs"] == 27.0
    top = next(t for t in doc["tables"] if t["key"] == "top-users")
    assert top["rows"][0] == {"User": "alice", "Jobs": 4, "Core-hours": 13.0, "% of failures": 50.0}

    out = jobacct("report", "cancellations", *WINDOW, "--format", "CSV", db=db).stdout
    blocks = list(csv.reader(io.StringIO(out)))
    assert blocks[0] == ["window", "start", "end", "seconds"]
    assert blocks[1] == [
        "Job Cancellations",
        "2026-11-20T00:00:00",
        "2026-11-21T23:59:59",
        "172800",
    ]
    at = blocks.index(["By reason"])
    assert blocks[at + 1 : at + 5] == [
        ["Reason", "Jobs", "Core-hours lost"],
        ["(none given)", "3", "1.50"],
        ["maintenance", "2", "6.00"],
        ["wrong input", "1", "4.00"],
    ]

    md = jobacct("report", "failures", *WINDOW, "--format", "markdown", db=db).stdout
    assert md.startswith("# Job Failures 2026-11-20T00:00:00 - 2026-11-21T23:59:59 (172800 secs)\n")
    assert "- Failed jobs: **8**\n" in md
    assert "| State | Jobs | Core-hours |\n|---|---:|---:|\n| FAILED | 5 | 10.00 |\n" in md


def test_usage_units_on_the_command_line(sqlite_url: str) -> None:
    fill(sqlite_url, [job(1, "alice", ncpus=3, **ran(T, 7200))])
    db = sqlite_url.removeprefix("sqlite:///")
    out = jobacct("report", "utilization", "-S", "2026-11-20", "-E", "2026-11-21", db=db)
    assert out.stdout.splitlines()[:2] == [
        "Cluster Utilization 2026-11-20T00:00:00 - 2026-11-20T23:59:59 (86400 secs)",
        "Usage reported in CPU Minutes",
    ]
    assert "| tux     |       360 |" in out.stdout
    hours = jobacct(
        "report", "top-users", "-S", "2026-11-20", "-E", "2026-11-21", "-t", "hourper", db=db
    )
    assert "Usage reported in CPU Hours/Percentage of Total" in hours.stdout
    assert "| tux     | alice | chem    | 6(100.00%) |" in hours.stdout


def test_empty_window_is_one_line(db: str) -> None:
    result = jobacct("report", "failures", "-S", "2026-10-01", "-E", "2026-10-02", db=db)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "Job Failures 2026-10-01T00:00:00 - 2026-10-01T23:59:59 (86400 secs): "
        "no failed, timed-out, out-of-memory or node-failed jobs in this window\n"
    )
    html = jobacct("report", "utilization", "-S", "2026-10-01", "-E", "2026-10-02",
                   "--format", "html", db=db)  # fmt: skip
    assert html.returncode == 0
    assert '<p class="empty">No job ran in this window.</p>' in html.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-S", "2026-11-22", "-E", "2026-11-20"],
         "end time 2026-11-20T00:00:00 is not after start time 2026-11-22T00:00:00"),
        (["-S", "2026-13-45"], "invalid time specification: '2026-13-45'"),
        (["-t", "fortnights"], "unknown time format 'fortnights'"),
        (["--format", "pdf"], "unknown report format 'pdf'"),
        (["--top", "0"], "invalid --top value '0'"),
        (["--mail-to", "not-an-address"], "invalid mail address 'not-an-address'"),
    ],
)  # fmt: skip
def test_bad_usage_exits_2(db: str, args: list[str], message: str) -> None:
    kind = "top-users" if "-t" in args or "--top" in args else "failures"
    result = jobacct("report", kind, *args, db=db)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("jobacct: error: ")
    assert message in result.stderr


def test_default_window_is_yesterday(db: str) -> None:
    before = time.time()
    result = jobacct("report", "failures", db=db)
    today = dt.datetime.fromtimestamp(before, dt.UTC).date()
    yesterday = today - dt.timedelta(days=1)
    assert result.returncode == 0
    assert result.stdout.startswith(
        f"Job Failures {yesterday}T00:00:00 - {yesterday}T23:59:59 (86400 secs)"
    )


def test_control_characters_are_shown_escaped(sqlite_url: str) -> None:
    fill(sqlite_url, [job(1, "ev\x1b[31mil", state="FAILED", exit_code=1, **ran(T, 60))])
    db = sqlite_url.removeprefix("sqlite:///")
    out = jobacct("report", "failures", "-S", "2026-11-20", "-E", "2026-11-21", db=db).stdout
    assert "ev\\x1b[31mil" in out
    assert "\x1b" not in out


def test_missing_database_is_status_3(tmp_path: object) -> None:
    result = jobacct("report", "failures", db="/nonexistent/x.sqlite")
    assert result.returncode == 3
    assert "does not exist" in result.stderr


# ------------------------------------------------------------------ window and units


def test_resolve_window_rules() -> None:
    now = T + DAY + 5 * 3600  # 2026-11-21T05:00:00Z
    assert resolve_window(None, None, now) == Window(T, T + DAY)
    assert resolve_window("2026-11-19", None, now) == Window(T - DAY, T + DAY)
    # A start after today's midnight, no end: up to now.
    assert resolve_window("now-1hour", None, now) == Window(now - 3600, now)
    assert resolve_window("now-7days midnight", "midnight", now) == Window(T - 6 * DAY, T + DAY)
    assert local_midnight(now) == T + DAY
    with pytest.raises(UsageError, match="is not after"):
        resolve_window("2026-11-20", "2026-11-20", now)
    assert Window(T, T + DAY).days() == [T]
    assert Window(T + 3600, T + DAY + 1).days() == [T, T + DAY]


def test_units_match_like_sreport() -> None:
    assert parse_unit(None).name == "Minutes"
    assert parse_unit("m").name == "Minutes"
    assert parse_unit("HOURS").name == "Hours"
    assert parse_unit("p").name == "Percent"
    assert parse_unit("s").name == "Seconds"
    assert parse_unit("secper").name == "SecPer"
    assert parse_unit("HourPer").name == "HourPer"
    with pytest.raises(UsageError):
        parse_unit("minp")  # the *Per units need 6 characters, and it is no Minutes prefix
    unit = parse_unit("minutes")
    # sreport's %.0lf: rounded to nearest (ties to even, as glibc printf).
    assert [unit.text(s, 0) for s in (29, 30, 90, 150, 89)] == ["0", "0", "2", "2", "1"]
    assert parse_unit("percent").text(1, 3) == "33.33%"
    assert parse_unit("percent").text(5, 0) == "0.00%"


@pytest.mark.parametrize("fmt", ["text", "csv", "markdown", "json"])
def test_report_into_a_closed_pipe_exits_0(tmp_path: Path, fmt: str) -> None:
    """Issue 15: `report ... | head -1` exited 1 (Rich's own broken-pipe exit); sacct exits 0."""
    import shutil
    import subprocess
    import sys

    store = tmp_path / "sample.sqlite"
    shutil.copy(Path(__file__).parent.parent / "sample_db" / "jobacct.sqlite", store)
    command = (
        f"{sys.executable} -m jobacct --db {store} report cancellations -S 2026-11-01"
        f" -E 2026-11-23 --format {fmt} | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TZ": "UTC"})  # fmt: skip
    assert (done.stdout, done.stderr) == ("0\n", "")
