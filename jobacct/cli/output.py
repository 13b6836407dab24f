"""Writing plain lines to stdout for pipes: a closed pipe (``| head``) is not an error."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from jobacct.formats.stream import write_chunks
from jobacct.textsafe import escape_lines


def write_lines(lines: Iterable[str]) -> None:
    """Write each line plus a newline to stdout, streaming; stop quietly at EPIPE.

    On a terminal, control characters and bidi overrides in the lines are escaped
    (:mod:`jobacct.textsafe`); piped output is written as it is.
    """
    if _is_tty(sys.stdout):
        lines = escape_lines(lines)
    write_chunks((line + "\n" for line in lines), sys.stdout)


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
