"""Streaming ``--json`` and ``--ndjson``: one job object at a time, never the whole list.

``--json`` writes sacct's document, ``{"meta": ..., "errors": [], "warnings": [], "jobs":
[...]}``, each job written as soon as its last step has been read. The document's frame is
on its own lines and each job is one line of the ``jobs`` array: sacct 22.05 indents every
level instead, but JSON readers do not care, and the standard library encodes a flat object
in C and an indented one in Python, 4-5 times slower (a million jobs: about a minute instead
of several). ``jq .`` gives sacct's look back. ``--ndjson`` writes the same job objects, one
compact object per line, and nothing else.

Both use the standard :mod:`json` module with ``ensure_ascii``: the output is ASCII, and no
control character of a job name reaches a terminal unescaped.

The query's first row is read before anything is written, so a failing query leaves stdout
empty instead of holding half a document.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from jobacct.fields import Ctx
from jobacct.formats.jsondoc import UserNames, job_object, step_object

#: The Slurm release whose ``sacct --json`` shape is reproduced (openapi/dbv0.0.38).
SLURM_VERSION = {"major": 22, "micro": 8, "minor": 5}
SLURM_RELEASE = "22.05.8"


@functools.cache
def _version() -> str:
    # Imported here: importlib.metadata costs ~0.15 s, which every sacct run would pay.
    from importlib import metadata

    try:
        return metadata.version("jobacct")
    except metadata.PackageNotFoundError:
        return "unknown"


def meta() -> dict[str, Any]:
    """The ``meta`` object: 22.05's keys, naming jobacct as the plugin."""
    return {
        "plugin": {"type": "openapi/dbv0.0.38", "name": f"jobacct {_version()}"},
        "Slurm": {"version": dict(SLURM_VERSION), "release": SLURM_RELEASE},
    }


def iter_jobs(lines: Iterable[tuple[Any, bool]], ctx: Ctx) -> Iterator[dict[str, Any]]:
    """Group sacct's ``(row, is_step)`` lines into job objects with their steps nested.

    Lines come in sacct order (a job line, then its steps). A step whose job line was left
    out (``-j 123.batch`` shows only the step) still gets its job object, built from the job
    columns every step row carries. Only one job is held at a time.
    """
    users = UserNames()
    job: dict[str, Any] | None = None
    current: Any = None
    for row, is_step in lines:
        if job is None or row.id != current:
            if job is not None:
                yield job
            job = job_object(row, ctx, users)
            current = row.id
        if is_step:
            job["steps"].append(step_object(row, ctx, users))
    if job is not None:
        yield job


def json_document(lines: Iterable[tuple[Any, bool]], ctx: Ctx) -> Iterator[str]:
    """Yield the ``--json`` document in chunks: the head, one line per job, the tail."""
    jobs = iter_jobs(lines, ctx)
    first = next(jobs, None)
    head = (
        '{\n  "meta": ' + json.dumps(meta()) + ',\n  "errors": [],\n  "warnings": [],\n  "jobs": ['
    )
    if first is None:
        yield head + "]\n}\n"
        return
    yield head + "\n    " + json.dumps(first)
    for job in jobs:
        yield ",\n    " + json.dumps(job)
    yield "\n  ]\n}\n"


def ndjson_lines(lines: Iterable[tuple[Any, bool]], ctx: Ctx) -> Iterator[str]:
    """Yield one compact JSON job object per line (``--ndjson``)."""
    for job in iter_jobs(lines, ctx):
        yield json.dumps(job, separators=(",", ":")) + "\n"
