"""One state table for sacct's ``-s`` and scancel's ``-t`` (slurm-semantics.md §5.1, §5.2, §6.7)."""

from __future__ import annotations

import pytest

from jobacct.jobstate import ACCOUNTED_STATES, BASE_STATES, FLAG_STATES, job_state_num
from jobacct.query import FilterError, parse_states
from jobacct.scancel import ScancelExit, parse_state_option


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("pending", "PENDING"),
        ("PD", "PENDING"),
        (" r ", "RUNNING"),
        ("oom", "OUT_OF_MEMORY"),
        ("CG", "COMPLETING"),
        ("requeued", "REQUEUED"),
        ("RH", "REQUEUE_HOLD"),
        ("rd", "RESV_DEL_HOLD"),
        ("COMPLETE", None),
        ("CANCELED", None),
        ("EXPEDITING", None),
        ("", None),
    ],
)
def test_job_state_num(text: str, name: str | None) -> None:
    assert job_state_num(text) == name


def test_every_name_and_code_is_unique() -> None:
    names = [*BASE_STATES, *FLAG_STATES]
    codes = [*BASE_STATES.values(), *FLAG_STATES.values()]
    assert len(set(names)) == len(set(codes)) == 24


@pytest.mark.parametrize("name", [*BASE_STATES, *FLAG_STATES])
def test_sacct_takes_accounted_states_and_refuses_the_other_flags(name: str) -> None:
    code = {**BASE_STATES, **FLAG_STATES}[name]
    if name in ACCOUNTED_STATES:
        assert parse_states(f"{name.lower()},{code}") == [name]
    else:
        for token in (name, code.lower()):
            with pytest.raises(FilterError, match=f"^job state '{token}' is not supported"):
                parse_states(token)


@pytest.mark.parametrize("name", [*BASE_STATES, *FLAG_STATES])
def test_scancel_takes_any_state_job_state_num_knows(name: str) -> None:
    code = {**BASE_STATES, **FLAG_STATES}[name]
    assert parse_state_option(name.lower()) == name
    assert parse_state_option(code) == name


def test_scancel_refuses_unknown_states_in_its_words() -> None:
    with pytest.raises(ScancelExit) as bad:
        parse_state_option("COMPLETE")
    assert bad.value.lines == [
        "Invalid job state specified: COMPLETE",
        "Valid job states are PENDING, RUNNING, and SUSPENDED",
    ]
    with pytest.raises(ScancelExit) as bad_env:
        parse_state_option("x", from_env=True)
    assert bad_env.value.lines[0] == "Unrecognized SCANCEL_STATE value: x"
