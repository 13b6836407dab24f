"""Tests for jobacct.slurmtime (slurm-semantics.md §4.3, §4.4, §4.6)."""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from jobacct.slurmtime import (
    DATE_NONE,
    DATE_UNKNOWN,
    INFINITE,
    INFINITE64,
    NO_VAL,
    NO_VAL64,
    TimeSpecError,
    format_cpu_time,
    format_date,
    format_elapsed,
    format_timelimit,
    parse_cpu_time,
    parse_date,
    parse_elapsed,
    parse_time,
    parse_timelimit,
)

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


def epoch(iso: str, tz: dt.tzinfo = UTC) -> int:
    """Epoch of a naive ISO wall-clock string in ``tz`` (first occurrence on folds)."""
    return int(dt.datetime.fromisoformat(iso).replace(tzinfo=tz).timestamp())


# The golden corpus clock: `sacct -a -l` ran "as root at 2026-11-22T11:42:38" with TZ=UTC.
NOW = epoch("2026-11-22T11:42:37")


def _golden_root() -> Path | None:
    for candidate in (
        Path(__file__).resolve().parent / "golden",
        Path("/work/shared/golden"),
    ):
        if (candidate / "sacct" / "03_parsable2_ALL.txt").is_file() and (
            candidate / "db" / "golden_job_table.tsv"
        ).is_file():
            return candidate
    return None


GOLDEN = _golden_root()


# ------------------------------------------------------------------ parse_time


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # ISO forms, as used in the golden corpus (`-S 2026-11-22T00:00:00 -E ...`).
        ("2026-11-22T11:42:36", "2026-11-22T11:42:36"),
        ("2026-11-22T00:00:00", "2026-11-22T00:00:00"),
        ("2026-11-22T11:32", "2026-11-22T11:32:00"),
        ("2026-11-22", "2026-11-22T00:00:00"),
        ("2026-11-2", "2026-11-02T00:00:00"),
        ("2026-11-22 11:32:56", "2026-11-22T11:32:56"),
        ("2026-11-22-11:32:56", "2026-11-22T11:32:56"),
        ("2024-02-29", "2024-02-29T00:00:00"),
        # Time of day only -> today (past mode, even when later than now).
        ("11:32:56", "2026-11-22T11:32:56"),
        ("9:05", "2026-11-22T09:05:00"),
        ("23:59:59", "2026-11-22T23:59:59"),
        ("00:00", "2026-11-22T00:00:00"),
        # AM/PM, case-insensitive, blanks allowed before it.
        ("9:05am", "2026-11-22T09:05:00"),
        ("9:05 PM", "2026-11-22T21:05:00"),
        ("12:00am", "2026-11-22T00:00:00"),
        ("12:30pm", "2026-11-22T12:30:00"),
        ("0:30pm", "2026-11-22T12:30:00"),
        ("11:59:59 pm", "2026-11-22T23:59:59"),
        # Month/day without year: this year, or last year when the month is later.
        ("1122", "2026-11-22T00:00:00"),
        ("11/30", "2026-11-30T00:00:00"),
        ("1/5", "2026-01-05T00:00:00"),
        ("12/25", "2025-12-25T00:00:00"),
        ("12.25", "2025-12-25T00:00:00"),
        ("1225", "2025-12-25T00:00:00"),
        # ... with a 2-digit year (20YY).
        ("112225", "2025-11-22T00:00:00"),
        ("11/22/26", "2026-11-22T00:00:00"),
        ("12.25.27", "2027-12-25T00:00:00"),
        ("01/02/03", "2003-01-02T00:00:00"),
        # Date and time combined.
        ("11/20-14:00", "2026-11-20T14:00:00"),
        ("11/20 2:00pm", "2026-11-20T14:00:00"),
        ("1/5 9:30", "2026-01-05T09:30:00"),
        ("12/25/25T08:00:01", "2025-12-25T08:00:01"),
        # Keywords.
        ("today", "2026-11-22T00:00:00"),
        ("tomorrow", "2026-11-23T00:00:00"),
        ("midnight", "2026-11-22T00:00:00"),
        ("noon", "2026-11-22T12:00:00"),
        ("elevenses", "2026-11-22T11:00:00"),
        ("fika", "2026-11-22T15:00:00"),
        ("teatime", "2026-11-22T16:00:00"),
        ("TODAY", "2026-11-22T00:00:00"),
        ("Noon", "2026-11-22T12:00:00"),
        ("today noon", "2026-11-22T12:00:00"),
        ("tomorrow teatime", "2026-11-23T16:00:00"),
        ("teatime tomorrow", "2026-11-23T16:00:00"),
        ("2026-01-01 fika", "2026-01-01T15:00:00"),
        ("tomorrow 08:15", "2026-11-23T08:15:00"),
        # now[+-N[unit]].
        ("now", "2026-11-22T11:42:37"),
        ("NOW", "2026-11-22T11:42:37"),
        ("now-60", "2026-11-22T11:41:37"),
        ("now+90", "2026-11-22T11:44:07"),
        ("now-1second", "2026-11-22T11:42:36"),
        ("now-2seconds", "2026-11-22T11:42:35"),
        ("now-1minute", "2026-11-22T11:41:37"),
        ("now-5minutes", "2026-11-22T11:37:37"),
        ("now-1hour", "2026-11-22T10:42:37"),
        ("now+2hours", "2026-11-22T13:42:37"),
        ("now-1day", "2026-11-21T11:42:37"),
        ("now-1days", "2026-11-21T11:42:37"),
        ("now - 1 day", "2026-11-21T11:42:37"),
        ("now -1 DAYS", "2026-11-21T11:42:37"),
        ("now-1week", "2026-11-15T11:42:37"),
        ("now-2weeks", "2026-11-08T11:42:37"),
        ("now+0", "2026-11-22T11:42:37"),
        # A later token overrides the fields it sets.
        ("now-1days 10:00", "2026-11-21T10:00:00"),
        ("now-1days midnight", "2026-11-21T00:00:00"),
        ("10:00 now", "2026-11-22T11:42:37"),
        ("today 2026-01-01", "2026-01-01T00:00:00"),
    ],
)
def test_parse_time_utc(spec: str, expected: str) -> None:
    assert parse_time(spec, NOW, UTC) == epoch(expected)


