"""Who is on the other end of a Unix socket: the kernel's ``SO_PEERCRED``.

The credentials are those of the process that called ``connect(2)``, recorded by the kernel
at that moment (``unix(7)``); nothing the client sends can change them.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any

_UCRED = struct.Struct("3i")  # struct ucred: pid_t pid; uid_t uid; gid_t gid


@dataclass(frozen=True)
class Peer:
    """A connected client: its pid, real uid and gid at ``connect(2)`` time."""

    pid: int
    uid: int
    gid: int


def peer_of(sock: Any) -> Peer:
    """The credentials of the peer of a connected ``AF_UNIX`` socket.

    Raises:
        OSError: not a Unix socket, or not connected.
    """
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return Peer(pid, uid, gid)
