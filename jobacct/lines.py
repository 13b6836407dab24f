"""Reading input line by line with a bound on a line's length.

An import reads files a user names (``/dev/zero`` included) and stdin: a "line" that never
ends would be read into memory whole. Every importer reads through :func:`bounded_lines`,
which stops with one error at the first line longer than :data:`MAX_LINE` (tracker issue 14).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, AnyStr

from jobacct.errors import ImportFormatError

#: The longest input line read: sacct -P -o ALL lines are a few KiB, a slurmdbd row with
#: every TRES string some tens of KiB; 16 MiB leaves room and still bounds memory.
MAX_LINE = 16 * 1024 * 1024


def bounded_lines(
    handle: IO[AnyStr], source: str, *, limit: int = MAX_LINE, first_line: int = 1
) -> Iterator[AnyStr]:
    """The lines of ``handle`` (text or binary, each with its line end), as ``for line in
    handle`` gives them.

    Raises:
        ImportFormatError: ``<source>:<line>: line longer than <limit> bytes``.
    """
    number = first_line - 1
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit:
            raise ImportFormatError(f"{source}:{number}: line longer than {limit} bytes")
        yield line
