"""The frames a command's client and the daemon exchange inside one HTTP/1.1 exchange.

``POST /jobacct/v1/run`` carries a command both ways at once: the request body (chunked) is
a stream of frames from the client, the response body (chunked) a stream of frames from the
daemon. A frame is one type byte, a 4-byte big-endian payload length, and the payload.
Standard library only: the client imports this module, and must start fast.

Client to daemon:

=====  ==========================================  ==========================================
type   payload                                     meaning
=====  ==========================================  ==========================================
``H``  JSON ``{"argv", "env", "tty"}``             the command (first frame, exactly once)
``A``  channel (u32)                               the input the daemon asked for is open
``N``  channel, errno (u32), strerror (UTF-8)      it could not be opened (nothing follows)
``D``  channel, bytes                              the next bytes of an input
``Z``  channel                                     end of that input
=====  ==========================================  ==========================================

Daemon to client:

=====  ==========================================  ==========================================
``O``  bytes                                       standard output of the command
``E``  bytes                                       standard error of the command
``R``  channel, name (UTF-8)                       open ``name`` (``-``: standard input) and
                                                   send it as ``channel``
``X``  status (u32)                                the command's exit status (last frame)
=====  ==========================================  ==========================================
"""

from __future__ import annotations

import struct

#: Path of the command endpoint.
RUN_PATH = "/jobacct/v1/run"
#: Content type of both bodies.
CONTENT_TYPE = "application/x-jobacct-frames"
#: Largest payload accepted in one frame (bytes); inputs are sent in pieces of CHUNK.
MAX_PAYLOAD = 1 << 24
CHUNK = 1 << 16

_HEAD = struct.Struct(">cI")
_U32 = struct.Struct(">I")
HEAD_SIZE = _HEAD.size


class FrameError(ValueError):
    """A malformed frame (unknown type, oversized payload, truncated stream)."""


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    """One frame: ``kind`` (one byte) and ``payload``."""
    return _HEAD.pack(kind, len(payload)) + payload


def channel_frame(kind: bytes, channel: int, payload: bytes = b"") -> bytes:
    """A frame whose payload starts with a channel number."""
    return frame(kind, _U32.pack(channel) + payload)


def head(data: bytes) -> tuple[bytes, int]:
    """(type, payload length) of a frame header of :data:`HEAD_SIZE` bytes.

    Raises:
        FrameError: the payload is larger than :data:`MAX_PAYLOAD`.
    """
    kind, size = _HEAD.unpack(data)
    if size > MAX_PAYLOAD:
        raise FrameError(f"frame of {size} bytes is too large")
    return kind, size


def split_channel(payload: bytes) -> tuple[int, bytes]:
    """(channel, rest) of a payload that starts with a channel number.

    Raises:
        FrameError: the payload is shorter than a channel number.
    """
    if len(payload) < _U32.size:
        raise FrameError("frame too short for a channel number")
    return _U32.unpack_from(payload)[0], payload[_U32.size :]


def u32(value: int) -> bytes:
    """``value`` as 4 big-endian bytes."""
    return _U32.pack(value)


def read_u32(data: bytes) -> int:
    """The first 4 bytes of ``data`` as a big-endian number.

    Raises:
        FrameError: fewer than 4 bytes.
    """
    if len(data) < _U32.size:
        raise FrameError("frame too short for a number")
    return int(_U32.unpack_from(data)[0])


class FrameBuffer:
    """Frames out of a byte stream fed in arbitrary pieces."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        """Add ``data``; return the frames now complete, as (type, payload).

        Raises:
            FrameError: an oversized frame.
        """
        self._data += data
        frames: list[tuple[bytes, bytes]] = []
        while len(self._data) >= HEAD_SIZE:
            kind, size = head(bytes(self._data[:HEAD_SIZE]))
            if len(self._data) < HEAD_SIZE + size:
                break
            frames.append((kind, bytes(self._data[HEAD_SIZE : HEAD_SIZE + size])))
            del self._data[: HEAD_SIZE + size]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a frame."""
        return len(self._data)
