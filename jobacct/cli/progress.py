"""Import progress on stderr: a Rich progress bar on a terminal, nothing until the end else.

Nothing is ever written to stdout, so ``jobacct import ... | ...`` pipelines are not broken.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

#: What a bar reads for its position and total: (done, total or None). Bytes of the input
#: files when their size is known, else rows.
Position = Callable[[], tuple[int, int | None]]


class ImportProgress:
    """A progress display for one import; use as a context manager, call :meth:`update`.

    On a terminal (stderr is a TTY) it shows a Rich bar with the rows done, rows/s and, when
    ``position`` gives a total (file sizes), the percentage and ETA. Elsewhere it shows
    nothing; the command prints its one summary line at the end.
    """

    def __init__(self, label: str, position: Position | None = None) -> None:
        self.label = label
        self.position = position
        self.started = time.monotonic()
        self.rows = 0
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ImportProgress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            total = self.position()[1] if self.position is not None else None
            columns: list[Any] = [TextColumn("{task.description}")]
            if total:
                columns += [BarColumn(), TaskProgressColumn(), TimeRemainingColumn()]
            columns += [TextColumn("{task.fields[rows]}"), TimeElapsedColumn()]
            self._progress = Progress(*columns, console=Console(stderr=True), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=total or None, rows="")
        return self

    def update(self, rows: int) -> None:
        """Record that ``rows`` input rows have been read and written so far."""
        self.rows = rows
        if self._progress is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        text = f"{rows:,} rows, {rows / elapsed:,.0f} rows/s"
        done = self.position()[0] if self.position is not None else rows
        self._progress.update(self._task, completed=done, rows=text)

    def rate(self) -> float:
        """Rows per second so far."""
        return self.rows / max(time.monotonic() - self.started, 1e-9)

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.started

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
