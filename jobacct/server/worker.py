"""Inside a worker: one client's command, run as that client, in a process of its own.

The zygote (:mod:`jobacct.server.zygote`) forks a worker per command, so nothing of one
request (the caller, the environment, open files, module state) can reach another. The
worker makes the peer's uid the caller (:func:`jobacct.caller.serve_as`), gives the command
the client's environment variables (only :data:`jobacct.client.FORWARDED_ENV`) over the
daemon's own, its standard output and error (pipes to the daemon, reporting the client's
terminal as a terminal), a standard input and named input files that the client opens and
streams (:class:`RemoteInputs`), then runs :func:`jobacct.cli.main` and reports the exit
status on its control socket.

Control messages (one JSON object per ``SOCK_SEQPACKET`` message), worker to daemon:
``{"op": "open", "n": N, "name": NAME}`` with the write end of a pipe attached (``n`` 0 is
standard input), ``{"op": "exit", "status": S}``; daemon to worker: ``{"op": "opened"}`` or
``{"op": "failed", "errno": E, "strerror": TEXT}``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import IO, Any

from jobacct import caller, client, inputs
from jobacct.caller import JobScope


class _TerminalFile(io.FileIO):
    """A pipe that says whether the client's stream is a terminal (colours, escaping)."""

    def __init__(self, fd: int, tty: bool) -> None:
        super().__init__(fd, "wb", closefd=False)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def _text_stream(fd: int, tty: bool) -> io.TextIOWrapper:
    raw = io.BufferedWriter(_TerminalFile(fd, tty), buffer_size=1 << 16)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", line_buffering=tty)


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


class RemoteInputs:
    """Files opened by the client on the worker's behalf (:mod:`jobacct.inputs`)."""

    def __init__(self, control: socket.socket) -> None:
        self._control = control
        self._next = 1

    def open(self, name: str, channel: int | None = None) -> IO[bytes]:
        """Ask the client to open ``name``; its bytes arrive through a pipe.

        Raises:
            OSError: the client's error (errno, strerror), with ``name`` as the file name.
        """
        _flush_output()  # a prompt written before reading its answer must be seen first
        if channel is None:
            channel, self._next = self._next, self._next + 1
        read_end, write_end = os.pipe()
        message = json.dumps({"op": "open", "n": channel, "name": name}).encode()
        try:
            socket.send_fds(self._control, [message], [write_end])
        finally:
            os.close(write_end)
        reply = json.loads(self._control.recv(1 << 16) or b'{"op": "failed"}')
        if reply.get("op") != "opened":
            os.close(read_end)
            raise OSError(
                int(reply.get("errno", 5)), str(reply.get("strerror", "Input/output error")), name
            )
        return os.fdopen(read_end, "rb")


class _LazyStdin:
    """Standard input, asked of the client the first time a command reads it.

    A command that never reads it never makes the client read its terminal. Every use
    flushes the output first, so a question (``modify-job``, ``scancel -i``) is on the
    client's screen before its answer is awaited.
    """

    def __init__(self, remote: RemoteInputs) -> None:
        self._remote = remote
        self._stream: io.TextIOWrapper | None = None

    def _real(self) -> io.TextIOWrapper:
        _flush_output()
        if self._stream is None:
            binary: IO[bytes]
            try:
                binary = self._remote.open("-", channel=0)
            except OSError:  # the client has no more input to send: an empty stdin
                binary = open(os.devnull, "rb")  # noqa: SIM115 - it is sys.stdin from now on
            self._stream = io.TextIOWrapper(binary, encoding="utf-8")
        return self._stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def __iter__(self) -> Any:
        return iter(self._real())

    def isatty(self) -> bool:
        return False


def run(
    request: Mapping[str, Any],
    control: socket.socket,
    base_env: Mapping[str, str],
    scope_of: Callable[[int], JobScope | None] | None,
    log_fd: int,
) -> int:
    """Run the command of ``request`` (argv, env, tty, uid) in this process; its status.

    Standard output and error must already be fds 1 and 2.
    """
    tty = request.get("tty", {})
    os.environ.clear()
    os.environ.update(base_env)
    given = request.get("env")
    if isinstance(given, dict):
        text = {
            k: v
            for k, v in given.items()
            if isinstance(k, str) and isinstance(v, str) and "\0" not in k + v
        }
        os.environ.update(client.forwarded_env(text))
    time.tzset()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = _text_stream(1, bool(tty.get("stdout")))
    sys.stderr = _text_stream(2, bool(tty.get("stderr")))
    remote = RemoteInputs(control)
    sys.stdin = _LazyStdin(remote)
    inputs.install(remote.open)
    client.serving()
    uid = int(request["uid"])
    caller.serve_as(uid, scope_of)
    argv = [str(a) for a in request["argv"]]
    try:
        from jobacct.cli import main
        from jobacct.errors import error_line
        from jobacct.server.policy import command_of

        reports = command_of(argv)[1] == "report"
        if request.get("private_reports") and reports and caller.read_scope():
            error_line(
                "ESLURM_ACCESS_DENIED: with PrivateData=jobs the reports (every user's jobs)"
                " need AdminLevel Operator or Administrator"
            )
            status = 1
        else:
            quick: int | None = None
            if "sacct" in argv:
                # The Typer-free sacct of the direct command (tracker issue 16): the same
                # function, without Click's parsing of the whole command tree.
                from jobacct.sacct_fastpath import run as sacct_fastpath

                quick = sacct_fastpath(argv)
            status = main(argv, route=False) if quick is None else quick
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        os.write(log_fd, traceback.format_exc().encode("utf-8", "replace"))
        sys.stderr.write("jobacct: error: internal error in the jobacct server (see its log)\n")
        status = 1
    _flush_output()
    return status
