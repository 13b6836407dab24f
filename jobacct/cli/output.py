"""Writing plain lines to stdout for pipes: a closed pipe (``| head``) is not an error."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable


def write_lines(lines: Iterable[str]) -> None:
    """Write each line plus a newline to stdout; stop quietly if the reader goes away."""
    out = sys.stdout
    try:
        for line in lines:
            out.write(line)
            out.write("\n")
        out.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
