"""What a terminal gets: escaped control characters, and colour on State and ExitCode cells.

Rules:

* **Control characters.** When stdout is a terminal, every C0 control (U+0000-U+001F, tab and
  newline included), DEL (U+007F) and C1 control (U+0080-U+009F) in a cell is printed as the
  four visible characters ``\\xNN`` (ESC is ``\\x1b``), and every bidirectional override
  (U+202E...) as ``\\uNNNN`` (:mod:`jobacct.textsafe`, one rule for every command), so a job
  name or comment cannot move the cursor, retitle the window or inject escape sequences.
  This applies to the table, ``-p``, ``-P`` and ``--csv``; the cell is escaped *before* it
  is fitted to its width, so columns stay aligned. Piped or redirected output is never
  changed. (``--json``/``--ndjson`` need no help: JSON escapes every control character.)
* **Colour.** Only the fixed-width table, only on a terminal, and only when ``NO_COLOR`` is
  unset or empty (https://no-color.org) and ``TERM`` is not ``dumb``. State cells:
  COMPLETED green; FAILED, OUT_OF_MEMORY, NODE_FAIL, BOOT_FAIL red; TIMEOUT, CANCELLED,
  DEADLINE, PREEMPTED, REQUEUED, REVOKED yellow; RUNNING cyan; others plain. ExitCode,
  DerivedExitCode and DerivedExitCodeComputed cells other than ``0:0`` (and empty) red. The
  SGR codes wrap the visible text of the already fitted cell, never its padding, so the
  widths are exact.
* **No markup.** Nothing here goes through Rich: ``[red]x[/red]`` in a name prints as is.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

from jobacct.fields import Column
from jobacct.textsafe import escape

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import TextIO

RESET = "\x1b[0m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
CYAN = "\x1b[36m"

STATE_COLOURS: dict[str, str] = {
    "COMPLETED": GREEN,
    "FAILED": RED,
    "OUT_OF_MEMORY": RED,
    "NODE_FAIL": RED,
    "BOOT_FAIL": RED,
    "TIMEOUT": YELLOW,
    "CANCELLED": YELLOW,
    "DEADLINE": YELLOW,
    "PREEMPTED": YELLOW,
    "REQUEUED": YELLOW,
    "REVOKED": YELLOW,
    "RUNNING": CYAN,
}
EXIT_FIELDS = frozenset({"ExitCode", "DerivedExitCode", "DerivedExitCodeComputed"})


class Terminal(namedtuple("Terminal", ["is_tty", "colour"])):
    """Whether stdout is a terminal, and whether it may be coloured."""

    __slots__ = ()
    is_tty: bool
    colour: bool


def detect(stream: TextIO, environ: Mapping[str, str]) -> Terminal:
    """Look at ``stream`` and the environment (``NO_COLOR``, ``TERM``)."""
    try:
        is_tty = bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        is_tty = False
    colour = is_tty and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"
    return Terminal(is_tty=is_tty, colour=colour)


def neutralise(text: str) -> str:
    """``text`` with every C0/C1 control, DEL and bidi override escaped (jobacct.textsafe)."""
    return escape(text)


def colour_for(column: Column, value: str) -> str | None:
    """The SGR code for a cell of ``column`` holding ``value`` (unfitted), or None."""
    name = column.field.name
    if name == "State":
        return STATE_COLOURS.get(value.split(" ", 1)[0])
    if name in EXIT_FIELDS and value not in ("", "0:0"):
        return RED
    return None


def paint_cell(column: Column, value: str, fitted: str) -> str:
    """``fitted`` with its visible text wrapped in the colour ``value`` calls for.

    Padding stays outside the escape codes, so the printed width is the column's.
    """
    code = colour_for(column, value)
    text = fitted.strip(" ")
    if code is None or not text:
        return fitted
    left = len(fitted) - len(fitted.lstrip(" "))
    right = len(fitted) - len(fitted.rstrip(" "))
    return f"{fitted[:left]}{code}{text}{RESET}{fitted[len(fitted) - right :]}"
