"""Slurm unit-suffixed number formatting (``2.50M``, ``3300K``, ``16000M``).

Pure helpers (standard library only) reproducing ``convert_num_unit2()`` from
``src/common/slurm_protocol_api.c`` as used by sacct for memory, disk, page,
node-count, energy and CPU-frequency cells, and a strict inverse.

Unit ladder: ``""`` (base), ``K``, ``M``, ``G``, ``T``, ``P``; each step is
``divisor`` (1024 for sizes, 1000 for energy and CPU frequency). A value pushed
past ``P`` gets the suffix ``?`` like Slurm. See slurm-semantics.md §4.4.
"""

from __future__ import annotations

import math
import re

__all__ = ["UNITS", "format_size", "parse_size"]

UNITS = ("", "K", "M", "G", "T", "P")
"""Unit suffixes in ascending order (``unit[]`` in ``convert_num_unit2``)."""

_UNKNOWN_SUFFIX = "?"
_SIZE_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?([KMGTPkmgtp]?)")


def _unit_index(unit: str, what: str) -> int:
    """Index of ``unit`` (case-insensitive) in :data:`UNITS`.

    Raises:
        ValueError: ``unit`` is not one of ``"" K M G T P``.
    """
    upper = unit.upper()
    if upper not in UNITS:
        raise ValueError(f"invalid {what} {unit!r}: expected one of K, M, G, T, P or ''")
    return UNITS.index(upper)


def format_size(
    value: float | int | None,
    base_unit: str = "",
    *,
    divisor: int = 1024,
    exact: bool = True,
    to_unit: str | None = None,
    convert: bool = True,
) -> str:
    """Format a number with Slurm's unit suffixes (``convert_num_unit2``).

    ``src/common/slurm_protocol_api.c`` ``convert_num_unit2()``;
    slurm-semantics.md §4.4. The value is handled as a C ``double``:

    * a value whose integer part is 0 prints ``0`` (no suffix, no decimals);
    * ``to_unit`` given (sacct ``--units``): scale up or down to exactly that unit;
      this overrides ``exact`` and ``convert``;
    * ``convert=False`` (sacct ``--noconvert``): keep ``base_unit``;
    * ``exact=True`` (sacct's default ``CONVERT_NUM_UNIT_EXACT``): divide by
      ``divisor`` while the value is >= ``divisor`` and its integer part is a
      multiple of ``divisor // 2``, so half values stay exact (1536M -> ``1.50G``,
      4000M stays ``4000M``, 4096M -> ``4G``);
    * ``exact=False`` (energy, AveCPUFreq): divide while >= ``divisor``.

    The number is printed without decimals when it is integral, else ``%.2f``,
    followed by the unit suffix (none for the base unit ``""``).

    Args:
        value: Amount in ``base_unit`` units, or ``None``.
        base_unit: Unit of ``value``: ``""`` (bytes, counts; MaxRSS, AveVMSize,
            pages), ``"K"`` (kHz for AveCPUFreq) or ``"M"`` (MB for ReqMem), ...
        divisor: Step between units, 1024 or 1000.
        exact: Exact-conversion mode (see above).
        to_unit: Target unit for sacct ``--units=[KMGTP]``, case-insensitive.
        convert: ``False`` disables conversion (``--noconvert``).

    Returns:
        The formatted text; ``""`` for ``None``.

    Raises:
        ValueError: ``value`` is negative, NaN or infinite; ``base_unit`` or
            ``to_unit`` is not a known unit; ``divisor`` < 2.
    """
    if value is None:
        return ""
    if divisor < 2:
        raise ValueError(f"invalid divisor {divisor}")
    num = float(value)
    if not math.isfinite(num) or num < 0:
        raise ValueError(f"cannot format {value!r} as a size")
    index = _unit_index(base_unit, "base unit")
    target = None if to_unit is None else _unit_index(to_unit, "unit")
    if int(num) == 0:
        return "0"
    if target is not None:
        while index > target:
            num *= divisor
            index -= 1
        while index < target:
            num /= divisor
            index += 1
    elif not convert:
        pass
    elif exact:
        half = divisor // 2
        while num >= divisor and int(num) % half == 0:
            num /= divisor
            index += 1
    else:
        while num >= divisor:
            num /= divisor
            index += 1
    suffix = UNITS[index] if index < len(UNITS) else _UNKNOWN_SUFFIX
    whole = int(num)
    if float(whole) == num:
        return f"{whole}{suffix}"
    return f"{num:.2f}{suffix}"


def parse_size(text: str, base_unit: str = "", *, divisor: int = 1024) -> int:
    """Read back a unit-suffixed number (inverse of :func:`format_size`).

    Args:
        text: ``<digits>[.<digits>][K|M|G|T|P]`` (suffix case-insensitive). A
            number without a suffix is taken to be in ``base_unit`` (this is how
            sacct prints ``0`` and unconverted/raw values).
        base_unit: Unit of the result: ``""``, ``"K"``, ``"M"``, ...
        divisor: Step between units, 1024 or 1000.

    Returns:
        The amount in ``base_unit`` units, rounded to the nearest integer (ties to
        even) when the text has more precision than the base unit can hold, e.g.
        ``3300K`` -> 3379200, ``2.50M`` -> 2621440, ``16000M`` with base ``"M"`` ->
        16000, ``1.50G`` with base ``"M"`` -> 1536.

    Raises:
        ValueError: empty text, signs, exponents, blanks, the ``?`` suffix or any
            other junk; an unknown ``base_unit``; ``divisor`` < 2.
    """
    if divisor < 2:
        raise ValueError(f"invalid divisor {divisor}")
    base = _unit_index(base_unit, "base unit")
    m = _SIZE_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"invalid size: {text!r}")
    from fractions import Fraction  # here: fractions and decimal cost sacct's start-up 2 ms

    whole, frac, suffix = m.groups()
    amount = Fraction(int(whole)) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    index = _unit_index(suffix, "unit") if suffix else base
    scaled = amount * Fraction(divisor) ** (index - base)
    return round(scaled)