def test_parse_time_uts() -> None:
    assert parse_time("uts1700000000", NOW, UTC) == 1700000000
    assert parse_time("UTS1000000", NOW, UTC) == 1000000


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "   ",
        "-",
        "T",
        "junk",
        "today junk",
        "yesterday",
        "now-1d",
        "now-1h",
        "now-",
        "now+ days",
        "now10",
        "now today",
        "now+1day+1hour",
        "2026-13-45",
        "2026-13-01",
        "2026-00-10",
        "2026-12-32",
        "2026-02-30",
        "2025-02-29",
        "2026-1-22",
        "24:00",
        "25:00",
        "10:60",
        "10:00:60",
        "10:5",
        "10:",
        "123:00",
        "13:00pm",
        "13:00am",
        "11",
        "13/01",
        "00/01",
        "11/00",
        "11/22/2",
        "2/30",
        "uts12",
        "uts",
        "uts1700000000x",
        "1700000000",
        "2026-11-22T11:42:36Z",
        "2026-11-22+01:00",
        "now+1dayx",
    ],
)
def test_parse_time_rejects(spec: str) -> None:
    with pytest.raises(TimeSpecError):
        parse_time(spec, NOW, UTC)


def test_time_spec_error_details() -> None:
    with pytest.raises(TimeSpecError) as info:
        parse_time("today junk", NOW, UTC)
    err = info.value
    assert isinstance(err, ValueError)
    assert str(err) == "invalid time specification: 'junk'"
    assert err.token == "junk"
    assert err.pos == 6
    assert err.text == "today junk"

    with pytest.raises(TimeSpecError) as info:
        parse_time("now-1d", NOW, UTC)
    assert info.value.token == "now-1d"
    assert info.value.pos == 5

    with pytest.raises(TimeSpecError) as info:
        parse_time("2026-13-45", NOW, UTC)
    assert str(info.value) == "invalid time specification: '2026-13-45'"
    assert info.value.pos == 5

    with pytest.raises(TimeSpecError) as info:
        parse_time("", NOW, UTC)
    assert str(info.value) == "invalid time specification: ''"
    assert info.value.pos == 0


