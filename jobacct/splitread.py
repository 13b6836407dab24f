"""One big ``jobacct sacct`` read shared by several processes (tracker issue 3).

Why: on a SQLite store the cost of a large read is in Python, not in SQLite (about 0.3 µs for
every cell sqlite3 hands over, ~2 µs to format a line: bench/RESULTS.md), and one Python
process uses one core. A one-day window with steps (~165,000 lines) cannot reach 200,000
lines/s in one process on the project's 2-core machines however lean the loop (a hand-written
loop with no generic code measured 0.80 s plus start-up); split in two it does.

How, with :class:`Helpers`:

1. Before the command opens the store, it forks its helper processes (``fork`` while no
   SQLite connection exists in the process: SQLite forbids carrying an open connection across
   a fork). Each waits on a pipe.
2. The command selects its jobs as usual (:func:`jobacct.fastread.read_lines`): their ids go
   into the selection table in sacct's order (on a server: a list in memory,
   :meth:`Helpers.split_ids`). If there are at least :data:`MIN_JOBS_PER_PROCESS`
   jobs per process, the selection is cut into consecutive slices; each helper gets the ids of
   one slice (not the first) through its pipe and the command keeps the first slice.
   Otherwise the pipes are closed and the helpers exit at once.
3. A helper opens its own connection, reads exactly its ids (in the same order) and renders
   them with the same writer into an unlinked temporary file, without the header.
4. The command streams its own slice to stdout (output starts before the query ends), then
   copies each helper's file in order. A helper that failed (killed, no temporary space)
   is not an error: the command renders that slice itself.

A read without steps (``-X``, step-less formats) needs no selection table: sacct's order
starts with the submit time, so the command cuts the submit times into ranges
(:func:`jobacct.fastread.submit_slices`, two probes of an index) and each process runs the
one statement for its range (:meth:`Helpers.split_ranges`).

Each process reads in its own read transaction, so a slice may be read a few milliseconds
after the selection was made; jobs are never lost or doubled (the ids are fixed by the
selection; submit-time ranges do not overlap), but a job written in between shows its newer
values. sacct over slurmdbd has no snapshot across its per-job step queries either.

Used only where it pays and cannot change the bytes: stdout not a terminal (the terminal
writer escapes and colours per process), no explicit job list (``-j`` reads a handful of
jobs), not ``--json`` (one document), and at least :data:`MIN_JOBS_PER_PROCESS` jobs per
process; a read without steps only for a plain listing (``-a -S -E``, ``-M``: the count of
jobs eligible in the window stands for its size). SQLite files and, for listings with
steps, PostgreSQL and MariaDB stores (:mod:`jobacct.serverread`, each process with its own
connection). ``JOBACCT_SACCT_PROCESSES`` sets how many processes may share a read (default:
the usable CPUs, at most 4; ``1`` turns this off).
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping

from jobacct.errors import UsageError

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from array import array
    from typing import IO, Any, TextIO

# array and signal are imported where helpers are forked: a read by one process (-j) needs
# neither (tracker issue 16: start-up of sacct -j).

#: Fewest selected jobs each process must get for a read to be split (below it, forking
#: the work out costs about what it saves).
MIN_JOBS_PER_PROCESS = 2500
#: The command's share of a split read, against 1.0 for each helper: a helper starts later
#: (its ids cross a pipe, it opens the store) and the command copies the helpers' output at
#: the end, so equal slices leave the command waiting (measured: bench/RESULTS.md).
COMMAND_SHARE = 1.2
#: Default ceiling of processes per read.
MAX_DEFAULT_PROCESSES = 4
ENV_PROCESSES = "JOBACCT_SACCT_PROCESSES"

if TYPE_CHECKING:
    #: Renders a selection on a connection into a text stream: ``render(conn, out)``. The
    #: command passes its writer with the header and any JSON head and tail left out.
    Render = Callable[[Any, TextIO], None]
    #: Opens a new connection to the store for a slice: a
    #: :class:`jobacct.fastread.StoreConnection` or a :class:`jobacct.serverread.ServerStore`
    #: (both read their ``preselected`` ids when set, and have ``close()``).
    Opener = Callable[[], Any]


def processes_wanted(environ: Mapping[str, str] | None = None) -> int:
    """How many processes a big read may use: ``$JOBACCT_SACCT_PROCESSES`` or the CPUs.

    Raises:
        UsageError: if the variable is not a positive integer.
    """
    env = os.environ if environ is None else environ
    text = env.get(ENV_PROCESSES, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise UsageError(f"{ENV_PROCESSES}={text!r}: expected a positive whole number")
        return int(text)
    if not hasattr(os, "fork"):
        return 1
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return max(1, min(MAX_DEFAULT_PROCESSES, cpus))


#: The jobs eligible in a window ``[:p0, :p1)``, and the eligible time of the one at
#: position ``:p2`` among them: two walks of the eligible-time index
#: (:meth:`Helpers.split_by_submit_time`; the same text on every backend).
ELIGIBLE_COUNT_SQL = "SELECT count(*) FROM job WHERE time_eligible >= :p0 AND time_eligible < :p1"
ELIGIBLE_AT_SQL = (
    "SELECT time_eligible FROM job WHERE time_eligible >= :p0 AND time_eligible < :p1"
    " ORDER BY time_eligible LIMIT 1 OFFSET :p2"
)
#: A slice of submit times: ``[low, high)`` epoch seconds, None for an open side.
SubmitRange = tuple[int | None, int | None]
#: How a slice crosses the pipe: a tag byte, then int64s (ids, or the range's two bounds).
_IDS, _RANGE = b"I", b"R"
_OPEN_LOW, _OPEN_HIGH = -(1 << 63), (1 << 63) - 1


class _Helper:
    """One forked helper, as the command sees it."""

    def __init__(self, pid: int, pipe: int | None, output: IO[bytes]) -> None:
        from array import array

        self.pid = pid
        self.pipe = pipe  # write end: its slice (see _send), then EOF
        self.output = output  # unlinked temporary file it renders into
        self.ids: array[int] = array("q")  # the ids of its slice
        #: Its slice as a range of submit times instead of ids (split_ranges).
        self.submit_range: SubmitRange | None = None
        self.given = False
        #: Exit status once reaped (negative: killed by that signal).
        self.status: int | None = None


class Helpers:
    """Forked helper processes for one read (module docstring); use as a context manager.

    ``Helpers(store, render, count)`` forks ``count - 1`` helpers (none if ``count < 2`` or
    no temporary file can be made); ``store`` is a SQLite file's path or an :data:`Opener`
    (a server store: :mod:`jobacct.serverread`). The connection the command reads with
    gets this object as its ``helpers`` attribute (:class:`jobacct.fastread.StoreConnection`,
    :class:`jobacct.serverread.ServerStore`), whose reader calls :meth:`split` (a selection
    table) or :meth:`split_ids` (ids in memory) on it; after the command wrote its own
    slice, :meth:`finish` writes the helpers' slices. Leaving the ``with`` block stops any
    helper still running.
    """

    def __init__(
        self,
        store: str | os.PathLike[str] | Opener,
        render: Render,
        count: int,
        min_jobs: int = MIN_JOBS_PER_PROCESS,
        encoding: str = "utf-8",
        errors: str = "strict",
    ) -> None:
        if callable(store):
            self.opener: Opener = store
        else:
            path = store

            def open_sqlite() -> Any:
                from jobacct import fastread

                return fastread.connect(path)

            self.opener = open_sqlite
        self.render, self.min_jobs = render, min_jobs
        self.encoding, self.errors = encoding, errors
        self.helpers: list[_Helper] = []
        for _ in range(count - 1):
            # Imported here: a read that forks nothing (-j, one CPU) need not load it.
            import tempfile

            try:
                # Closed in close(), after the helper's slice was copied.
                output = tempfile.TemporaryFile()  # noqa: SIM115
            except OSError:
                break  # no temporary space: the command reads alone
            read_end, write_end = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # no process to spare (EAGAIN, ENOMEM): read with fewer
                os.close(read_end)
                os.close(write_end)
                output.close()
                break
            if pid == 0:  # pragma: no cover - runs in the child (coverage sees no child)
                os.close(write_end)
                for other in self.helpers:
                    if other.pipe is not None:
                        os.close(other.pipe)
                self._helper_main(read_end, output)
            os.close(read_end)
            self.helpers.append(_Helper(pid, write_end, output))

    def __enter__(self) -> Helpers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- in the command

    def split(self, conn: sqlite3.Connection, table: str) -> None:
        """Hand the helpers their slices of the selection ``table`` (``seq``, ``id``).

        Called inside the command's read transaction, after the selection was made; leaves
        only the command's own (first) slice in ``table``. With too few jobs to split, tells
        every helper to exit and changes nothing.
        """
        if not self.helpers:
            return
        selected = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        bounds = self._bounds(selected)
        if bounds is None:
            return
        # seq is the rowid, 1..selected in sacct's order: each slice is a rowid range.
        from array import array

        for helper, low, high in zip(self.helpers, bounds[1:], bounds[2:]):
            helper.ids = array(
                "q",
                (
                    row[0]
                    for row in conn.execute(
                        f"SELECT id FROM {table} WHERE seq > ? AND seq <= ? ORDER BY seq",
                        (low, high),
                    )
                ),
            )
            helper.given = True
        conn.execute(f"DELETE FROM {table} WHERE seq > ?", (bounds[1],))
        self._send_all()

    def split_ids(self, ids: array[int]) -> array[int]:
        """Hand the helpers their slices of ``ids`` (the selection, in sacct's order) and
        return the command's own (first) slice; all of ``ids`` when there are too few."""
        if not self.helpers:
            return ids
        bounds = self._bounds(len(ids))
        if bounds is None:
            return ids
        for helper, low, high in zip(self.helpers, bounds[1:], bounds[2:]):
            helper.ids = ids[low:high]
            helper.given = True
        self._send_all()
        return ids[: bounds[1]]

    def split_by_submit_time(
        self,
        plain: bool,
        start: int,
        end: int,
        scalar: Callable[[str, dict[str, int]], int | None],
    ) -> SubmitRange | None:
        """Share a read without steps in ``[start, end)`` by submit time: each helper gets
        a range of submit times (:meth:`split_ranges`), the command keeps the first, which
        is returned; None when not shared (every helper told to exit).

        sacct's order starts with the submit time (§4.8), so the ranges' outputs, one after
        the other, are the listing itself, and no process needs the others' rows: where a
        listing with steps first writes the ids of its selection down for the slices (a
        month of a million jobs: half a second before the first line), this costs two
        probes of the eligible-time index, through ``scalar(sql, params)`` (the store's
        one-value query; :data:`ELIGIBLE_COUNT_SQL`, :data:`ELIGIBLE_AT_SQL`). The cut
        points are quantiles of the eligible times of the jobs eligible in the window (about
        their submit times), weighted as :meth:`slice_bounds` weighs slices; jobs eligible
        before the window that still ran in it go to the first slice. Only for a ``plain``
        listing (``-a -S -E``, ``-M``: jobacct.sqltext.plain_listing): a filter with an
        index of its own selects too few of those jobs for the estimate.
        """
        window = {"p0": start, "p1": end}
        eligible = scalar(ELIGIBLE_COUNT_SQL, window) if plain and self.helpers else None
        bounds = self.slice_bounds(eligible or 0)
        if bounds is None:
            return None
        cuts: list[int] = []
        for position in bounds[1:-1]:
            at = scalar(ELIGIBLE_AT_SQL, {**window, "p2": position})
            if at is not None and (not cuts or at > cuts[-1]):
                cuts.append(at)
        if not cuts:
            self._release()
            return None
        edges: list[int | None] = [None, *cuts, None]
        ranges = [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
        self.split_ranges(ranges[1:])
        return ranges[0]

    def split_ranges(self, ranges: list[SubmitRange]) -> None:
        """Hand helper ``i`` the submit-time range ``ranges[i]`` (the command keeps the one
        before them all); helpers left without a range are told to exit. A range is a
        slice of a listing read in sacct's order, whose first key is the submit time
        (:meth:`split_by_submit_time`)."""
        for helper, submit_range in zip(self.helpers, ranges):
            helper.submit_range = submit_range
            helper.given = True
        self._send_all()

    def slice_bounds(self, selected: int) -> list[int] | None:
        """Where ``selected`` jobs in order are cut for the command and the helpers:
        positions ``0 = b0 < b1 < ... < bk = selected`` (the command's slice first, the
        larger one), or None when too few jobs to split (every helper is told to exit)."""
        return self._bounds(selected)

    def _bounds(self, selected: int) -> list[int] | None:
        """Slice bounds (positions 0..selected) for the command and each helper used, or
        None (too few jobs: every helper is told to exit)."""
        parts = min(len(self.helpers) + 1, selected // max(self.min_jobs, 1))
        if parts < 2:
            self._release()
            return None
        # The command's (the first) slice is COMMAND_SHARE times a helper's.
        shares = [COMMAND_SHARE] + [1.0] * (parts - 1)
        total = sum(shares)
        return [round(selected * sum(shares[:i]) / total) for i in range(parts + 1)]

    def _send_all(self) -> None:
        for helper in self.helpers:
            if helper.given:
                self._send(helper)
        self._release()

    def release(self) -> None:
        """Tell every helper not given a slice to exit (a read that is not split)."""
        self._release()

    def finish(self, out: TextIO) -> None:
        """Write the helpers' slices to ``out`` in order, rendering any failed one here.

        Raises whatever the command's own rendering raises for a failed helper's slice
        (e.g. ``sqlite3.Error``); a closed reader (EPIPE) stops the copy quietly.
        """
        from jobacct.formats.stream import write_chunks

        for helper in self.helpers:
            if not helper.given:
                continue
            ok = self._wait(helper) == 0
            if ok:
                if not write_chunks(self._read_back(helper.output), out):
                    return
                continue
            # The helper died (OOM killer, no temporary space...): read its slice here.
            conn = self.opener()
            try:
                if helper.submit_range is not None:
                    conn.submit_range = helper.submit_range
                else:
                    conn.preselected = helper.ids
                self.render(conn, out)
            finally:
                conn.close()

    def close(self) -> None:
        """Stop and reap every helper still running; close their pipes and files."""
        self._release()
        for helper in self.helpers:
            if helper.status is None:
                import signal  # here: a read without helpers (-j) never needs it

                with contextlib.suppress(ProcessLookupError):
                    os.kill(helper.pid, signal.SIGKILL)
                self._wait(helper)
            helper.output.close()
        self.helpers = []

    def _send(self, helper: _Helper) -> None:
        assert helper.pipe is not None
        if helper.submit_range is not None:
            from array import array

            low, high = helper.submit_range
            bounds = array(
                "q", (_OPEN_LOW if low is None else low, _OPEN_HIGH if high is None else high)
            )
            data = _RANGE + bounds.tobytes()
        else:
            data = _IDS + helper.ids.tobytes()
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(helper.pipe, view) :]
        except BrokenPipeError:
            pass  # the helper died: finish() renders its slice here
        os.close(helper.pipe)
        helper.pipe = None

    def _release(self) -> None:
        """Close the pipes of helpers given no slice: they exit without reading."""
        for helper in self.helpers:
            if helper.pipe is not None:
                os.close(helper.pipe)
                helper.pipe = None

    @staticmethod
    def _wait(helper: _Helper) -> int:
        """Reap ``helper`` (once) and return its exit status."""
        if helper.status is None:
            _pid, status = os.waitpid(helper.pid, 0)
            helper.status = os.waitstatus_to_exitcode(status)
        return helper.status

    def _read_back(self, output: IO[bytes]) -> Iterator[str]:
        output.seek(0)
        reader = io.TextIOWrapper(output, encoding=self.encoding, errors=self.errors, newline="")
        try:
            while chunk := reader.read(1 << 20):
                yield chunk
        finally:
            reader.detach()

    # ----------------------------------------------------------------- in a helper

    def _helper_main(self, read_end: int, output: IO[bytes]) -> None:  # pragma: no cover
        """The helper process: read its ids, render them, exit (never returns)."""
        import signal
        from array import array

        status = 1
        try:
            # Ctrl-C reaches the whole process group: the command handles it, not helpers.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            if data:
                numbers = array("q")
                numbers.frombytes(data[1:])
                conn = self.opener()
                if data[:1] == _RANGE:
                    low, high = numbers
                    conn.submit_range = (
                        None if low == _OPEN_LOW else low,
                        None if high == _OPEN_HIGH else high,
                    )
                else:
                    conn.preselected = numbers
                text = io.TextIOWrapper(
                    output, encoding=self.encoding, errors=self.errors, newline=""
                )
                self.render(conn, text)
                text.flush()
                text.detach()
            status = 0
        except BaseException:
            status = 1
        finally:
            # Never return into the command's code, run its exit handlers or flush its
            # buffers (the output would appear twice).
            os._exit(status)
