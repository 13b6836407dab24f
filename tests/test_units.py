"""Tests for jobacct.units (convert_num_unit2, slurm-semantics.md §4.4)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from jobacct.units import UNITS, format_size, parse_size


def _golden_root() -> Path | None:
    for candidate in (
        Path(__file__).resolve().parent / "golden",
        Path("/work/shared/golden"),
    ):
        if (candidate / "sacct" / "03_parsable2_ALL.txt").is_file() and (
            candidate / "db" / "golden_step_table.tsv"
        ).is_file():
            return candidate
    return None


GOLDEN = _golden_root()


@pytest.mark.parametrize(
    ("value", "base", "text"),
    [
        # MaxRSS / AveRSS / VMSize: bytes (golden corpus values).
        (3379200, "", "3300K"),
        (50565120, "", "49380K"),
        (2621440, "", "2.50M"),
        (78278656, "", "76444K"),
        (146251776, "", "142824K"),
        (1024, "", "1K"),
        (1023, "", "1023"),
        (1536, "", "1.50K"),
        (1537, "", "1537"),
        (2048, "", "2K"),
        (1048576, "", "1M"),
        (1024**5, "", "1P"),
        (1024**6, "", "1?"),
        # ReqMem: MB base.
        (16000, "M", "16000M"),
        (1536, "M", "1.50G"),
        (4096, "M", "4G"),
        (4000, "M", "4000M"),
        (2048, "M", "2G"),
        (512, "M", "512M"),
        (1024 * 1024, "M", "1T"),
        # Zero and values below one print "0".
        (0, "", "0"),
        (0, "M", "0"),
        (0.0, "", "0"),
        (0.99, "K", "0"),
        # Non-integral values.
        (1.5, "", "1.50"),
        (2.125, "M", "2.12M"),
        (None, "", ""),
    ],
)
def test_format_size_exact(value: float | None, base: str, text: str) -> None:
    assert format_size(value, base) == text


def test_format_size_half_value_quirk() -> None:
    # 1024.5K stays "exact" for Slurm (integer part is a multiple of 512) and is
    # divided again, giving a rounded 1.00M.
    assert format_size(1049088) == "1.00M"


def test_format_size_aggressive() -> None:
    # AveCPUFreq: kHz base, divisor 1000, non-exact (golden act_cpufreq 2596 -> 2.60M).
    assert format_size(2596, "K", divisor=1000, exact=False) == "2.60M"
    assert format_size(4000, "M", exact=False) == "3.91G"
    assert format_size(999, "", divisor=1000, exact=False) == "999"
    assert format_size(1000, "", divisor=1000, exact=False) == "1K"
    # Energy in joules with divisor 1000.
    assert format_size(12345, "", divisor=1000, exact=False) == "12.35K"
    assert format_size(1500, "", divisor=1000) == "1.50K"
    assert format_size(1700, "", divisor=1000) == "1700"


def test_format_size_units_option() -> None:
    # sacct --units=G on MaxRSS 49380K (slurm-semantics.md §4.4).
    assert format_size(50565120, to_unit="G") == "0.05G"
    assert format_size(50565120, to_unit="k") == "49380K"
    assert format_size(16000, "M", to_unit="K") == "16384000K"
    assert format_size(16000, "M", to_unit="") == "16777216000"
    assert format_size(4000, "M", to_unit="M", exact=False) == "4000M"


def test_format_size_noconvert() -> None:
    assert format_size(50565120, convert=False) == "50565120"
    assert format_size(4096, "M", convert=False) == "4096M"
    assert format_size(4096, "M", convert=False, to_unit="G") == "4G"


@pytest.mark.parametrize(
    ("value", "base", "to_unit"),
    [
        (-1, "", None),
        (math.nan, "", None),
        (math.inf, "", None),
        (1, "X", None),
        (1, "", "Q"),
        (1, "KB", None),
    ],
)
def test_format_size_rejects(value: float, base: str, to_unit: str | None) -> None:
    with pytest.raises(ValueError):
        format_size(value, base, to_unit=to_unit)


def test_format_size_rejects_bad_divisor() -> None:
    with pytest.raises(ValueError):
        format_size(10, divisor=1)
    with pytest.raises(ValueError):
        parse_size("10", divisor=0)


@pytest.mark.parametrize(
    ("text", "base", "value"),
    [
        ("3300K", "", 3379200),
        ("49380K", "", 50565120),
        ("2.50M", "", 2621440),
        ("16000M", "M", 16000),
        ("1.50G", "M", 1536),
        ("4G", "M", 4096),
        ("4000M", "M", 4000),
        ("0", "", 0),
        ("0", "M", 0),
        ("1023", "", 1023),
        ("16000", "M", 16000),  # no suffix: already in base units
        ("2k", "", 2048),
        ("0.05G", "", 53687091),  # rounded to the nearest byte
        ("0.5K", "M", 0),  # 0.00048828125 M rounds to 0
        ("512K", "M", 0),  # exactly 0.5 M: ties to even
        ("1536K", "M", 2),  # 1.5 M: ties to even
        ("2.60M", "K", 2662),
        ("1P", "", 1024**5),
    ],
)
def test_parse_size(text: str, base: str, value: int) -> None:
    assert parse_size(text, base) == value


def test_parse_size_divisor() -> None:
    assert parse_size("2.60M", "K", divisor=1000) == 2600
    assert parse_size("12.35K", divisor=1000) == 12350


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "K",
        "abc",
        "1.5X",
        "-1",
        "+1",
        "1e3",
        " 1",
        "1 ",
        "1?",
        "1.M",
        ".5M",
        "1,5M",
        "1KB",
        "1MK",
        "inf",
        "nan",
        "0x10",
    ],
)
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_parse_size_rejects_bad_base() -> None:
    with pytest.raises(ValueError):
        parse_size("1K", "Z")


@given(
    mantissa=st.integers(min_value=1, max_value=2**20 - 1),
    power=st.integers(min_value=0, max_value=4),
    base=st.sampled_from(["", "K", "M"]),
)
def test_exact_roundtrip(mantissa: int, power: int, base: str) -> None:
    value = mantissa * 1024**power
    text = format_size(value, base)
    assume(not text.endswith("?"))  # beyond P: the scale is not recoverable
    assert parse_size(text, base) == value
    assert format_size(parse_size(text, base), base) == text


@given(
    value=st.integers(min_value=0, max_value=2**53),
    base=st.sampled_from(["", "K", "M"]),
    exact=st.booleans(),
    divisor=st.sampled_from([1000, 1024]),
)
def test_roundtrip_error_bound(value: int, base: str, exact: bool, divisor: int) -> None:
    text = format_size(value, base, divisor=divisor, exact=exact)
    assume(not text.endswith("?"))  # beyond P: the scale is not recoverable
    parsed = parse_size(text, base, divisor=divisor)
    suffix = text[-1] if text[-1].isalpha() else ""
    steps = UNITS.index(suffix) - UNITS.index(base)
    # %.2f keeps 0.005 of the printed unit; parse_size rounds to a whole base unit.
    assert abs(parsed - value) <= 0.005 * divisor**steps + 0.5


@given(
    number=st.integers(min_value=1, max_value=10**6),
    unit=st.sampled_from(["", "K", "M", "G", "T"]),
)
def test_canonical_text_roundtrip(number: int, unit: str) -> None:
    # Integral texts that exact mode would not divide further are canonical.
    if number >= 1024 and number % 512 == 0:
        number += 1
    text = f"{number}{unit}"
    assert format_size(parse_size(text)) == text


@pytest.mark.skipif(GOLDEN is None, reason="golden corpus not available")
def test_golden_memory_cells() -> None:
    assert GOLDEN is not None
    text = (GOLDEN / "sacct" / "03_parsable2_ALL.txt").read_text()
    body = text.split("--- stdout\n", 1)[1].split("\n--- ", 1)[0].splitlines()
    header = body[0].split("|")
    rows = [dict(zip(header, line.split("|"), strict=True)) for line in body[1:]]
    seen = 0
    for row in rows:
        for field in ("MaxRSS", "AveRSS", "MaxVMSize", "AveVMSize"):
            if row[field]:
                assert format_size(parse_size(row[field])) == row[field]
                seen += 1
        if row["ReqMem"]:
            assert parse_size(row["ReqMem"], "M") == 16000
            assert format_size(parse_size(row["ReqMem"], "M"), "M") == row["ReqMem"]
    assert seen > 20

    with (GOLDEN / "db" / "golden_step_table.tsv").open(newline="") as handle:
        steps = list(csv.DictReader(handle, delimiter="\t"))
    # TRES id 2 is mem (bytes), 7 is vmem; each must print like sacct's MaxRSS column.
    printed = {row["MaxRSS"] for row in rows if row["MaxRSS"]}
    for step in steps:
        tres = dict(item.split("=") for item in step["tres_usage_in_max"].split(",") if item)
        if "2" in tres:
            assert format_size(int(tres["2"])) in printed or int(tres["2"]) == 0