def test_parse_time_stops_at_newline() -> None:
    assert parse_time("2026-11-22\njunk", NOW, UTC) == epoch("2026-11-22T00:00:00")


def test_parse_time_year_rollover_in_january() -> None:
    now = epoch("2027-01-03T10:00:00")
    assert parse_time("12/31", now, UTC) == epoch("2026-12-31T00:00:00")
    assert parse_time("01/02", now, UTC) == epoch("2027-01-02T00:00:00")
    assert parse_time("01/31", now, UTC) == epoch("2027-01-31T00:00:00")
    # Feb 29 of the default year must exist.
    with pytest.raises(TimeSpecError):
        parse_time("02/29", epoch("2026-03-01T00:00:00"), UTC)
    assert parse_time("02/29", epoch("2028-03-01T00:00:00"), UTC) == epoch("2028-02-29T00:00:00")


def test_parse_time_in_other_zone_uses_local_wall_clock() -> None:
    tz = dt.timezone(dt.timedelta(hours=-5))
    # 2026-11-22T02:00Z is still 2026-11-21 in UTC-5.
    now = epoch("2026-11-22T02:00:00")
    assert parse_time("today", now, tz) == epoch("2026-11-21T00:00:00", tz)
    assert parse_time("10:00", now, tz) == epoch("2026-11-21T15:00:00")
    assert parse_time("2026-11-22T11:42:36", NOW, tz) == epoch("2026-11-22T16:42:36")


class TestDst:
    """Europe/Berlin: CET->CEST 2026-03-29 01:00Z, CEST->CET 2026-10-25 01:00Z."""

    def test_winter_and_summer_offsets(self) -> None:
        assert parse_time("2026-01-15T12:00", NOW, BERLIN) == epoch("2026-01-15T11:00:00")
        assert parse_time("2026-07-15T12:00", NOW, BERLIN) == epoch("2026-07-15T10:00:00")

    def test_spring_forward_gap_is_moved_forward(self) -> None:
        # 02:30 does not exist on 2026-03-29; mktime(tm_isdst=-1) gives 03:30 CEST.
        assert parse_time("2026-03-29T02:30", NOW, BERLIN) == epoch("2026-03-29T01:30:00")
        assert format_date(epoch("2026-03-29T01:30:00"), tz=BERLIN) == "2026-03-29T03:30:00"

    def test_fall_back_ambiguous_takes_first(self) -> None:
        # 02:30 happens twice on 2026-10-25: first at 00:30Z (CEST), then 01:30Z (CET).
        assert parse_time("2026-10-25T02:30", NOW, BERLIN) == epoch("2026-10-25T00:30:00")

    def test_today_on_dst_day(self) -> None:
        now = epoch("2026-03-29T12:00:00")
        assert parse_time("today", now, BERLIN) == epoch("2026-03-28T23:00:00")
        assert parse_time("noon", now, BERLIN) == epoch("2026-03-29T10:00:00")
        assert parse_time("03/28", now, BERLIN) == epoch("2026-03-27T23:00:00")

    def test_now_delta_is_exact_across_dst(self) -> None:
        now = epoch("2026-03-29T12:00:00")
        assert parse_time("now-1day", now, BERLIN) == now - 86400
        # In the repeated hour "now" is returned as is, not re-derived from wall clock.
        second_0230 = epoch("2026-10-25T01:30:00")
        assert parse_time("now", second_0230, BERLIN) == second_0230

    def test_tomorrow_is_now_plus_24h(self) -> None:
        # Slurm takes the date of now+24h: at 23:30 CET the evening before the
        # switch, that instant is already 00:30 CEST two days later.
        now = epoch("2026-03-28T23:30:00", BERLIN)
        assert parse_time("tomorrow", now, BERLIN) == epoch("2026-03-30T00:00:00", BERLIN)
        now = epoch("2026-03-28T12:00:00", BERLIN)
        assert parse_time("tomorrow", now, BERLIN) == epoch("2026-03-29T00:00:00", BERLIN)


