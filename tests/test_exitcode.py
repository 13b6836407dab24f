"""ExitCode: parsing, raw wait-status round trips, and the DerivedExitCode rule (§1, §2)."""

from __future__ import annotations

import copy
import os
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobacct.exitcode import (
    ExitCode,
    ExitCodeError,
    derive_exit_code,
    derived_exit_code_text,
    sacct_exit_code_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", ExitCode(3, 0)),
        ("3:0", ExitCode(3, 0)),
        ("0:9", ExitCode(0, 9)),
        ("49", ExitCode(49, 0)),
        ("0", ExitCode(0, 0)),
        (" 255:0 ", ExitCode(255, 0)),
    ],
)
def test_parse(text: str, expected: ExitCode) -> None:
    assert ExitCode.parse(text) == expected


@pytest.mark.parametrize("text", ["300", "-1", "1:2:3", "abc", "", "3:", ":3", "0x10", "1:256"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ExitCodeError):
        ExitCode.parse(text)


# golden/README.md "How exit codes are stored": raw values measured on real Slurm.
@pytest.mark.parametrize(
    ("raw", "printed"),
    [
        (0, "0:0"),
        (256, "1:0"),
        (768, "3:0"),
        (1792, "7:0"),
        (12544, "49:0"),
        (65280, "255:0"),
        (1, "0:1"),
        (9, "0:9"),
        (137, "0:9"),
        (15, "0:15"),
        (139, "0:11"),
        (253, "0:125"),
        (49, "0:49"),
        (65535, "0:0"),
        (65536, "0:0"),
        (4294967295, "0:0"),
        (0xFFFFFFFE, "0:126"),
    ],
)
def test_from_wait_status_matches_sacct(raw: int, printed: str) -> None:
    assert str(ExitCode.from_wait_status(raw)) == printed


@given(st.integers(min_value=0, max_value=0xFFFF))
def test_from_wait_status_agrees_with_the_c_macros(status: int) -> None:
    code = ExitCode.from_wait_status(status)
    if os.WIFEXITED(status):
        assert code == ExitCode(os.WEXITSTATUS(status), 0)
    elif os.WIFSIGNALED(status):
        assert code == ExitCode(0, os.WTERMSIG(status))
    else:  # stopped or continued: sacct prints 0:0
        assert code == ExitCode(0, 0)


@given(
    st.one_of(
        st.builds(ExitCode, st.integers(0, 255), st.just(0)),
        st.builds(ExitCode, st.just(0), st.integers(1, 126)),
    )
)
def test_wait_status_round_trip(value: ExitCode) -> None:
    assert ExitCode.from_wait_status(value.to_wait_status()) == value
    assert ExitCode.parse(str(value)) == value


def test_oom_maps_to_slurm_pseudo_status() -> None:
    assert ExitCode(0, 125).to_wait_status() == 253


def _d(*codes: str | None) -> str:
    return str(derive_exit_code(None if c is None else ExitCode.parse(c) for c in codes))


def test_derived_golden_jobs() -> None:
    # Real Slurm (golden db/jobs_exit_view.tsv): the maximum raw status over counted steps.
    assert _d("7:0") == "7:0"  # job 3
    assert _d("0:0", "2:0", "5:0") == "5:0"  # job 4
    assert _d("0:9") == "0:9"  # job 5
    assert _d("2:0", "0:9", "0:11") == "2:0"  # job 7: any exit beats any signal
    assert _d() == "0:0"  # batch-only jobs


def test_derived_signals_larger_number_wins() -> None:
    assert _d("0:9", "0:15") == "0:15"
    assert _d("0:15", "0:9") == "0:15"


def test_derived_exit_beats_signal_regardless_of_order() -> None:
    assert _d("0:9", "1:0") == "1:0"
    assert _d("1:0", "0:9") == "1:0"


def test_derived_oom_rule_is_order_dependent() -> None:
    # §2.1: OOM replaces whatever is there when seen; a later non-zero exit replaces it again.
    assert _d("3:0", "0:125") == "0:125"
    assert _d("0:125", "3:0") == "3:0"
    assert _d("0:125", "0:9") == "0:125"


def test_derived_skips_steps_without_exit_code() -> None:
    assert _d(None, "2:0") == "2:0"


# ---------------------------------------------------------------- printing against the C rule


def _c_print_exitcode(raw: int) -> str:
    """src/sacct/print.c PRINT_EXITCODE of Slurm 22.05.8, transcribed (job and step lines)."""
    if raw == 0xFFFFFFFE:  # NO_VAL: the field stays empty
        return ""
    code = sig = 0
    low = raw & 0x7F
    if low not in (0, 0x7F):  # WIFSIGNALED
        sig = low
    elif low == 0:  # WIFEXITED
        code = (raw >> 8) & 0xFF
    if code >= 128:
        code -= 128
    return f"{code}:{sig}"


def _c_print_derived_ec(raw: int) -> str:
    """src/sacct/print.c PRINT_DERIVED_EC of Slurm 22.05.8, transcribed."""
    code = sig = 0
    low = raw & 0x7F
    if raw == 0xFFFFFFFE:
        pass
    elif low not in (0, 0x7F):
        sig = low
    elif low == 0:
        code = (raw >> 8) & 0xFF
    return f"{code}:{sig}"


def _stored(raw: int) -> tuple[int | None, int | None]:
    """What jobacct stores for a raw status (slurmdbd_import: NO_VAL is no exit code)."""
    if raw == 0xFFFFFFFE:
        return None, None
    value = ExitCode.from_wait_status(raw)
    return value.code, value.signal


_RAW = st.one_of(
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 255).map(lambda n: n << 8),  # every exit, 128..255 included
    st.integers(1, 127),  # every signal
    st.integers(1, 127).map(lambda n: n | 0x80),  # with the core-dump bit
    st.sampled_from([253, 35072, 34304, 36608, 65280, 0xFFFFFFFE, 0xFFFFFFFF]),
)


