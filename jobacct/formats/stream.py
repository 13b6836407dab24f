"""Writing text chunks to stdout for pipes: a closed pipe (``| head``) is not an error."""

from __future__ import annotations

import os
from collections.abc import Iterable

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from typing import TextIO


def write_chunks(chunks: Iterable[str], out: TextIO) -> bool:
    """Write each chunk as is (chunks carry their own line ends); stop quietly at EPIPE.

    Chunks are written as they come, so output streams and memory stays flat however many
    records there are. Returns False if the reader went away (EPIPE), True otherwise.
    """
    try:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        return True
    except BrokenPipeError:
        silence(out)
        return False


def silence(out: TextIO) -> None:
    """After EPIPE: point ``out`` at /dev/null so the interpreter's final flush does not
    fail again (which would turn a reader that went away into exit status 1 or 120)."""
    try:
        fileno = out.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)