@pytest.fixture
def berlin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with TZ=Europe/Berlin as the process-local zone (tz=None)."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("berlin_env")
def test_default_zone_follows_tz_environment() -> None:
    winter = epoch("2026-01-15T11:00:00")
    summer = epoch("2026-07-15T10:00:00")
    assert format_date(winter) == "2026-01-15T12:00:00"
    assert format_date(summer) == "2026-07-15T12:00:00"
    assert parse_time("2026-01-15T12:00", NOW) == winter
    assert parse_time("2026-07-15T12:00", NOW) == summer
    assert parse_time("2026-03-29T02:30", NOW) == epoch("2026-03-29T01:30:00")
    assert parse_date("2026-07-15T12:00:00") == summer
    assert format_date(summer, "%H:%M %Z") == "12:00 CEST"


@given(st.integers(min_value=1, max_value=2**33))
def test_parse_time_reads_standard_dates_utc(value: int) -> None:
    assume(value not in (NO_VAL, INFINITE))
    assert parse_time(format_date(value, tz=UTC), NOW, UTC) == value


@given(st.integers(min_value=1, max_value=2**32))
def test_parse_time_reads_standard_dates_berlin(value: int) -> None:
    assume(value not in (NO_VAL, INFINITE))
    text = format_date(value, tz=BERLIN)
    parsed = parse_time(text, NOW, BERLIN)
    # Wall clock of the repeated hour maps back to its first occurrence.
    assert parsed in (value, value - 3600)
    assert format_date(parsed, tz=BERLIN) == text


@given(st.integers(min_value=1_000_000, max_value=2**62))
def test_parse_time_uts_roundtrip(value: int) -> None:
    assert parse_time(f"uts{value}", NOW, UTC) == value


@given(
    year=st.integers(min_value=2000, max_value=2099),
    month=st.integers(min_value=1, max_value=12),
    day=st.integers(min_value=1, max_value=28),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
    second=st.integers(min_value=0, max_value=59),
    sep=st.sampled_from(["/", "."]),
    joiner=st.sampled_from([" ", "-", "T", "  "]),
)
def test_parse_time_short_dates(
    year: int, month: int, day: int, hour: int, minute: int, second: int, sep: str, joiner: str
) -> None:
    spec = f"{month:02d}{sep}{day:02d}{sep}{year % 100:02d}{joiner}{hour}:{minute:02d}:{second:02d}"
    expected = dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    assert parse_time(spec, NOW, UTC) == int(expected.timestamp())


@given(
    count=st.integers(min_value=0, max_value=10**4),
    unit=st.sampled_from(
        [
            ("", 1),
            ("second", 1),
            ("seconds", 1),
            ("minute", 60),
            ("minutes", 60),
            ("hour", 3600),
            ("hours", 3600),
            ("day", 86400),
            ("days", 86400),
            ("week", 604800),
            ("weeks", 604800),
        ]
    ),
    sign=st.sampled_from(["+", "-"]),
    spaced=st.booleans(),
)
def test_parse_time_now_delta(count: int, unit: tuple[str, int], sign: str, spaced: bool) -> None:
    name, mult = unit
    gap = " " if spaced else ""
    spec = f"now{gap}{sign}{gap}{count}{gap if name else ''}{name.upper() if spaced else name}"
    delta = count * mult * (1 if sign == "+" else -1)
    assert parse_time(spec, NOW, UTC) == NOW + delta


