"""Running a command through the daemon (``jobacct serve``), and choosing whether to.

With a server configured (``--server ADDR``, ``$JOBACCT_SERVER`` or ``server`` in the site
config file; ``ADDR`` is ``unix:PATH`` or an absolute socket path), every command except
``db`` is sent to the daemon: its arguments, the few environment variables commands read
(:data:`FORWARDED_ENV`) and whether its standard streams are terminals. The daemon runs the
same command as the uid the kernel gives for this connection and streams its output back;
it asks for the input files and standard input it needs, which this process opens with the
user's own rights (:mod:`jobacct.wire` has the frames). The output and exit status are the
command's own, byte for byte.

``--db URL`` means "open this store directly" and wins over a server from the environment
or the config file; ``--server`` and ``--db`` together are a usage error. A daemon that
cannot be reached is one error line and exit status 3.

Standard library only, and nothing of SQLAlchemy or Typer: this is the start-up path of
every command run through the daemon.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    import socket

ENV_SERVER = "JOBACCT_SERVER"
#: Environment variables a command reads, sent along (nothing else of the environment is:
#: the daemon keeps its own database settings, and its own JOBACCT_SACCT_PROCESSES, which a
#: user must not raise there). The jobcomp/script variables are among them (``shim
#: jobcomp``, slurm-semantics.md §7.2).
FORWARDED_ENV = frozenset(
    {
        "TZ", "TERM", "NO_COLOR", "COLUMNS", "LINES",
        "SACCT_FORMAT", "SLURM_TIME_FORMAT", "SLURM_CLUSTERS",
        # jobcomp/script's variables
        "ACCOUNT", "ARRAYJOBID", "ARRAYTASKID", "CLUSTER", "CONSTRAINTS", "DB_FLAGS",
        "DERIVED_EC", "ELIGIBLE", "END", "EXITCODE", "GID", "GROUPNAME", "HETJOBID",
        "HETJOBOFFSET", "JOBID", "JOBNAME", "JOBSTATE", "LIMIT", "NODECNT", "NODES",
        "PACKJOBID", "PACKJOBOFFSET", "PARTITION", "PROCS", "QOS", "RESERVATION", "START",
        "STATEREASONPREV", "SUBMIT", "UID", "USERNAME", "WORK_DIR",
    }
)  # fmt: skip
FORWARDED_PREFIXES = ("SCANCEL_",)
#: Commands that always open the store directly (its owner's business, never the daemon's).
DIRECT_COMMANDS = frozenset({"db", "serve", "completion", "man"})
#: The root options, which may also follow the command (``jobacct sacct --db X ...``).
ROOT_OPTIONS = ("--db", "--server")
#: The variable of Click's shell completion protocol (``jobacct completion SHELL``).
COMPLETE_VAR = "_JOBACCT_COMPLETE"

_serving = False


class ClientUsageError(Exception):
    """Conflicting or malformed server options (exit status 2)."""


def serving() -> None:
    """Mark this process as a daemon worker: commands here never go to a server."""
    global _serving
    _serving = True


def _root_options(argv: Sequence[str]) -> tuple[str | None, str | None, list[str], str | None]:
    """(--db value, --server value, argv without --server, the command) of ``argv``."""
    db = server = None
    rest: list[str] = []
    command = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if command is not None:
            rest.append(arg)
        elif arg in ("--db", "--server") and i + 1 < len(argv):
            if arg == "--db":
                db = argv[i + 1]
                rest += argv[i : i + 2]
            else:
                server = argv[i + 1]
            i += 2
            continue
        elif arg.startswith("--db="):
            db = arg[5:]
            rest.append(arg)
        elif arg.startswith("--server="):
            server = arg[9:]
        else:
            if not arg.startswith("-"):
                command = arg
            rest.append(arg)
        i += 1
    return db, server, rest, command


def hoist_root_options(argv: Sequence[str]) -> list[str]:
    """``argv`` with the root options given after the command moved before it.

    ``jobacct sacct --db X -j 1`` means ``jobacct --db X sacct -j 1``: no command has an
    option of those names, so the meaning is the same wherever they stand. Arguments after
    ``--`` are left alone.
    """
    command_at = 0  # the command's index, past the root options and their values
    while command_at < len(argv) and argv[command_at].startswith("-"):
        command_at += 2 if argv[command_at] in ROOT_OPTIONS else 1
    if command_at >= len(argv):
        return list(argv)
    front, rest = list(argv[:command_at]), list[str]()
    i = command_at
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg in ROOT_OPTIONS and i + 1 < len(argv):
            front += argv[i : i + 2]
            i += 2
            continue
        if arg.startswith(tuple(f"{o}=" for o in ROOT_OPTIONS)):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def socket_path(address: str) -> str:
    """The socket path of a server address (``unix:PATH`` or ``/PATH``).

    Raises:
        ClientUsageError: any other form.
    """
    path = address[5:] if address.startswith("unix:") else address
    if not path.startswith("/"):
        raise ClientUsageError(f"invalid server address '{address}': expected unix:/PATH/TO/SOCKET")
    return path


def resolve(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """(socket path or None for "run directly", argv to send) for a command line.

    Raises:
        ClientUsageError: ``--server`` with ``--db``, or a malformed address.
        jobacct.errors.UsageError: an unreadable site config file.
    """
    db, server, rest, command = _root_options(argv)
    if _serving:
        return None, list(argv)
    if server is not None and db is not None:
        raise ClientUsageError("--server and --db cannot be used together")
    if command in DIRECT_COMMANDS:
        if server is not None:
            raise ClientUsageError(f"'{command}' opens the store directly: drop --server")
        return None, rest
    if server is None and db is None:
        server = os.environ.get(ENV_SERVER)
        if server is None:
            from jobacct.config import read_config, server_address

            server = server_address(read_config())
    if not server:
        return None, rest
    return socket_path(server), rest


def _error(message: str) -> None:
    sys.stderr.write(f"jobacct: error: {message}\n")
    sys.stderr.flush()


def forwarded_env(environ: dict[str, str] | os._Environ[str] | None = None) -> dict[str, str]:
    """The variables of :data:`FORWARDED_ENV` (and ``SCANCEL_*``) set in ``environ``.

    A ``TZ`` naming a file (``/path``, ``:/path``, ``..``) is left out: the daemon would
    open it with its own rights.
    """
    env = os.environ if environ is None else environ
    return {
        k: v
        for k, v in env.items()
        if (k in FORWARDED_ENV or k.startswith(FORWARDED_PREFIXES))
        and not (k == "TZ" and (v.lstrip(":").startswith("/") or ".." in v))
    }


class _Chunked:
    """The response of the daemon: its status line and headers, then its chunked body."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.reason = ""
        self._buf = bytearray()
        self._remaining: int | None = None  # bytes left in the current chunk
        self._crlf = False  # the CRLF after a chunk's data is due
        self.ended = False
        self.length: int | None = None  # a Content-Length body (error answers)

    def feed(self, data: bytes) -> bytes:
        """Add bytes from the socket; return the body bytes now decoded."""
        self._buf += data
        out = bytearray()
        if self.status is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return b""
            lines = bytes(self._buf[:end]).decode("latin-1").split("\r\n")
            del self._buf[: end + 4]
            parts = lines[0].split(" ", 2)
            self.status = int(parts[1])
            self.reason = parts[2] if len(parts) > 2 else ""
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
            }
            if headers.get("transfer-encoding", "").lower() != "chunked":
                self.length = int(headers.get("content-length", "0"))
        if self.length is not None:
            out += self._buf
            self._buf.clear()
            return bytes(out)
        while not self.ended:
            if self._crlf:
                if len(self._buf) < 2:
                    break
                del self._buf[:2]
                self._crlf = False
            if self._remaining is None:
                end = self._buf.find(b"\r\n")
                if end < 0:
                    break
                size = int(bytes(self._buf[:end]).split(b";")[0], 16)
                del self._buf[: end + 2]
                if size == 0:
                    self.ended = True
                    break
                self._remaining = size
            take = min(self._remaining, len(self._buf))
            out += self._buf[:take]
            del self._buf[:take]
            self._remaining -= take
            if self._remaining:
                break
            self._remaining = None
            self._crlf = True
        return bytes(out)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def run(path: str, argv: Sequence[str], *, stdin: int = 0, stdout: int = 1, stderr: int = 2) -> int:
    """Run ``argv`` through the daemon listening on ``path``; return the exit status.

    The command's standard output and error go to ``stdout``/``stderr``; files it opens are
    opened here (relative to this process's working directory) and ``-`` is ``stdin``.
    """
    import socket  # here: a direct command (no daemon) never needs it, 17 ms of start-up

    from jobacct import wire  # here too (struct): sacct -j's start-up, tracker issue 16

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        _error(f"cannot reach the jobacct server at unix:{path}: {exc.strerror or exc}")
        return 3
    try:
        return _exchange(sock, path, list(argv), stdin, stdout, stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0  # our reader went away (| head): as a direct command, not an error
    except (OSError, wire.FrameError, ValueError) as exc:
        _error(f"lost the jobacct server at unix:{path}: {exc}")
        return 3
    finally:
        sock.close()


def _exchange(
    sock: socket.socket, path: str, argv: list[str], stdin: int, stdout: int, stderr: int
) -> int:
    import json
    import select

    from jobacct import wire

    env = forwarded_env()
    if os.isatty(stdout) and "COLUMNS" not in env:
        # The command's output goes to a pipe in the daemon: tell it the terminal's width.
        try:
            size = os.get_terminal_size(stdout)
            env["COLUMNS"], env["LINES"] = str(size.columns), str(size.lines)
        except OSError:
            pass
    head = {
        "argv": argv,
        "env": env,
        "tty": {
            "stdin": os.isatty(stdin),
            "stdout": os.isatty(stdout),
            "stderr": os.isatty(stderr),
        },
    }
    out = bytearray(
        (
            f"POST {wire.RUN_PATH} HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Type: {wire.CONTENT_TYPE}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )
    out += _chunk(wire.frame(b"H", json.dumps(head).encode()))
    sock.setblocking(False)
    response = _Chunked()
    frames = wire.FrameBuffer()
    inputs: dict[int, int] = {}  # channel -> fd being sent
    error_body = bytearray()
    while True:
        readers: list[int] = [sock.fileno()]
        if len(out) < (1 << 20):
            readers += list(inputs.values())
        writers = [sock.fileno()] if out else []
        ready_r, ready_w, _ = select.select(readers, writers, [])
        if sock.fileno() in ready_w:
            try:
                sent = sock.send(out)
                del out[:sent]
            except BlockingIOError:
                pass
        for channel, fd in list(inputs.items()):
            if fd not in ready_r:
                continue
            data = os.read(fd, wire.CHUNK)
            if data:
                out += _chunk(wire.channel_frame(b"D", channel, data))
            else:
                out += _chunk(wire.channel_frame(b"Z", channel))
                del inputs[channel]
                if fd != stdin:
                    os.close(fd)
        if sock.fileno() not in ready_r:
            continue
        try:
            data = sock.recv(1 << 18)
        except BlockingIOError:
            continue
        if not data:
            raise ValueError("the server closed the connection")
        body = response.feed(data)
        if response.status is not None and response.status != 200:
            error_body += body
            if response.length is not None and len(error_body) >= response.length:
                text = error_body.decode("utf-8", "replace").strip().splitlines()
                _error(f"the jobacct server refused: {text[0] if text else response.reason}")
                return 1
            continue
        for kind, payload in frames.feed(body):
            if kind == b"O":
                _write_fd(stdout, payload)
            elif kind == b"E":
                _write_fd(stderr, payload)
            elif kind == b"R":
                channel, name = wire.split_channel(payload)
                try:
                    fd = (
                        stdin
                        if name == b"-"
                        else os.open(name.decode("utf-8", "surrogateescape"), os.O_RDONLY)
                    )
                except OSError as exc:
                    out += _chunk(
                        wire.channel_frame(
                            b"N", channel, wire.u32(exc.errno or 0) + (exc.strerror or "").encode()
                        )
                    )
                    continue
                out += _chunk(wire.channel_frame(b"A", channel))
                inputs[channel] = fd
            elif kind == b"X":
                return wire.read_u32(payload)
        if response.ended:
            raise ValueError("the server ended the answer without an exit status")


def main(argv: Sequence[str]) -> int | None:
    """Run ``argv`` through the daemon if one is configured; None if it runs directly.

    Returns the exit status of the command, or 2 (usage), 3 (daemon unreachable).
    """
    if os.environ.get(COMPLETE_VAR) or {"--install-completion", "--show-completion"} & set(argv):
        # A shell asking for completions, or for its script: answered here (the caller's
        # shell, the caller's files), from the command tree.
        return None
    try:
        path, rest = resolve(argv)
    except ClientUsageError as exc:
        _error(str(exc))
        return 2
    if path is None:
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    return run(path, rest)


def entry() -> None:
    """Console script ``jobacct``: through the daemon if configured, else directly."""
    argv = hoist_root_options(sys.argv[1:])
    try:
        status = main(argv)
    except Exception as exc:  # an unreadable site config: the command's usual error line
        from jobacct.errors import JobAcctError

        if not isinstance(exc, JobAcctError):
            raise
        _error(str(exc))
        sys.exit(int(exc.exit_status))
    if status is None and "sacct" in argv:
        # The common sacct command lines run without Typer (tracker issue 16); None: not one.
        from jobacct.sacct_fastpath import run as sacct_fastpath

        status = sacct_fastpath(argv)
    if status is None:
        from jobacct.cli import main as direct

        status = direct(argv, route=False)
    sys.exit(status)
