"""Hostile and absurd input refused in one line (tracker issue 14, the first reproductions)."""

from __future__ import annotations

import pytest

from jobacct.cli import main
from jobacct.exitcode import ExitCode, ExitCodeError
from jobacct.fields import MAX_FIELD_WIDTH, FieldError, resolve_format
from jobacct.jobid import JobIdError, parse_selector


@pytest.mark.parametrize("text", ["\u0663", "\uff11", "1\uff10", "\u0663:0", "0:\u0669"])
def test_exit_codes_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ExitCodeError):
        ExitCode.parse(text)


@pytest.mark.parametrize("text", ["\uff12\uff10\uff11", "20\u0661", "201.\u0661", "2\u00b2"])
def test_job_ids_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(JobIdError):
        parse_selector(text)


@pytest.mark.parametrize(
    "spec", ["JobID%2000000000", "JobID%99999999999", "JobID%-99999999999999999999", "JobID%\uff12"]
)
def test_widths_are_bounded(spec: str) -> None:
    with pytest.raises(FieldError):
        resolve_format(spec)


def test_widest_width_still_allowed() -> None:
    assert resolve_format(f"JobID%{MAX_FIELD_WIDTH},State%-{MAX_FIELD_WIDTH}")[1].width == (
        -MAX_FIELD_WIDTH
    )


@pytest.mark.parametrize("spec", ["JobID%2000000000", "JobID%-99999999999999999999"])
def test_sacct_huge_width_is_one_error_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], spec: str
) -> None:
    status = main(["--db", sqlite_url, "sacct", "-j", "1", "-o", spec])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("jobacct: error: invalid width")