# ------------------------------------------------------------------ format_date


def test_format_date_standard_golden() -> None:
    # Job 1 of the golden corpus: time_submit 1795347086, time_start 1795347089.
    assert format_date(1795347086, tz=UTC) == "2026-11-22T11:31:26"
    assert format_date(1795347089, None, tz=UTC) == "2026-11-22T11:31:29"
    assert format_date(1795347089, "standard", tz=UTC) == "2026-11-22T11:31:29"
    assert format_date(1795347089, "", tz=UTC) == "2026-11-22T11:31:29"
    assert format_date(1795347089, tz=BERLIN) == "2026-11-22T12:31:29"


def test_format_date_sentinels() -> None:
    assert format_date(None) == DATE_UNKNOWN == "Unknown"
    assert format_date(0) == "Unknown"
    assert format_date(INFINITE) == "Unknown"
    assert format_date(NO_VAL) == DATE_NONE == "None"
    assert format_date(0, "relative") == "Unknown"


def test_format_date_strftime_verbatim() -> None:
    value = epoch("2026-11-22T11:31:26")
    assert format_date(value, "%d/%m %H:%M", tz=UTC) == "22/11 11:31"
    assert format_date(value, "%s", tz=UTC) == str(value)
    assert format_date(value, "%Y%%", tz=UTC) == "2026%"
    assert format_date(value, "%Z", tz=BERLIN) == "CET"


@pytest.mark.parametrize("fmt", ["bogus", "STANDARD", "Relative", "%" + "x" * 31, "x" * 40])
def test_format_date_invalid_format(fmt: str) -> None:
    with pytest.raises(ValueError, match="invalid SLURM_TIME_FORMAT"):
        format_date(NOW, fmt, tz=UTC)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-11-22T11:42:37", "11:42:37"),  # same day
        ("2026-11-22T00:00:00", "00:00:00"),
        ("2026-11-22T23:59:59", "23:59:59"),
        ("2026-11-21T20:13:05", "Ystday 20:13"),
        ("2026-11-23T03:22:00", "Tomorr 03:22"),
        ("2026-11-24T02:17:00", "Tue 02:17"),  # 2 days ahead
        ("2026-11-28T02:17:00", "Sat 02:17"),  # 6 days ahead
        ("2026-11-29T02:17:00", "29 Nov 02:17"),  # 7 days ahead
        ("2026-11-20T13:14:00", "20 Nov 13:14"),  # 2 days back
        ("2026-06-18T13:14:00", "18 Jun 13:14"),
        ("2026-01-01T13:14:00", "1 Jan 13:14"),
        ("2026-12-31T13:14:00", "31 Dec 13:14"),
        # YYYYddd distance: any other calendar year is at least 636 "days" away.
        ("2025-12-31T13:14:00", "31 Dec 2025"),
        ("2027-01-01T13:14:00", "1 Jan 2027"),
        ("2012-06-06T13:14:00", "6 Jun 2012"),
        ("2030-01-09T08:00:00", "9 Jan 2030"),
    ],
)
def test_format_date_relative(when: str, expected: str) -> None:
    assert format_date(epoch(when), "relative", now=NOW, tz=UTC) == expected


def test_format_date_relative_uses_year_day_numbers() -> None:
    # Slurm compares 1000*year+yday, so 31 Dec is "far" when seen from 1 Jan.
    now = epoch("2027-01-01T09:00:00")
    assert format_date(epoch("2026-12-31T23:00:00"), "relative", now=now, tz=UTC) == "31 Dec 2026"
    assert format_date(epoch("2027-01-02T08:00:00"), "relative", now=now, tz=UTC) == (
        "Tomorr 08:00"
    )


