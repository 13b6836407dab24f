"""Line-by-line comparison of real sacct's output with jobacct's, cell by cell.

A line pair that differs is split into cells so each differing cell can be matched against
the known differences (tests/oracle/known.py): ``-p``/``-P`` lines at the delimiter, the
fixed-width table at the column spans its dashes line gives. A line that cannot be split
alike on both sides (a ``|`` inside a value, a missing line) is a plain difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: (field name, sacct's cell, jobacct's cell, option set) -> whether the rule explains it
Rule = Callable[[str, str, str, Sequence[str]], bool]


@dataclass
class Outcome:
    """What one option set gave: line pairs compared, and the differing ones by kind."""

    pairs: int = 0
    same: int = 0
    #: known-difference key -> number of line pairs it (alone) explains
    explained: dict[str, int] = field(default_factory=dict)
    #: line pairs no rule explains: (line number, sacct's line, jobacct's line, cells)
    unexplained: list[tuple[int, str, str, str]] = field(default_factory=list)


def _spans(dashes: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for chunk in dashes.split(" "):
        if chunk:
            spans.append((pos, pos + len(chunk)))
        pos += len(chunk) + 1
    return spans


def _cells(
    line: str, header: list[str], spans: list[tuple[int, int]] | None, delim: str | None
) -> list[str] | None:
    if delim is not None:
        cells = line.split(delim)
        if len(cells) == len(header) + 1 and cells[-1] == "":  # -p ends every line with |
            cells.pop()
        return cells if len(cells) == len(header) else None
    if spans is None or len(spans) != len(header):
        return None
    return [line[a:b] for a, b in spans]


def delimiter(args: Sequence[str]) -> str | None:
    """The -p/-P delimiter of a sacct command line, None for the fixed-width table."""
    if not any(a in ("-p", "-P", "--parsable", "--parsable2") for a in args):
        return None
    for a in args:
        if a.startswith("--delimiter="):
            return a.split("=", 1)[1]
    return "|"


def compare(
    args: Sequence[str],
    real: str,
    ours: str,
    rules: dict[str, Rule],
    head: str | None = None,
) -> Outcome:
    """Compare two outputs of the same sacct command line ``args``.

    ``head`` is the header (and, for the table, the dashes line) that real sacct prints for
    the same command without ``-n``; it names the cells when ``args`` has ``-n``.
    """
    a, b = real.splitlines(), ours.splitlines()
    out = Outcome()
    delim = delimiter(args)
    header: list[str] = []
    spans = None
    noheader = "-n" in args or "--noheader" in args
    top = (head or "").splitlines() if noheader else a[:2]
    if top:
        header = [h.strip() for h in (top[0].split(delim) if delim else top[0].split())]
        if delim and header and header[-1] == "":
            header.pop()
        if delim is None and len(top) > 1:
            spans = _spans(top[1])
    for number in range(max(len(a), len(b))):
        out.pairs += 1
        x = a[number] if number < len(a) else "<no line>"
        y = b[number] if number < len(b) else "<no line>"
        if x == y:
            out.same += 1
            continue
        key, detail = _explain(x, y, header, spans, delim, args, rules)
        if key is None:
            out.unexplained.append((number + 1, x, y, detail))
        else:
            out.explained[key] = out.explained.get(key, 0) + 1
    return out


def _explain(
    x: str,
    y: str,
    header: list[str],
    spans: list[tuple[int, int]] | None,
    delim: str | None,
    args: Sequence[str],
    rules: dict[str, Rule],
) -> tuple[str | None, str]:
    if not header:
        return None, "no header to name the cells"
    cx, cy = _cells(x, header, spans, delim), _cells(y, header, spans, delim)
    if cx is None or cy is None:
        return None, "lines do not split into the header's cells"
    keys: set[str] = set()
    unexplained: list[str] = []
    for name, s, j in zip(header, cx, cy):
        if s == j:
            continue
        for key, rule in rules.items():
            if rule(name, s.strip(), j.strip(), args):
                keys.add(key)
                break
        else:
            unexplained.append(f"{name}: sacct {s.strip()!r} jobacct {j.strip()!r}")
    if unexplained:
        return None, "; ".join(unexplained)
    # several rules on one line: name them all (sorted, so the key is stable)
    return "+".join(sorted(keys)), ""
