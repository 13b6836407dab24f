"""Opening the files a user names on the command line (event files, sacct and mysql dumps,
node lists): the one place commands do it.

Run directly, a name is opened here, with this process's rights. Run by the daemon
(``jobacct serve``), the daemon must never open a path a client names: it has more rights
than the client (the store, other users' files). There a worker installs an opener
(:func:`install`) that asks the client to open the file, with the client's own rights and
working directory, and stream its bytes; a file the client cannot open raises the same
``OSError`` (errno, strerror, name) as a local open, so the messages do not change.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO

from jobacct.errors import JobAcctError

_opener: Callable[[str], IO[bytes]] | None = None


def unreadable(name: str | Path, exc: OSError | UnicodeDecodeError) -> JobAcctError:
    """The error for an input file that cannot be read (missing, denied, not UTF-8).

    Exit status 1 (the README's table: "unreadable import file"), the same for every command
    that reads input files; the reason is the system's words (``No such file or directory``).
    """
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return JobAcctError(f"cannot read {name}: {reason}")


def install(opener: Callable[[str], IO[bytes]]) -> None:
    """Open every named input through ``opener`` from now on (a daemon worker)."""
    global _opener
    _opener = opener


def open_binary(name: str) -> IO[bytes]:
    """``name`` opened for reading bytes (the caller closes it).

    Raises:
        OSError: as ``open(name, "rb")`` would (missing file, permission denied).
    """
    if _opener is not None:
        return _opener(name)
    return Path(name).open("rb")


def read_text(name: str | Path, encoding: str = "utf-8") -> str:
    """The whole of ``name`` as text, as ``Path(name).read_text(encoding)``.

    Raises:
        OSError: the file cannot be opened or read.
        UnicodeDecodeError: it is not ``encoding``.
    """
    with open_binary(str(name)) as handle:
        return handle.read().decode(encoding)


def size_of(handle: IO[bytes]) -> int:
    """The size in bytes of an opened input if it is a regular file, else 0 (a pipe: the
    client's file through the daemon, or standard input)."""
    info = os.fstat(handle.fileno())
    return info.st_size if stat.S_ISREG(info.st_mode) else 0