def test_format_date_relative_in_zone() -> None:
    # 23:30Z on 22 Nov is already 23 Nov in Berlin: same day as "now" there.
    now = epoch("2026-11-23T08:00:00")
    assert format_date(epoch("2026-11-22T23:30:00"), "relative", now=now, tz=BERLIN) == "00:30:00"
    assert format_date(epoch("2026-11-22T23:30:00"), "relative", now=now, tz=UTC) == (
        "Ystday 23:30"
    )


def test_format_date_relative_defaults_to_clock() -> None:
    assert format_date(int(time.time()) - 1, "relative", tz=UTC).count(":") == 2


# ------------------------------------------------------------------ parse_date


def test_parse_date() -> None:
    assert parse_date("2026-11-22T11:31:26", UTC) == 1795347086
    assert parse_date("2026-11-22T12:31:26", BERLIN) == 1795347086
    assert parse_date("Unknown") is None
    assert parse_date("None") is None
    assert parse_date("") is None


@pytest.mark.parametrize(
    "text",
    [
        "unknown",
        "2026-11-22",
        "2026-11-22 11:31:26",
        "2026-11-22T11:31",
        "2026-13-01T00:00:00",
        "2026-02-30T00:00:00",
        "2026-11-22T24:00:00",
        " 2026-11-22T11:31:26",
        "#######",
    ],
)
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text, UTC)


@given(st.integers(min_value=1, max_value=2**34))
def test_date_roundtrip_utc(value: int) -> None:
    assume(value not in (NO_VAL, INFINITE))
    text = format_date(value, tz=UTC)
    assert parse_date(text, UTC) == value
    assert format_date(parse_date(text, UTC), tz=UTC) == text


@given(st.integers(min_value=1, max_value=2**32))
def test_date_roundtrip_berlin(value: int) -> None:
    assume(value not in (NO_VAL, INFINITE))
    text = format_date(value, tz=BERLIN)
    parsed = parse_date(text, BERLIN)
    assert parsed in (value, value - 3600)
    assert format_date(parsed, tz=BERLIN) == text


# ------------------------------------------------------------------ elapsed


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00:00"),
        (3, "00:00:03"),
        (81, "00:01:21"),  # job 12 (TIMEOUT) in the golden corpus
        (90, "00:01:30"),
        (3599, "00:59:59"),
        (3600, "01:00:00"),
        (86399, "23:59:59"),
        (86400, "1-00:00:00"),
        (90061, "1-01:01:01"),
        (10 * 86400 + 5, "10-00:00:05"),
        (INFINITE - 1, "49710-06:28:14"),
        (INFINITE, "UNLIMITED"),
        (-1, "INVALID"),
        (-86400, "INVALID"),
        (None, ""),
        (NO_VAL64, ""),
        (INFINITE64, ""),
    ],
)
def test_format_elapsed(seconds: int | None, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_parse_elapsed() -> None:
    assert parse_elapsed("00:01:21") == 81
    assert parse_elapsed("1-00:00:00") == 86400
    assert parse_elapsed("0-01:00:00") == 3600
    assert parse_elapsed("UNLIMITED") == INFINITE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "INVALID",
        "1:00:00",
        "00:60:00",
        "24:00:00",
        "00:00:60",
        "01:00",
        "1-",
        "-01:00:00",
        "00:00:00.5",
        "1-1:00:00",
        "x",
        " 00:00:00",
    ],
)
def test_parse_elapsed_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_elapsed(text)


@given(st.integers(min_value=0, max_value=2**40))
def test_elapsed_roundtrip(seconds: int) -> None:
    assume(seconds != INFINITE)
    text = format_elapsed(seconds)
    assert parse_elapsed(text) == seconds
    assert format_elapsed(parse_elapsed(text)) == text


# ------------------------------------------------------------------ CPU time


