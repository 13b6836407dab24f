"""``POST /jobacct/v1/run``: one command, its frames relayed between client and worker.

The request body brings the command (``H``) and, when the worker asks for them, the bytes
of its inputs; the response body takes its standard output and error, the requests to open
inputs, and the exit status (:mod:`jobacct.wire`). The caller is the peer of the
connection (``SO_PEERCRED``). The daemon never opens a file a client names: the worker's
requests go to the client, which opens the file with its own rights.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
from typing import Any

from aiohttp import web

from jobacct import wire
from jobacct.server import policy as policy_mod
from jobacct.server.peer import Peer, peer_of
from jobacct.server.zygote import Zygote, ZygoteGoneError

PEER_KEY: web.AppKey[Any] = web.AppKey("peer_cache", dict)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _readable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, _wake, future)
    try:
        await future
    finally:
        loop.remove_reader(fd)


async def _writable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    loop.add_writer(fd, _wake, future)
    try:
        await future
    finally:
        loop.remove_writer(fd)


async def _read_fd(fd: int) -> bytes:
    while True:
        try:
            return os.read(fd, 1 << 16)
        except BlockingIOError:
            await _readable(fd)


async def _write_fd(fd: int, data: bytes) -> bool:
    """Write all of ``data``; False if the reader closed its end."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            await _writable(fd)
        except BrokenPipeError:
            return False
    return True


def request_peer(request: web.Request) -> Peer:
    """The peer credentials of the request's connection.

    Raises:
        web.HTTPForbidden: a transport without them (never on the daemon's Unix socket).
    """
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family != socket.AF_UNIX:
        raise web.HTTPForbidden(text="jobacct serves Unix-socket peers only")
    return peer_of(sock)


