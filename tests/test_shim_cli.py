"""``jobacct shim ingest`` through the real command: streaming, errors, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

from jobacct.shim.synthetic import job_events
from tests.test_cli import jobacct


def test_ingest_file_and_stdin(sqlite_url: str, tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in job_events(30)]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n\n")
    first = jobacct("shim", "ingest", "--batch-size", "50", str(source), db=sqlite_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"{len(lines)} events: {len(lines)} applied")
    assert first.stderr == ""  # no progress bar when stderr is not a terminal
    again = jobacct("shim", "ingest", db=sqlite_url, stdin="\n".join(lines))
    assert again.returncode == 0
    assert f"{len(lines)} already applied" in again.stdout
    listed = jobacct("sacct", "-j", "1000", "-P", "-o", "JobID,State", db=sqlite_url)
    assert listed.stdout.splitlines()[1].startswith("1000|")


def test_bad_line_is_one_error_line_naming_file_line_and_key(
    sqlite_url: str, tmp_path: Path
) -> None:
    lines = [json.dumps(e) for e in job_events(3)]
    bad = json.loads(lines[4])
    bad["time"] = "yesterday"
    lines[4] = json.dumps(bad)
    source = tmp_path / "bad.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = jobacct("shim", "ingest", str(source), db=sqlite_url)
    assert result.returncode == 1
    key = f"{bad['cluster']}/{bad['job_id_raw']}/{bad['submit']}/seq {bad['seq']}"
    assert result.stderr == (
        f"jobacct: error: event {source}:5 [{key}]: time: Input should be a valid integer"
        f" (nothing from {source}:1 on was applied;"
        " 0 events before it were)\n"
    )
    listed = jobacct("sacct", "-a", "-j", "1000", "-P", "-n", "-o", "JobID", db=sqlite_url)
    assert listed.stdout == ""


def test_not_json_and_unknown_type(sqlite_url: str, tmp_path: Path) -> None:
    source = tmp_path / "junk.jsonl"
    source.write_text("{not json\n")
    result = jobacct("shim", "ingest", str(source), db=sqlite_url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"jobacct: error: event {source}:1: not a JSON object")
    missing = jobacct("shim", "ingest", str(tmp_path / "nope.jsonl"), db=sqlite_url)
    assert missing.returncode == 1
    assert missing.stderr.startswith("jobacct: error: cannot read ")