@pytest.mark.parametrize(
    ("usec", "text"),
    [
        (0, "00:00:00"),
        (500, "00:00:00"),  # below one millisecond
        (767, "00:00:00"),  # golden 1.batch SystemCPU (sys_usec 767)
        (3385, "00:00.003"),  # golden 1.batch UserCPU (user_usec 3385)
        (4152, "00:00.004"),  # golden 1.batch TotalCPU (3385 + 767)
        (7_000, "00:00.007"),
        (54_999, "00:00.054"),
        (1_000_000, "00:00:01"),
        (1_000_999, "00:00:01"),
        (1_001_000, "00:01.001"),
        (61_500_000, "01:01.500"),
        (3_599_999_999, "59:59.999"),
        (3_599_000_000, "00:59:59"),
        (3_600_000_000, "01:00:00"),
        (3_600_500_000, "01:00:00"),  # sub-second dropped once hours are shown
        (86_399_000_000, "23:59:59"),
        (86_400_000_000, "1-00:00:00"),
        (90_061_123_456, "1-01:01:01"),
        (None, ""),
    ],
)
def test_format_cpu_time(usec: int | None, text: str) -> None:
    assert format_cpu_time(usec) == text


def test_format_cpu_time_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_cpu_time(-1)


@pytest.mark.parametrize(
    ("text", "usec"),
    [
        ("00:00.004", 4000),
        ("00:00.054", 54000),
        ("00:00:00", 0),
        ("01:01.500", 61_500_000),
        ("00:59:59", 3_599_000_000),
        ("01:00:00", 3_600_000_000),
        ("1-01:01:01", 90_061_000_000),
    ],
)
def test_parse_cpu_time(text: str, usec: int) -> None:
    assert parse_cpu_time(text) == usec


@pytest.mark.parametrize(
    "text",
    [
        "",
        "UNLIMITED",
        "INVALID",
        "00:00.4",
        "00:00.0040",
        "0:00.004",
        "60:00.001",
        "00:60.001",
        "1:00:00",
        "00:00",
        "abc",
        "00:00:00.004",
    ],
)
def test_parse_cpu_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cpu_time(text)


@given(st.integers(min_value=0, max_value=10**15))
def test_cpu_time_roundtrip(usec: int) -> None:
    text = format_cpu_time(usec)
    parsed = parse_cpu_time(text)
    assert format_cpu_time(parsed) == text
    precision = 1_000_000 if usec >= 3_600_000_000 or usec % 1_000_000 < 1000 else 1000
    assert parsed == usec - usec % precision


# ------------------------------------------------------------------ time limit


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (1, "00:01:00"),  # golden job 12: `sbatch --time=1`
        (59, "00:59:00"),
        (60, "01:00:00"),
        (1439, "23:59:00"),
        (1440, "1-00:00:00"),
        (2 * 1440 + 61, "2-01:01:00"),
        (INFINITE, "UNLIMITED"),
        (NO_VAL, "Partition_Limit"),
        (0, ""),
        (None, ""),
    ],
)
def test_format_timelimit(minutes: int | None, text: str) -> None:
    assert format_timelimit(minutes) == text


def test_format_timelimit_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_timelimit(-5)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("00:01:00", 1),
        ("1-00:00:00", 1440),
        ("2-01:01:00", 2941),
        ("01:00:00", 60),
        ("30:00", 30),  # MM:SS
        ("30:01", 31),  # seconds round up (time_str2mins)
        ("00:00:30", 1),
        ("90", 90),
        ("0", 0),
        ("1-2", 1560),  # D-HH
        ("1-02:30", 1590),  # D-HH:MM
        ("UNLIMITED", INFINITE),
        ("unlimited", INFINITE),
        ("INFINITE", INFINITE),
        ("-1", INFINITE),
        ("Partition_Limit", NO_VAL),
        ("", None),
    ],
)
def test_parse_timelimit(text: str, minutes: int | None) -> None:
    assert parse_timelimit(text) == minutes