class Run:
    """One command being relayed."""

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self.request = request
        self.response = response
        self.pid: int | None = None
        self.pipes: dict[int, int] = {}  # channel -> write end of the worker's input pipe
        self.exit: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._lock = asyncio.Lock()
        self._control: socket.socket | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.body_ended = False

    async def send(self, data: bytes) -> None:
        """Write frames to the client, whole, one writer at a time."""
        async with self._lock:
            await self.response.write(data)

    async def _pump_output(self, fd: int, kind: bytes) -> None:
        try:
            while data := await _read_fd(fd):
                await self.send(wire.frame(kind, data))
        finally:
            os.close(fd)

    def _on_control(self) -> None:
        assert self._control is not None
        while True:
            try:
                message, fds, _flags, _addr = socket.recv_fds(self._control, 1 << 16, 1)
            except BlockingIOError:
                return
            except OSError:
                message, fds = b"", []
            if not message:
                asyncio.get_running_loop().remove_reader(self._control.fileno())
                if not self.exit.done():
                    self.exit.set_result(None)
                return
            body = json.loads(message)
            op = body.get("op")
            if op == "pid":
                self.pid = int(body["pid"])
            elif op == "exit" and not self.exit.done():
                self.exit.set_result(int(body["status"]))
            elif op == "open" and fds and self.body_ended:
                os.close(fds[0])
                ended = "the client sent no more input"
                self._reply({"op": "failed", "errno": 5, "strerror": ended})
            elif op == "open" and fds:
                channel = int(body["n"])
                os.set_blocking(fds[0], False)
                old = self.pipes.pop(channel, None)
                if old is not None:
                    os.close(old)
                self.pipes[channel] = fds[0]
                name = str(body.get("name", "")).encode("utf-8", "surrogateescape")
                task = asyncio.ensure_future(self.send(wire.channel_frame(b"R", channel, name)))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                for fd in fds:
                    os.close(fd)

    def _reply(self, message: dict[str, Any]) -> None:
        if self._control is not None:
            with contextlib.suppress(OSError):
                self._control.send(json.dumps(message).encode())

    def _close_input(self, channel: int) -> None:
        fd = self.pipes.pop(channel, None)
        if fd is not None:
            os.close(fd)

    async def _pump_client(self) -> None:
        """The client's frames after ``H``: answers to open requests and input bytes."""
        content = self.request.content
        while True:
            try:
                header = await content.readexactly(wire.HEAD_SIZE)
                kind, size = wire.head(header)
                payload = await content.readexactly(size) if size else b""
            except (asyncio.IncompleteReadError, ConnectionError, wire.FrameError):
                # The client went away (its command is stopped), or ended its request body
                # (a client with nothing more to send): its inputs end here.
                self.body_ended = True
                for channel in list(self.pipes):
                    self._close_input(channel)
                return
            channel, rest = wire.split_channel(payload)
            if kind == b"A":
                self._reply({"op": "opened", "n": channel})
            elif kind == b"N":
                self._close_input(channel)
                errno = wire.read_u32(rest)
                self._reply(
                    {"op": "failed", "n": channel, "errno": errno, "strerror": rest[4:].decode()}
                )
            elif kind == b"D":
                fd = self.pipes.get(channel)
                if fd is not None and not await _write_fd(fd, rest):
                    self._close_input(channel)
            elif kind == b"Z":
                self._close_input(channel)

    async def go(self, zygote: Zygote, order: dict[str, Any]) -> int:
        """Start the worker for ``order`` and relay until it exits; its exit status."""
        loop = asyncio.get_running_loop()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            zygote.spawn(order, [out_w, err_w, theirs.fileno()])
        except OSError:
            os.close(out_r)
            os.close(err_r)
            ours.close()
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
            theirs.close()
        self._control = ours
        ours.setblocking(False)
        os.set_blocking(out_r, False)
        os.set_blocking(err_r, False)
        loop.add_reader(ours.fileno(), self._on_control)
        pumps = [
            asyncio.ensure_future(self._pump_output(out_r, b"O")),
            asyncio.ensure_future(self._pump_output(err_r, b"E")),
        ]
        client = asyncio.ensure_future(self._pump_client())
        try:
            outputs: asyncio.Future[Any] = asyncio.gather(*pumps)
            done, _ = await asyncio.wait([client, outputs], return_when=asyncio.FIRST_COMPLETED)
            if client in done and not outputs.done():
                transport = self.request.transport
                if transport is None or transport.is_closing():
                    self.kill()  # the client left before its command ended
                    await asyncio.gather(*pumps, return_exceptions=True)
                    return 130
                await outputs  # the request body ended: the command runs on without input
            status = await self.exit
            return 1 if status is None else status
        finally:
            client.cancel()
            for pump in pumps:
                pump.cancel()
            loop.remove_reader(ours.fileno())
            ours.close()
            for fd in self.pipes.values():
                os.close(fd)
            self.pipes.clear()

    def kill(self) -> None:
        """Stop the worker (the client went away)."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)


async def handle_run(request: web.Request) -> web.StreamResponse:
    """``POST /jobacct/v1/run``: run one command for the connection's peer."""
    from jobacct.server.app import STATE

    state = request.app[STATE]
    peer = request_peer(request)
    try:
        header = await request.content.readexactly(wire.HEAD_SIZE)
        kind, size = wire.head(header)
        head = json.loads(await request.content.readexactly(size))
        argv = head["argv"]
        if kind != b"H" or not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise ValueError("bad command frame")
    except (asyncio.IncompleteReadError, wire.FrameError, ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text="expected a command frame (jobacct.wire)") from None
    response = web.StreamResponse(headers={"Content-Type": wire.CONTENT_TYPE})
    await response.prepare(request)
    refused = policy_mod.refusal(state.policy, peer, argv)
    if refused is not None:
        message, status = refused
        await response.write(wire.frame(b"E", f"jobacct: error: {message}\n".encode()))
    else:
        order = {
            "argv": argv,
            "env": head.get("env") if isinstance(head.get("env"), dict) else {},
            "tty": head.get("tty") if isinstance(head.get("tty"), dict) else {},
            "uid": peer.uid,
            "gid": peer.gid,
            "pid": peer.pid,
            "private_reports": state.policy.private_jobs,
        }
        run = Run(request, response)
        async with state.workers:
            try:
                status = await run.go(state.zygote, order)
            except ZygoteGoneError:
                message = (
                    "the jobacct server cannot start commands (its zygote is gone): restart it"
                )
                await response.write(wire.frame(b"E", f"jobacct: error: {message}\n".encode()))
                status = 3
            except (ConnectionError, OSError):
                run.kill()
                return response
    try:
        await response.write(wire.frame(b"X", wire.u32(status)))
        await response.write_eof()
    except ConnectionError:
        pass
    return response
