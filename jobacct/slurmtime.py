"""Slurm time syntax and sacct time/duration cell formats.

Pure helpers (standard library only) that reproduce how Slurm *reads* the
``-S``/``-E`` time arguments and how ``sacct`` *prints* dates, durations,
CPU times and time limits, plus strict inverses of every printer so that
stored or golden output can be read back.

Conventions:

* Epoch values are integer seconds since 1970-01-01T00:00:00 UTC.
* Wall-clock values are interpreted in ``tz``. ``tz=None`` means the process'
  local zone as configured by the ``TZ`` environment variable (the same zone C's
  ``localtime(3)``/``mktime(3)`` use), resolved per instant so daylight-saving
  transitions are honoured. Callers that change ``TZ`` at run time must call
  :func:`time.tzset` themselves.
* Sentinels follow ``slurm/slurm.h``: :data:`NO_VAL` (0xfffffffe) and
  :data:`INFINITE` (0xffffffff), 64-bit variants :data:`NO_VAL64` and
  :data:`INFINITE64`.

Sources: ``src/common/parse_time.c`` (``parse_time``, ``slurm_make_time_str``,
``secs2time_str``, ``mins2time_str``, ``time_str2mins``), ``src/sacct/print.c``
(``_elapsed_time``, Timelimit cell), ``src/common/print_fields.c``;
slurm-semantics.md §4.3, §4.4, §4.6.
"""

from __future__ import annotations

import datetime as _dt
import re
import time as _time

__all__ = [
    "DATE_NONE",
    "DATE_UNKNOWN",
    "INFINITE",
    "INFINITE64",
    "NO_VAL",
    "NO_VAL64",
    "PARTITION_LIMIT",
    "UNLIMITED",
    "TimeSpecError",
    "format_cpu_time",
    "format_date",
    "format_elapsed",
    "format_timelimit",
    "parse_cpu_time",
    "parse_date",
    "parse_elapsed",
    "parse_time",
    "parse_timelimit",
]

NO_VAL = 0xFFFFFFFE
"""``NO_VAL`` sentinel (``slurm/slurm.h``): value not set."""
INFINITE = 0xFFFFFFFF
"""``INFINITE`` sentinel (``slurm/slurm.h``): unlimited / cleared."""
NO_VAL64 = 0xFFFFFFFFFFFFFFFE
"""``NO_VAL64`` sentinel (``slurm/slurm.h``)."""
INFINITE64 = 0xFFFFFFFFFFFFFFFF
"""``INFINITE64`` sentinel (``slurm/slurm.h``)."""

DATE_UNKNOWN = "Unknown"
"""Date cell for a time of 0 or ``INFINITE`` (``_make_time_str_internal``)."""
DATE_NONE = "None"
"""Date cell for a time of ``NO_VAL``; sacct shows it as Start of a job that was
cancelled before it started (slurm-semantics.md §4.1 Start, §4.3)."""
UNLIMITED = "UNLIMITED"
"""Cell text for an ``INFINITE`` time limit or duration."""
PARTITION_LIMIT = "Partition_Limit"
"""Timelimit cell text for ``NO_VAL`` (``src/sacct/print.c`` PRINT_TIMELIMIT)."""

_STANDARD_FORMAT = "%Y-%m-%dT%H:%M:%S"
_MAX_USER_FORMAT_BYTES = 32  # sizeof(fmt_buf) in _make_time_str_internal
_DAY = 86400
_WEEK = 7 * _DAY
_BLANKS = " \t"
_SPACES = " \t\n\v\f\r"
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Delta units accepted after "now+"/"now-" (table ``un[]`` in parse_time.c).
_DELTA_UNITS: tuple[tuple[str, int], ...] = (
    ("seconds", 1),
    ("second", 1),
    ("minutes", 60),
    ("minute", 60),
    ("hours", 3600),
    ("hour", 3600),
    ("days", _DAY),
    ("day", _DAY),
    ("weeks", _WEEK),
    ("week", _WEEK),
)
# Keywords that set the time of day (hour, minute).
_TIME_KEYWORDS: tuple[tuple[str, int], ...] = (
    ("midnight", 0),
    ("noon", 12),
    ("elevenses", 11),
    ("fika", 15),
    ("teatime", 16),
)
_UTS_RE = re.compile(r"uts[ \t\n\v\f\r]*([+-]?[0-9]+)", re.IGNORECASE)
_LONG_MAX = 2**63 - 1