@pytest.mark.parametrize("text", ["abc", "1:2:3:4", "1-2-3", "-5", "1.5", " 10", "10m", "1-"])
def test_parse_timelimit_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timelimit(text)


@given(st.integers(min_value=1, max_value=2**32 - 1))
def test_timelimit_roundtrip(minutes: int) -> None:
    text = format_timelimit(minutes)
    parsed = parse_timelimit(text)
    if minutes not in (NO_VAL, INFINITE):
        assert parsed == minutes
    assert format_timelimit(parsed) == text


# ------------------------------------------------------------------ golden corpus


def _sacct_rows(path: Path) -> list[dict[str, str]]:
    text = path.read_text()
    body = text.split("--- stdout\n", 1)[1].split("\n--- ", 1)[0]
    lines = body.splitlines()
    header = lines[0].split("|")
    return [dict(zip(header, line.split("|"), strict=True)) for line in lines[1:]]


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.skipif(GOLDEN is None, reason="golden corpus not available")
def test_golden_job_rows() -> None:
    assert GOLDEN is not None
    jobs = {row["id_job"]: row for row in _tsv(GOLDEN / "db" / "golden_job_table.tsv")}
    rows = [
        r
        for r in _sacct_rows(GOLDEN / "sacct" / "03_parsable2_ALL.txt")
        if "." not in r["JobIDRaw"]
    ]
    assert rows
    for row in rows:
        job = jobs[row["JobIDRaw"]]
        assert format_date(int(job["time_submit"]), tz=UTC) == row["Submit"]
        assert format_date(int(job["time_eligible"]), tz=UTC) == row["Eligible"]
        assert format_date(int(job["time_start"]), tz=UTC) == row["Start"]
        assert format_date(int(job["time_end"]), tz=UTC) == row["End"]
        assert format_timelimit(int(job["timelimit"])) == row["Timelimit"]
        elapsed = int(job["time_end"]) - int(job["time_start"])
        assert format_elapsed(elapsed) == row["Elapsed"]
        assert parse_elapsed(row["Elapsed"]) == int(row["ElapsedRaw"])
        assert parse_date(row["Submit"], UTC) == int(job["time_submit"])
        assert parse_time(row["End"], NOW, UTC) == int(job["time_end"])


@pytest.mark.skipif(GOLDEN is None, reason="golden corpus not available")
def test_golden_step_cpu_times() -> None:
    assert GOLDEN is not None
    job_table = _tsv(GOLDEN / "db" / "golden_job_table.tsv")
    jobs = {row["job_db_inx"]: row["id_job"] for row in job_table}
    names = {"-5": "batch", "-4": "extern", "-6": "interactive"}
    steps: dict[str, dict[str, str]] = {}
    for step in _tsv(GOLDEN / "db" / "golden_step_table.tsv"):
        key = f"{jobs[step['job_db_inx']]}.{names.get(step['id_step'], step['id_step'])}"
        steps[key] = step
    checked = 0
    for row in _sacct_rows(GOLDEN / "sacct" / "03_parsable2_ALL.txt"):
        found = steps.get(row["JobIDRaw"])
        if found is None:
            continue
        step = found
        user = int(step["user_sec"]) * 1_000_000 + int(step["user_usec"])
        system = int(step["sys_sec"]) * 1_000_000 + int(step["sys_usec"])
        assert format_cpu_time(user) == row["UserCPU"]
        assert format_cpu_time(system) == row["SystemCPU"]
        assert format_cpu_time(user + system) == row["TotalCPU"]
        for field in ("UserCPU", "SystemCPU", "TotalCPU", "AveCPU", "MinCPU"):
            if row[field]:
                assert format_cpu_time(parse_cpu_time(row[field])) == row[field]
        assert format_date(int(step["time_start"]), tz=UTC) == row["Start"]
        checked += 1
    assert checked > 20
