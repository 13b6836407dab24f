"""Writing plain lines to stdout for pipes: a closed pipe (``| head``) is not an error."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from jobacct.formats.stream import write_chunks


def write_lines(lines: Iterable[str]) -> None:
    """Write each line plus a newline to stdout, streaming; stop quietly at EPIPE."""
    write_chunks((line + "\n" for line in lines), sys.stdout)
