"""Job and step ids as sacct -j takes them and as sacct prints them (§4.9)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobacct.jobid import (
    BATCH_STEP,
    EXTERN_STEP,
    INTERACTIVE_STEP,
    JobIdError,
    JobSelector,
    format_job_id,
    parse_displayed,
    parse_selector,
    parse_selectors,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123", JobSelector(123)),
        ("123.4", JobSelector(123, step_id=4)),
        ("123.batch", JobSelector(123, step_id=BATCH_STEP)),
        ("123.ext", JobSelector(123, step_id=EXTERN_STEP)),
        ("123.Interactive", JobSelector(123, step_id=INTERACTIVE_STEP)),
        ("123_7", JobSelector(123, array_task=7)),
        ("123_7.0", JobSelector(123, array_task=7, step_id=0)),
        ("123+1", JobSelector(123, het_offset=1)),
        ("123+1.0", JobSelector(123, het_offset=1, step_id=0)),
        ("123.0+1", JobSelector(123, step_id=0, step_het_component=1)),
    ],
)
def test_parse_selector(text: str, expected: JobSelector) -> None:
    assert parse_selector(text) == expected


@pytest.mark.parametrize(
    "text",
    ["12_", "1.2.3", "abc", "", "0", "3.x", "12abc", "123_[1-3]", "-5", "123.0+0", "99999999999"],
)
def test_parse_selector_rejects(text: str) -> None:
    with pytest.raises(JobIdError):
        parse_selector(text)


def test_parse_selectors_rejects_empty_items() -> None:
    assert len(parse_selectors("1,2.batch,3_4")) == 3
    with pytest.raises(JobIdError):
        parse_selectors("1,,2")


@given(
    st.integers(1, 2**31),
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.integers(0, 10**4), st.sampled_from([BATCH_STEP, EXTERN_STEP])),
)
def test_selector_text_round_trip(job: int, task: int | None, step: int | None) -> None:
    sel = JobSelector(job, array_task=task, step_id=step)
    assert parse_selector(str(sel)) == sel


def test_format_job_id_forms() -> None:
    assert format_job_id(127, 123, 4, None, None) == "123_4"
    assert format_job_id(123, 123, None, None, None, "1-5%2") == "123_[1-5%2]"
    assert format_job_id(124, None, None, 123, 1) == "123+1"
    assert format_job_id(5, None, None, None, None) == "5"


def test_parse_displayed() -> None:
    shown = parse_displayed("23_0.batch")
    assert (shown.job_id, shown.array_task, shown.step_id) == (23, 0, BATCH_STEP)
    assert parse_displayed("123_[1-5%2]").array_task_str == "1-5%2"