class TimeSpecError(ValueError):
    """A time specification that Slurm's ``parse_time()`` would reject.

    sacct itself prints ``Invalid time specification (pos=N): <str>`` and exits 1
    (slurm-semantics.md §4.5); this exception carries the same information.

    Attributes:
        text: The complete string that was being parsed.
        pos: 0-based character offset in ``text`` where parsing failed.
        token: The blank-delimited word of ``text`` that contains ``pos``.
    """

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos
        self.token = _token_at(text, pos)
        super().__init__(f"invalid time specification: {self.token!r}")


def _token_at(text: str, pos: int) -> str:
    """Return the blank-delimited word of ``text`` containing offset ``pos``."""
    if not text:
        return ""
    pos = max(0, min(pos, len(text) - 1))
    if text[pos] in _SPACES:
        # Point at a separator: name the next word, else the previous one.
        rest = text[pos:].split()
        if rest:
            return rest[0]
        before = text[:pos].split()
        return before[-1] if before else text
    start = pos
    while start > 0 and text[start - 1] not in _SPACES:
        start -= 1
    end = pos
    while end < len(text) and text[end] not in _SPACES:
        end += 1
    return text[start:end]


# --------------------------------------------------------------------------- zones


def _local(epoch: int, tz: _dt.tzinfo | None) -> _dt.datetime:
    """Aware local datetime for ``epoch`` in ``tz`` (``None``: TZ-environment zone).

    Raises:
        ValueError: ``epoch`` is outside the platform's representable range.
    """
    try:
        utc = _dt.datetime.fromtimestamp(epoch, _dt.UTC)
        return utc.astimezone(tz) if tz is not None else utc.astimezone()
    except (OverflowError, OSError) as exc:
        raise ValueError(f"time value out of range: {epoch}") from exc


def _wall_to_epoch(wall: _dt.datetime, tz: _dt.tzinfo | None) -> int:
    """Epoch seconds of naive wall-clock ``wall`` in ``tz``, like ``mktime(3)``.

    A wall-clock time that occurs twice (DST fall-back) resolves to the first
    occurrence; one that does not exist (spring-forward gap) is read with the
    offset in force before the gap, so ``02:30`` becomes ``03:30`` summer time
    (glibc ``mktime`` with ``tm_isdst=-1`` behaves the same).

    Raises:
        ValueError: the result is outside the platform's representable range.
    """
    try:
        if tz is None:
            return int(wall.timestamp())  # naive: system local zone via localtime
        return int(wall.replace(tzinfo=tz).timestamp())
    except (OverflowError, OSError) as exc:
        raise ValueError(f"time value out of range: {wall.isoformat()}") from exc


# ---------------------------------------------------------------------- parse_time


