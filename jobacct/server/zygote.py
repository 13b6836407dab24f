"""The zygote: a single-threaded process that forks one worker per command.

The daemon runs threads (the event loop's executor), and forking a threaded process can
leave a lock held forever in the child. So at start-up, before any thread exists, the
daemon forks this process; it imports every command module once (a worker then starts in a
few milliseconds instead of a few hundred) and forks a worker for each request the daemon
sends it: ``{"argv", "env", "tty", "uid", ...}`` with three file descriptors attached (the
worker's standard output and error, and its control socket). Workers are reaped
automatically; each reports its own exit status on its control socket.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Any

from jobacct.caller import JobScope

_PRELOAD = (
    "jobacct.cli",
    "jobacct.cli.sacct",
    "jobacct.cli.sjobexitmod",
    "jobacct.cli.modifyjob",
    "jobacct.cli.scancel",
    "jobacct.cli.admin",
    "jobacct.cli.report",
    "jobacct.cli.shim",
    "jobacct.cli.importcmd",
    "jobacct.shim.apply",
    "jobacct.formats.jsonout",
    "jobacct.formats.csvout",
    "jobacct.fastread",
    "jobacct.splitread",
    # What jobacct.cli.sacct imports when it runs (not at import: its --help stays quick).
    "jobacct.fields",
    "jobacct.formats",
    "jobacct.query",
    "jobacct.serverread",
    "jobacct.users",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
)


class ZygoteGoneError(OSError):
    """The zygote process is gone: no command can start until the daemon is restarted."""


class Zygote:
    """Handle on the zygote process: :meth:`spawn` a worker, :meth:`stop` it."""

    def __init__(
        self,
        base_env: Mapping[str, str],
        scope_of: Callable[[int], JobScope | None] | None,
    ) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log_fd = os.dup(2)
        pid = os.fork()
        if pid == 0:  # the zygote
            ours.close()
            status = 0
            try:
                _serve(theirs, dict(base_env), scope_of, log_fd)
            except BaseException:
                status = 1
            os._exit(status)
        theirs.close()
        os.close(log_fd)
        self.pid = pid
        self._sock = ours

    def spawn(self, request: Mapping[str, Any], fds: list[int]) -> None:
        """Have a worker run ``request`` with ``fds`` = [stdout, stderr, control].

        Raises:
            ZygoteGoneError: the zygote is gone.
        """
        try:
            socket.send_fds(self._sock, [json.dumps(request).encode()], fds)
        except OSError as exc:
            raise ZygoteGoneError(exc.errno, exc.strerror) from None

    def stop(self) -> None:
        """End the zygote (its running workers finish their commands)."""
        self._sock.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _preload_drivers(url: str) -> None:
    """Import the drivers of the daemon's server store: the one ``sacct`` reads with
    (jobacct.serverread.read_driver: psycopg2's import is 30 ms of a one-job lookup) and
    the URL's own, which SQLAlchemy uses for every other command (psycopg 3: 0.13 s).
    A missing driver is left to the command that needs it to report."""
    from jobacct import serverread

    found = serverread.driver_params(url)
    if found is None:
        return
    serverread.read_driver(found[0], url)
    with contextlib.suppress(Exception):  # not installed, or not a URL SQLAlchemy knows
        from sqlalchemy.engine import make_url

        make_url(url).get_dialect().import_dbapi()


def _serve(
    sock: socket.socket,
    base_env: dict[str, str],
    scope_of: Callable[[int], JobScope | None] | None,
    log_fd: int,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the daemon decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for name in _PRELOAD:
        importlib.import_module(name)
    _preload_drivers(base_env.get("JOBACCT_DATABASE_URL", ""))
    gc.freeze()  # keep the preloaded objects' pages shared with the workers
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # reap workers automatically
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 3)
        except InterruptedError:
            continue
        if not message:
            return
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            continue
        if os.fork() == 0:
            sock.close()
            _worker(json.loads(message), fds, base_env, scope_of, log_fd)
        for fd in fds:
            os.close(fd)


def _worker(
    request: dict[str, Any],
    fds: list[int],
    base_env: dict[str, str],
    scope_of: Callable[[int], JobScope | None] | None,
    log_fd: int,
) -> None:
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the command may wait for helpers
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stdout, stderr, control_fd = fds
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.close(stdout)
        os.close(stderr)
        control = socket.socket(fileno=control_fd)
        control.send(json.dumps({"op": "pid", "pid": os.getpid()}).encode())
        from jobacct.server import worker

        status = worker.run(request, control, base_env, scope_of, log_fd)
        sys.stdout.flush()
        os.close(1)
        os.close(2)
        control.send(json.dumps({"op": "exit", "status": int(status) & 0xFF}).encode())
    except BaseException:
        pass
    finally:
        os._exit(0)
