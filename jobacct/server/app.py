"""The daemon: its start-up checks, the aiohttp application on a Unix socket, its shutdown.

Why aiohttp: one asyncio server library that serves HTTP/1.1 on a Unix socket
(``web.UnixSite``), streams request and response bodies both ways at once (a command's
output while its input still arrives), and exposes each connection's socket, whose
``SO_PEERCRED`` is the caller. It is maintained by the aio-libs team with regular releases
(3.14, 2026), ships wheels, and brings no ASGI layer to configure (uvicorn + starlette would
need both, and ASGI hides the transport's socket behind a scope dict).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from jobacct.errors import DatabaseUnavailableError, JobAcctError
from jobacct.server import policy as policy_mod
from jobacct.server import relay, rest
from jobacct.server.zygote import Zygote
from jobacct.wire import RUN_PATH

DEFAULT_SOCKET = Path("/run/jobacct/jobacct.sock")
#: Commands run at once; further requests wait for a slot.
MAX_WORKERS = 32


@dataclass
class State:
    """What the handlers share."""

    policy: policy_mod.Policy
    zygote: Zygote
    reader: rest.Reader
    workers: asyncio.Semaphore


STATE: web.AppKey[State] = web.AppKey("jobacct_state", State)


class StoreExposedError(JobAcctError):
    """The store can be opened by others than the daemon's account."""


def check_private(url: str) -> None:
    """Refuse a SQLite store that others than its owner may open (file, -wal, -shm: 0600;
    directory: 0700), as a daemon that alone opens the store needs.

    Raises:
        StoreExposedError: naming the file or directory and the chmod that fixes it.
        DatabaseUnavailableError: the file does not exist.
    """
    from jobacct.config import sqlite_path

    path = sqlite_path(url)
    if path is None:
        return
    if not path.exists():
        raise DatabaseUnavailableError(
            f"database file {path} does not exist: run 'jobacct --db {path} db init'"
        )
    for item, mode in [(path.parent, 0o700)] + [
        (Path(str(path) + suffix), 0o600) for suffix in ("", "-wal", "-shm")
    ]:
        try:
            st = item.stat()
        except FileNotFoundError:
            continue
        if stat.S_IMODE(st.st_mode) & 0o077 or st.st_uid != os.geteuid():
            raise StoreExposedError(
                f"{item} is mode {stat.S_IMODE(st.st_mode):04o} owned by uid {st.st_uid}: only"
                f" the daemon's account may open the store (chown {os.geteuid()} {item};"
                f" chmod {mode:o} {item})"
            )


def check_secret(url: str, db_option: str | None) -> None:
    """Refuse a database password other local users could read: on the command line (every
    user sees it in ``ps``) or in a config file others may read.

    Raises:
        StoreExposedError: naming where the password is and where to put it instead.
    """
    from sqlalchemy.engine import make_url

    from jobacct.config import ENV_URL, config_path

    if "://" not in url or make_url(url).password is None:
        return
    where = "in $JOBACCT_DATABASE_URL, mode 0600 (a systemd EnvironmentFile)"
    if db_option:
        raise StoreExposedError(
            "the database password in --db is visible to every local user (ps): put the URL"
            f" {where}, or the password in the database client's own file (~/.pgpass)"
        )
    if os.environ.get(ENV_URL):
        return  # /proc/PID/environ: readable by the daemon's account only
    path = config_path()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        raise StoreExposedError(
            f"{path} holds the database password and is mode {mode:04o}: chmod 600 {path},"
            f" or put the URL {where}"
        )


def _check_store(url: str) -> None:
    from jobacct import migrate
    from jobacct.config import make_engine

    engine = make_engine(url)
    try:
        migrate.check_reachable_at_head(engine)
    finally:
        engine.dispose()


def _bind(path: Path) -> socket.socket:
    """A listening socket at ``path`` (mode 0666: every local user may connect; who they are
    is the kernel's answer, not the file mode's). A stale socket file is replaced; a live
    one (another daemon) is an error.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()
        else:
            raise JobAcctError(f"another jobacct server is listening on {path}")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o666)
    sock.listen(512)
    return sock


def make_app(state: State) -> web.Application:
    """The aiohttp application: the command endpoint and the slurmrestd reads."""
    app = web.Application(client_max_size=1 << 20)
    app[STATE] = state
    app.add_routes([web.post(RUN_PATH, relay.handle_run), *rest.routes()])
    return app


def serve(url: str, socket_path: Path, *, threads: int = 4, db_option: str | None = None) -> int:
    """Run the daemon on ``socket_path`` for the store at ``url`` until SIGTERM or SIGINT.

    Raises:
        StoreExposedError, DatabaseUnavailableError, SchemaOutdatedError: start-up checks.
        JobAcctError: another daemon holds the socket.
    """
    from jobacct.config import read_config

    os.umask(0o077)
    check_secret(url, db_option)
    check_private(url)
    _check_store(url)
    policy = policy_mod.load(read_config())
    base_env = {k: v for k, v in os.environ.items() if k != "JOBACCT_SERVER"}
    base_env["JOBACCT_DATABASE_URL"] = url
    scope_of = policy_mod.ScopeOf(url) if policy.private_jobs else None
    listener = _bind(socket_path)
    zygote = Zygote(base_env, scope_of)  # before any thread exists
    try:
        asyncio.run(_run(url, listener, policy, zygote, threads))
    finally:
        zygote.stop()
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
    return 0


async def _run(
    url: str, listener: socket.socket, policy: policy_mod.Policy, zygote: Zygote, threads: int
) -> None:
    reader = rest.Reader(url, threads)
    state = State(policy, zygote, reader, asyncio.Semaphore(MAX_WORKERS))
    runner = web.AppRunner(make_app(state), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, listener)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stderr.write(
        f"jobacct: serving on unix:{listener.getsockname()} (pid {os.getpid()},"
        f" controllers {sorted(policy.controllers)})\n"
    )
    sys.stderr.flush()
    await stop.wait()
    await runner.cleanup()
    reader.close()
