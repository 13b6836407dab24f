"""Machine output of the commands that list records (``sjobexitmod -l/--history``,
``admin list``): ``-P/--parsable2``, ``-n/--noheader`` and ``--json``, in sacct's style.

``-P``: a ``|``-separated header line and records, no trailing ``|`` (sacct -P); ``-n``
leaves out the header. ``--json``: one document, ``{"<records>": [{column: value}, ...]}``,
one record per line, with the column names of the ``-P`` header as keys; numbers are
numbers, a missing value is ``null``, a list is a list. ``--json`` and ``-P`` exclude each
other (as in sacct), and so do ``--json`` and ``-n``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any

import typer

from jobacct.cli.output import _is_tty, write_lines
from jobacct.errors import UsageError

Json = Annotated[bool, typer.Option("--json", help="The records as one JSON document.")]
Parsable2 = Annotated[
    bool, typer.Option("--parsable2", "-P", help="'|'-separated, no trailing '|' (sacct -P).")
]
NoHeader = Annotated[bool, typer.Option("--noheader", "-n", help="No header line.")]


def check(json_out: bool, parsable2: bool, noheader: bool) -> None:
    """Refuse the combinations that exclude each other (module docstring).

    Raises:
        UsageError: ``--json`` with ``-P`` or ``-n``.
    """
    if json_out and (parsable2 or noheader):
        raise UsageError(f"--json and {'-P' if parsable2 else '-n'} cannot be used together")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def parsable_lines(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, header: bool = True
) -> Iterator[str]:
    """The ``-P`` lines (without newlines) of ``rows``."""
    if header:
        yield "|".join(columns)
    for row in rows:
        yield "|".join(_cell(v) for v in row)


def write_json(key: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``{"<key>": [{column: value}, ...]}``, one record per line, to stdout."""
    sys.stdout.write(f"{{{json.dumps(key)}: [")
    for n, row in enumerate(rows):
        # On a terminal everything but ASCII is escaped: no stored text can act on it.
        record = json.dumps(dict(zip(columns, row)), ensure_ascii=_is_tty(sys.stdout))
        sys.stdout.write(("," if n else "") + "\n" + record)
    sys.stdout.write("\n]}\n")


def write_records(
    key: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    json_out: bool,
    header: bool = True,
) -> None:
    """Write ``rows`` as ``--json`` or as ``-P`` lines (``header=False``: ``-n``)."""
    if json_out:
        write_json(key, columns, rows)
    else:
        write_lines(parsable_lines(columns, rows, header=header))
