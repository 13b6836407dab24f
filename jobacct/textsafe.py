"""One rule for text that came from users and reaches a terminal or a store.

Job names, comments and reasons come from ``sbatch -J/--comment`` and ``sjobexitmod -r``,
which any user controls. Two kinds of characters in them can deceive whoever reads the
output: control characters (C0, DEL, C1: escape sequences move the cursor, retitle the window,
``\\x9b`` is a one-byte CSI) and the Unicode bidirectional formatting characters (U+202E
RIGHT-TO-LEFT OVERRIDE and its kin, the "Trojan Source" characters, CVE-2021-42574) that
reorder what is shown. :data:`UNSAFE` is both sets. Text a command stores (a comment) is
refused if it holds any (:func:`refuse_unsafe`); text a command prints to a terminal is
escaped (:func:`escape`: ``\\x1b``, ``\\u202e``), so it stays visible and cannot act. Piped
output is never changed: scripts get the bytes as stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

#: Bidirectional formatting characters: ALM, LRM, RLM, LRE..RLO, LRI..PDI.
BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
#: C0 controls (tab and newline included), DEL and C1 controls.
CONTROLS = frozenset({*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)})
UNSAFE = CONTROLS | BIDI_CONTROLS

_ESCAPES = str.maketrans(
    {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in UNSAFE}
)


def escape(text: str) -> str:
    """``text`` with every :data:`UNSAFE` character written as ``\\xNN`` or ``\\uNNNN``."""
    return text.translate(_ESCAPES)


def escape_lines(lines: Iterable[str]) -> Iterator[str]:
    """:func:`escape` applied to each line (a line's own newline is not part of it)."""
    return (line.translate(_ESCAPES) for line in lines)


def first_unsafe(text: str) -> str | None:
    """The first :data:`UNSAFE` character of ``text``, or None."""
    return next((ch for ch in text if ord(ch) in UNSAFE), None)


def describe(ch: str) -> str:
    """``U+202E`` and what it is, for an error message."""
    kind = "bidirectional formatting character" if ord(ch) in BIDI_CONTROLS else "control character"
    return f"{kind} U+{ord(ch):04X}"


def encodable(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udcff``.

    Bytes of a command line that are not UTF-8 reach Python as lone surrogates
    (surrogateescape); echoed in an error message they would make the write itself fail.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def is_utf8(text: str) -> bool:
    """False if ``text`` holds lone surrogates (bytes that were not UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