@given(_RAW)
def test_exitcode_prints_as_sacct_print_c(raw: int) -> None:
    """ExitCode takes 128 off a code >= 128; DerivedExitCode does not (§1.2, corrected)."""
    code, signal = _stored(raw)
    assert sacct_exit_code_text(code, signal) == _c_print_exitcode(raw)
    derived = ExitCode.from_wait_status(0 if raw == 0xFFFFFFFE else raw)
    assert derived_exit_code_text(derived.code, derived.signal) == _c_print_derived_ec(raw)


@pytest.mark.parametrize(
    ("raw", "exit_code", "derived"),
    [(35072, "9:0", "137:0"), (34304, "6:0", "134:0"), (36608, "15:0", "143:0"),
     (65280, "127:0", "255:0"), (32768, "0:0", "128:0"), (32512, "127:0", "127:0"),
     (137, "0:9", "0:9"), (253, "0:125", "0:125")],
)  # fmt: skip
def test_shell_exits_of_killed_children(raw: int, exit_code: str, derived: str) -> None:
    """The values of slurm-semantics.md §1.2's table, real sacct 22.05.8 output."""
    value = ExitCode.from_wait_status(raw)
    assert sacct_exit_code_text(value.code, value.signal) == exit_code
    assert derived_exit_code_text(value.code, value.signal) == derived


def test_exitcode_is_an_immutable_value() -> None:
    """Equal, hashable and pickled by value (import workers send them); fields cannot be set."""
    value = ExitCode(137, 0)
    assert value == ExitCode(137, 0) != ExitCode(0, 9)
    assert len({value, ExitCode(137, 0)}) == 1
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.deepcopy(value) == value
    assert repr(value) == "ExitCode(code=137, signal=0)"
    with pytest.raises(AttributeError):
        value.code = 1
    with pytest.raises(ExitCodeError):
        ExitCode(256, 0)
