"""``import sacct --keep-existing``: overlapping sacct output adds the new records and leaves
the stored ones exactly as they are (issue 15: re-importing replaced ``mem=91.00M`` by
``mem=91M`` on jobs the new output did not change)."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import jobacct

HEADER = "JobID|JobIDRaw|UID|State|Submit|End|TRESUsageInMax\n"
FIRST = (
    "900|900|0|COMPLETED|2026-11-22T00:00:00|2026-11-22T01:00:00|\n"
    "900.batch|900.batch|0|COMPLETED|2026-11-22T00:00:00|2026-11-22T01:00:00|"
    "cpu=00:00:01,mem=91.00M\n"
)
OVERLAP = (
    "900|900|0|COMPLETED|2026-11-22T00:00:00|2026-11-22T01:00:00|\n"
    "900.batch|900.batch|0|COMPLETED|2026-11-22T00:00:00|2026-11-22T01:00:00|"
    "cpu=00:00:01,mem=91M\n"
    "901|901|0|FAILED|2026-11-22T00:10:00|2026-11-22T01:00:00|\n"
    "901.batch|901.batch|0|FAILED|2026-11-22T00:10:00|2026-11-22T01:00:00|mem=12M\n"
)
VIEW = ["sacct", "-P", "-n", "-o", "JobID,State,TRESUsageInMax", "-j", "900,901"]


def test_keep_existing_adds_only_new_records(store_url: str, tmp_path: Path) -> None:
    first, overlap = tmp_path / "first.txt", tmp_path / "overlap.txt"
    first.write_text(HEADER + FIRST)
    overlap.write_text(HEADER + OVERLAP)
    assert jobacct("import", "sacct", "--cluster", "tux", str(first), db=store_url).returncode == 0
    kept = jobacct(
        "import", "sacct", "--cluster", "tux", "--keep-existing", str(overlap), db=store_url
    )
    assert kept.returncode == 0, kept.stderr
    assert "1 job and 1 step rows, 1 jobs and 1 steps new or changed" in kept.stderr
    assert "1 stored records kept as they are" in kept.stderr
    assert jobacct(*VIEW, db=store_url).stdout == (
        "900|COMPLETED|\n900.batch|COMPLETED|cpu=00:00:01,mem=91.00M\n"
        "901|FAILED|\n901.batch|FAILED|mem=12M\n"
    )
    # Again: nothing new, nothing changed.
    again = jobacct(
        "import", "sacct", "--cluster", "tux", "--keep-existing", str(overlap), db=store_url
    )
    assert "0 job and 0 step rows, 0 jobs and 0 steps new or changed" in again.stderr
    assert "2 stored records kept as they are" in again.stderr
    # Without it the input is the newer word on each record it holds (as before).
    plain = jobacct("import", "sacct", "--cluster", "tux", str(overlap), db=store_url)
    assert plain.returncode == 0
    assert "900.batch|COMPLETED|cpu=00:00:01,mem=91M\n" in jobacct(*VIEW, db=store_url).stdout