class _Spec:
    """Accumulated calendar fields while scanning a time specification (the class
    attributes are the starting values; each scan sets its own)."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    date_pos: int = 0
    hour: int | None = None
    minute: int = 0
    second: int = 0
    exact: int | None = None  # set by "now[+-N]" until another token overrides it

    def set_date(self, year: int | None, month: int, day: int, pos: int) -> None:
        self.year, self.month, self.day, self.date_pos = year, month, day, pos
        self.exact = None

    def set_clock(self, hour: int, minute: int, second: int) -> None:
        self.hour, self.minute, self.second = hour, minute, second
        self.exact = None


def _digit(text: str, i: int) -> int | None:
    """Value of the ASCII digit at ``text[i]``, or ``None`` (also past the end)."""
    if i < len(text) and "0" <= text[i] <= "9":
        return ord(text[i]) - 48
    return None


def _starts(text: str, i: int, word: str) -> bool:
    """Case-insensitive ``text[i:].startswith(word)`` (``xstrncasecmp`` prefix)."""
    return text[i : i + len(word)].lower() == word


def _time_keyword(text: str, i: int) -> tuple[str, int] | None:
    """The ``(keyword, hour)`` of a time-of-day keyword starting at ``text[i]``."""
    for name, hour in _TIME_KEYWORDS:
        if _starts(text, i, name):
            return name, hour
    return None


def _scan_delta(orig: str, text: str, i: int) -> tuple[int, int]:
    """Parse ``N[unit]`` after the sign of ``now+``/``now-`` (``_get_delta``).

    Args:
        orig: Original input, for error reporting.
        text: Input truncated at the first newline.
        i: Offset just after the sign.

    Returns:
        ``(seconds, next_offset)``. Blanks may appear anywhere in the count and
        before the unit; a missing unit means seconds; scanning stops after a unit.

    Raises:
        TimeSpecError: no digits, or a character that is neither digit, blank nor
            a spelled-out unit (``now-1d`` is rejected).
    """
    count = 0
    digits = 0
    while i < len(text):
        if text[i] in _SPACES:
            i += 1
            continue
        for name, mult in _DELTA_UNITS:
            if _starts(text, i, name):
                count *= mult
                i += len(name)
                break
        else:
            d = _digit(text, i)
            if d is None:
                raise TimeSpecError(orig, i)
            count = count * 10 + d
            digits += 1
            i += 1
            continue
        break
    if not digits:
        raise TimeSpecError(orig, i)
    return count, i


def _scan_clock(orig: str, text: str, i: int) -> tuple[int, int, int, int]:
    """Parse ``H[H]:MM[:SS] [AM|PM]`` at ``i`` (``_get_time``).

    Returns:
        ``(hour, minute, second, next_offset)`` with ``hour`` in 0..23.

    Raises:
        TimeSpecError: hour > 23, minute/second > 59, missing digits, or an
            AM/PM suffix that does not fit the hour (``13:00pm``).
    """
    start = i
    hour = _digit(text, i)
    if hour is None:
        raise TimeSpecError(orig, i)
    i += 1
    if i < len(text) and text[i] != ":":
        d = _digit(text, i)
        if d is None:
            raise TimeSpecError(orig, i)
        hour = hour * 10 + d
        i += 1
    if hour > 23:
        raise TimeSpecError(orig, start)
    if i >= len(text) or text[i] != ":":
        raise TimeSpecError(orig, i)
    i += 1

    def two_digits(at: int) -> int:
        hi, lo = _digit(text, at), _digit(text, at + 1)
        if hi is None or lo is None:
            raise TimeSpecError(orig, at if hi is None else at + 1)
        value = hi * 10 + lo
        if value > 59:
            raise TimeSpecError(orig, at)
        return value

    minute = two_digits(i)
    i += 2
    second = 0
    if i < len(text) and text[i] == ":":
        second = two_digits(i + 1)
        i += 3
    while i < len(text) and text[i] in _SPACES:
        i += 1
    if _starts(text, i, "pm"):
        hour += 12
        if hour == 24:
            hour = 12
        elif hour > 23:
            raise TimeSpecError(orig, i)
        i += 2
    elif _starts(text, i, "am"):
        if hour == 12:
            hour = 0
        elif hour > 12:
            raise TimeSpecError(orig, i)
        i += 2
    return hour, minute, second, i


def _scan_date(orig: str, text: str, i: int) -> tuple[int | None, int, int, int]:
    """Parse ``YYYY-MM-DD``, ``MMDD[YY]``, ``MM/DD[/YY]`` or ``MM.DD[.YY]`` (``_get_date``).

    Returns:
        ``(year or None, month 1..12, day 1..31, next_offset)``; a 2-digit year
        ``YY`` means ``20YY``. Calendar validity (e.g. 30 February) is checked
        later, once the year is known.

    Raises:
        TimeSpecError: month not 1..12, day not 1..31, missing digits, or a
            one-digit year.
    """
    n = len(text)
    if i + 7 < n and text[i + 4] == "-" and text[i + 7] == "-":
        iso_year = 0
        for k in range(4):
            d = _digit(text, i + k)
            if d is None:
                raise TimeSpecError(orig, i + k)
            iso_year = iso_year * 10 + d
        m1, m2 = _digit(text, i + 5), _digit(text, i + 6)
        if m1 is None or m2 is None or not 1 <= m1 * 10 + m2 <= 12:
            raise TimeSpecError(orig, i + 5)
        day, j = _scan_day(orig, text, i + 8)
        return iso_year, m1 * 10 + m2, day, j

    month = _digit(text, i)
    if month is None:
        raise TimeSpecError(orig, i)
    j = i + 1
    d = _digit(text, j)
    if d is not None:
        month = month * 10 + d
        j += 1
    if not 1 <= month <= 12:
        raise TimeSpecError(orig, i)
    if j < n and text[j] in "./":
        j += 1
    day, j = _scan_day(orig, text, j)
    if j < n and text[j] in "./":
        j += 1
    year: int | None = None
    y1 = _digit(text, j)
    if y1 is not None:
        y2 = _digit(text, j + 1)
        if y2 is None:
            raise TimeSpecError(orig, j + 1)
        year = 2000 + y1 * 10 + y2
        j += 2
    return year, month, day, j


def _scan_day(orig: str, text: str, i: int) -> tuple[int, int]:
    """Parse a 1-2 digit day of month (1..31) at ``i``; return ``(day, next_offset)``.

    Raises:
        TimeSpecError: no digit, or a value outside 1..31.
    """
    day = _digit(text, i)
    if day is None:
        raise TimeSpecError(orig, i)
    j = i + 1
    d = _digit(text, j)
    if d is not None:
        day = day * 10 + d
        j += 1
    if not 1 <= day <= 31:
        raise TimeSpecError(orig, i)
    return day, j


def parse_time(text: str, now: int, tz: _dt.tzinfo | None = None) -> int:
    """Parse a Slurm ``-S``/``-E`` time specification (past mode).

    Implements ``parse_time(time_str, past=1)`` from ``src/common/parse_time.c``
    (slurm-semantics.md §4.6). Tokens may be combined, separated by blanks,
    ``-`` or ``T``; later tokens override fields set by earlier ones:

    * ``H[H]:MM[:SS]`` optionally followed by ``AM``/``PM`` (blanks allowed before).
    * ``YYYY-MM-DD`` (2-digit month), ``MMDD[YY]``, ``MM/DD[/YY]``, ``MM.DD[.YY]``;
      ``YY`` means ``20YY``.
    * ``today``, ``tomorrow``, ``midnight`` (00:00), ``noon`` (12:00),
      ``elevenses`` (11:00), ``fika`` (15:00), ``teatime`` (16:00); case-insensitive.
    * ``now[+|-N[unit]]``; unit is ``second(s)``, ``minute(s)``, ``hour(s)``,
      ``day(s)`` or ``week(s)`` spelled out (default seconds), blanks allowed
      (``now - 1 day``). ``now`` must be followed by a sign or the end of input,
      but another token may follow the delta (``now-1day 10:00``).
    * ``uts<epoch>`` (whole input only; epoch >= 1000000) returns ``epoch``.

    Defaults: a date without a time means 00:00:00; a time without a date means
    today; a month/day without a year means this year, or last year when that
    month is later than the current month. Parsing stops at the first newline.

    Args:
        text: The specification.
        now: Current time, epoch seconds (UTC).
        tz: Zone of the wall-clock values; ``None`` is the ``TZ``-environment
            local zone.

    Returns:
        Epoch seconds (UTC).

    Raises:
        TimeSpecError: empty or unrecognised input, junk, hour > 23, minute or
            second > 59, month not 1..12, a date that does not exist (``2026-13-45``,
            ``2026-02-30``), or a result outside the representable range.
    """
    if _starts(text, 0, "uts"):
        m = _UTS_RE.fullmatch(text)
        value = int(m.group(1)) if m else 0
        if m is None or value < 1_000_000 or value >= _LONG_MAX:
            raise TimeSpecError(text, 3)
        return value

    line = text.split("\n", 1)[0]
    n = len(line)
    today = _local(now, tz)
    spec = _Spec()
    i = 0
    while i < n:
        ch = line[i]
        if _starts(line, i, "today"):
            spec.set_date(today.year, today.month, today.day, i)
            i += 5
            continue
        if _starts(line, i, "tomorrow"):
            later = _local(now + _DAY, tz)
            spec.set_date(later.year, later.month, later.day, i)
            i += 8
            continue
        keyword = _time_keyword(line, i)
        if keyword is not None:
            spec.set_clock(keyword[1], 0, 0)
            i += len(keyword[0])
            continue
        if ch in _BLANKS or ch in "-T":
            i += 1
            continue
        if _starts(line, i, "now"):
            i += 3
            delta = 0
            while i < n and line[i] in _BLANKS:
                i += 1
            if i < n:
                if line[i] not in "+-":
                    raise TimeSpecError(text, i)
                sign = -1 if line[i] == "-" else 1
                count, i = _scan_delta(text, line, i + 1)
                delta = sign * count
            target = now + delta
            try:
                when = _local(target, tz)
            except ValueError as exc:
                raise TimeSpecError(text, i) from exc
            spec.set_date(when.year, when.month, when.day, i)
            spec.set_clock(when.hour, when.minute, when.second)
            spec.exact = target
            continue
        if _digit(line, i) is None:
            raise TimeSpecError(text, i)
        if (i + 1 < n and line[i + 1] == ":") or (i + 2 < n and line[i + 2] == ":"):
            hour, minute, second, i = _scan_clock(text, line, i)
            spec.set_clock(hour, minute, second)
            continue
        start = i
        year, month, day, i = _scan_date(text, line, i)
        spec.set_date(year, month, day, start)

    if spec.exact is not None:
        return spec.exact
    if spec.hour is None and spec.month is None:
        raise TimeSpecError(text, 0)
    if spec.month is None or spec.day is None:
        month, day, year = today.month, today.day, today.year
    else:
        month, day = spec.month, spec.day
        if spec.year is not None:
            year = spec.year
        else:
            year = today.year - 1 if month > today.month else today.year
    hour = spec.hour if spec.hour is not None else 0
    minute, second = (spec.minute, spec.second) if spec.hour is not None else (0, 0)
    try:
        wall = _dt.datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise TimeSpecError(text, spec.date_pos) from exc
    try:
        return _wall_to_epoch(wall, tz)
    except ValueError as exc:
        raise TimeSpecError(text, spec.date_pos) from exc


# --------------------------------------------------------------------- dates


def _relative(when: _dt.datetime, today: _dt.datetime) -> str:
    """``SLURM_TIME_FORMAT=relative`` text (``_relative_date_fmt``).

    The day distance is computed like Slurm, on ``1000 * year + day_of_year``
    numbers, so across a new year the distance is large (31 Dec seen from
    1 Jan is not "Ystday"; it is printed in the far form).
    """
    distance = (1000 * when.year + when.timetuple().tm_yday) - (
        1000 * today.year + today.timetuple().tm_yday
    )
    hh_mm = f"{when.hour:02d}:{when.minute:02d}"
    if distance == -1:
        return f"Ystday {hh_mm}"
    if distance == 0:
        return f"{hh_mm}:{when.second:02d}"
    if distance == 1:
        return f"Tomorr {hh_mm}"
    if distance < -365 or distance > 365:
        return f"{when.day} {_MONTH_ABBR[when.month - 1]} {when.year}"
    if distance < -1 or distance > 6:
        return f"{when.day} {_MONTH_ABBR[when.month - 1]} {hh_mm}"
    return f"{_WEEKDAY_ABBR[when.weekday()]} {hh_mm}"


def format_date(
    epoch: int | None,
    fmt: str | None = None,
    now: int | None = None,
    tz: _dt.tzinfo | None = None,
) -> str:
    """Format a sacct date cell (Submit, Eligible, Start, End).

    ``slurm_make_time_str()`` / ``_make_time_str_internal()`` in
    ``src/common/parse_time.c``; slurm-semantics.md §4.3, §4.4.

    * ``None``, ``0`` or ``INFINITE`` -> :data:`DATE_UNKNOWN` (``Unknown``).
    * ``NO_VAL`` -> :data:`DATE_NONE` (``None``). A caller that stores "never
      started" differently (e.g. SQL NULL or 0 for Start of a job cancelled while
      pending) must map that to :data:`DATE_NONE` itself.
    * otherwise the local time in ``tz`` per ``fmt`` (the ``SLURM_TIME_FORMAT``
      value): ``None``, ``""`` or ``"standard"`` -> ``%Y-%m-%dT%H:%M:%S``;
      ``"relative"`` -> ``HH:MM:SS`` today, ``Ystday HH:MM``, ``Tomorr HH:MM``,
      ``Sat HH:MM`` (2..6 days ahead), ``18 Jun 13:14`` (other days of the same
      year), ``6 Jun 2012`` (other years: Slurm's ``1000 * year + yday`` distance
      exceeds 365 for any date outside the current year); any other string
      containing ``%`` and shorter than 32 bytes is passed to ``strftime`` verbatim.

    Fitting the text into a fixed column (``#`` fill on overflow, §4.3) is left
    to the caller.

    Args:
        epoch: Epoch seconds (UTC), or a sentinel / ``None``.
        fmt: ``SLURM_TIME_FORMAT`` value.
        now: Reference time for ``relative`` (epoch seconds); default: the clock.
        tz: Display zone; ``None`` is the ``TZ``-environment local zone.

    Returns:
        The cell text.

    Raises:
        ValueError: ``fmt`` is not ``standard``/``relative`` and has no ``%`` or is
            32 bytes or longer (message ``invalid SLURM_TIME_FORMAT``), or
            ``epoch`` is out of range.
    """
    if epoch is None or epoch in (0, INFINITE):
        return DATE_UNKNOWN
    if epoch == NO_VAL:
        return DATE_NONE
    if (
        fmt
        and fmt not in ("standard", "relative")
        and ("%" not in fmt or len(fmt.encode()) >= _MAX_USER_FORMAT_BYTES)
    ):
        raise ValueError("invalid SLURM_TIME_FORMAT")
    when = _local(epoch, tz)
    if not fmt or fmt == "standard":
        return (
            f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
            f"T{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
        )
    if fmt == "relative":
        ref = int(_time.time()) if now is None else now
        return _relative(when, _local(ref, tz))
    return when.strftime(fmt)


_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})")


def parse_date(text: str, tz: _dt.tzinfo | None = None) -> int | None:
    """Read back a standard-format date cell (inverse of :func:`format_date`).

    Args:
        text: ``YYYY-MM-DDTHH:MM:SS``, or ``Unknown``/``None``/``""``.
        tz: Zone the cell was printed in; ``None`` is the ``TZ``-environment zone.

    Returns:
        Epoch seconds, or ``None`` for ``Unknown``, ``None`` and the empty string.
        An ambiguous wall-clock time (DST fall-back) resolves to its first
        occurrence.

    Raises:
        ValueError: any other text, or a date/time that does not exist.
    """
    if text in ("", DATE_UNKNOWN, DATE_NONE):
        return None
    m = _DATE_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"invalid date: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups())
    try:
        wall = _dt.datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"invalid date: {text!r}") from exc
    return _wall_to_epoch(wall, tz)


# -------------------------------------------------------------------- durations


def _dhms(total: int) -> str:
    """``D-HH:MM:SS`` when ``total`` >= 1 day, else ``HH:MM:SS`` (``total`` >= 0)."""
    days, rest = divmod(total, _DAY)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def format_elapsed(seconds: int | None) -> str:
    """Format an Elapsed/CPUTime/Suspended/Planned cell.

    ``secs2time_str()`` in ``src/common/parse_time.c`` (slurm-semantics.md §4.4),
    with the blank-cell rule of ``print_fields_time_from_secs()``.

    Args:
        seconds: Duration in seconds.

    Returns:
        ``D-HH:MM:SS`` when >= 1 day, else ``HH:MM:SS`` (always with hours);
        ``INVALID`` if negative; ``UNLIMITED`` for ``INFINITE`` (0xffffffff);
        ``""`` for ``None``, ``NO_VAL64`` or ``INFINITE64``.
    """
    if seconds is None or seconds in (NO_VAL64, INFINITE64):
        return ""
    if seconds == INFINITE:
        return UNLIMITED
    if seconds < 0:
        return "INVALID"
    return _dhms(seconds)


_DHMS_RE = re.compile(r"(?:([0-9]+)-)?([0-9]{2}):([0-9]{2}):([0-9]{2})")


def parse_elapsed(text: str) -> int:
    """Read back an Elapsed-style cell (inverse of :func:`format_elapsed`).

    Args:
        text: ``[D-]HH:MM:SS`` (hours <= 23, minutes and seconds <= 59) or
            ``UNLIMITED``.

    Returns:
        Seconds; ``INFINITE`` for ``UNLIMITED``.

    Raises:
        ValueError: ``INVALID`` (a negative duration cannot be recovered), the
            empty string, or any other text.
    """
    if text == UNLIMITED:
        return INFINITE
    m = _DHMS_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"invalid elapsed time: {text!r}")
    days = int(m.group(1) or 0)
    hours, minutes, seconds = int(m.group(2)), int(m.group(3)), int(m.group(4))
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"invalid elapsed time: {text!r}")
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def format_cpu_time(usec: int | None) -> str:
    """Format a CPU-time cell (AveCPU, MinCPU, TotalCPU, UserCPU, SystemCPU).

    ``_elapsed_time()`` in ``src/sacct/print.c`` (slurm-semantics.md §4.4).

    Args:
        usec: CPU time in microseconds (sacct's ``sec * 1e6 + usec``).

    Returns:
        ``D-HH:MM:SS`` when >= 1 day; else ``HH:MM:SS`` when hours > 0; else
        ``MM:SS.mmm`` when the whole-millisecond part is non-zero; else
        ``00:MM:SS``. Sub-millisecond remainders are truncated, so 500 us prints
        ``00:00:00`` and 4321 us prints ``00:00.004``. ``""`` for ``None``.

    Raises:
        ValueError: ``usec`` is negative.
    """
    if usec is None:
        return ""
    if usec < 0:
        raise ValueError(f"negative CPU time: {usec}")
    secs, micro = divmod(usec, 1_000_000)
    millis = micro // 1000
    if secs >= 3600:
        return _dhms(secs)
    minutes, seconds = divmod(secs, 60)
    if millis:
        return f"{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"00:{minutes:02d}:{seconds:02d}"


_CPU_FRACTION_RE = re.compile(r"([0-9]{2}):([0-9]{2})\.([0-9]{3})")


def parse_cpu_time(text: str) -> int:
    """Read back a CPU-time cell (inverse of :func:`format_cpu_time`).

    Args:
        text: ``D-HH:MM:SS``, ``HH:MM:SS``, ``MM:SS.mmm`` or ``00:MM:SS``.

    Returns:
        Microseconds (the printed precision: whole milliseconds or seconds).

    Raises:
        ValueError: the empty string or any other text, or a field out of range
            (hours > 23, minutes or seconds > 59).
    """
    m = _CPU_FRACTION_RE.fullmatch(text)
    if m is not None:
        minutes, seconds, millis = (int(g) for g in m.groups())
        if minutes > 59 or seconds > 59:
            raise ValueError(f"invalid CPU time: {text!r}")
        return ((minutes * 60 + seconds) * 1000 + millis) * 1000
    if text == UNLIMITED:
        raise ValueError(f"invalid CPU time: {text!r}")
    try:
        return parse_elapsed(text) * 1_000_000
    except ValueError as exc:
        raise ValueError(f"invalid CPU time: {text!r}") from exc


def format_timelimit(minutes: int | None) -> str:
    """Format a Timelimit cell.

    PRINT_TIMELIMIT in ``src/sacct/print.c`` with ``mins2time_str()`` from
    ``src/common/parse_time.c`` (slurm-semantics.md §4.4).

    Args:
        minutes: Time limit in minutes.

    Returns:
        ``UNLIMITED`` for ``INFINITE``; ``Partition_Limit`` for ``NO_VAL``; ``""``
        for ``None`` and for 0 (sacct leaves a zero limit blank); otherwise
        ``D-HH:MM:SS`` when >= 1 day, else ``HH:MM:SS``, seconds always ``00``
        (1 minute -> ``00:01:00``).

    Raises:
        ValueError: ``minutes`` is negative.
    """
    if minutes is None or minutes == 0:
        return ""
    if minutes == INFINITE:
        return UNLIMITED
    if minutes == NO_VAL:
        return PARTITION_LIMIT
    if minutes < 0:
        raise ValueError(f"negative time limit: {minutes}")
    return _dhms(minutes * 60)


_TIMELIMIT_RE = re.compile(
    r"(?P<d>[0-9]+)-(?P<dh>[0-9]+)(?::(?P<dm>[0-9]+)(?::(?P<ds>[0-9]+))?)?"
    r"|(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+)"
    r"|(?P<mm>[0-9]+)(?::(?P<ss>[0-9]+))?"
)


def parse_timelimit(text: str) -> int | None:
    """Read a time limit (inverse of :func:`format_timelimit`).

    Accepts the forms of ``time_str2mins()`` (``src/common/parse_time.c``):
    ``D-HH:MM:SS``, ``D-HH:MM``, ``D-HH``, ``HH:MM:SS``, ``MM:SS`` and plain
    minutes; seconds round *up* to the next minute, as in ``time_str2mins``.

    Args:
        text: The cell or option text.

    Returns:
        Minutes; ``INFINITE`` for ``UNLIMITED`` (also ``INFINITE`` and ``-1``,
        case-insensitive); ``NO_VAL`` for ``Partition_Limit``; ``None`` for ``""``.

    Raises:
        ValueError: any other text.
    """
    if text == "":
        return None
    if text.upper() in ("UNLIMITED", "INFINITE", "-1"):
        return INFINITE
    if text == PARTITION_LIMIT:
        return NO_VAL
    m = _TIMELIMIT_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"invalid time limit: {text!r}")
    g = m.groupdict()

    def num(key: str) -> int:
        value = g[key]
        return int(value) if value is not None else 0

    if g["d"] is not None:
        secs = ((num("d") * 24 + num("dh")) * 60 + num("dm")) * 60 + num("ds")
    elif g["h"] is not None:
        secs = (num("h") * 60 + num("m")) * 60 + num("s")
    else:
        secs = num("mm") * 60 + num("ss")
    return -(-secs // 60)
