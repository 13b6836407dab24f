"""Fuzzing every command's arguments and the shim's events (tracker issue 14).

Hypothesis builds command lines from each command's real options with hostile values
(huge numbers, other scripts' digits, control characters, bidi overrides, malformed times and
ids, empty strings) and event lines with wrong types, absurd numbers and broken JSON, and
runs them against a real SQLite store holding the golden records. Every run must:

* end with a documented exit status (README "Exit statuses"; scancel's Slurm statuses);
* never raise (a traceback is a failure of the test);
* leave the store exactly as it was when the command refused (status 1-4) — scancel aside,
  which may cancel some jobs and then report an error for another, as Slurm's does;
* keep memory bounded: the process's peak RSS grows by less than :data:`RSS_BUDGET_MIB`
  over the whole run.

Import files (sacct ``-P`` text with random headers and cells, slurmdbd dumps of golden
rows with random cells) are fuzzed the same way. ``JOBACCT_FUZZ_EXAMPLES`` sets the examples
per target (default 60; CI prints the total).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.shim.apply import ShimEventError, apply
from jobacct.slurm_errno import SlurmErrno
from tests.conftest import build_golden_store
from tests.shim_helpers import dump_store

EXAMPLES = int(os.environ.get("JOBACCT_FUZZ_EXAMPLES", "60"))
RSS_BUDGET_MIB = 512
#: README "Exit statuses", plus scancel's: the largest Slurm error truncated to 8 bits.
STATUSES = {0, 1, 2, 3, 4} | {int(e) & 0xFF for e in SlurmErrno}
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("JOBACCT_FUZZ_RANDOM") != "1",  # CI: the same examples every run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COUNTED: dict[str, int] = {}

HOSTILE = [
    "", " ", "-1", "0", "1", "37", "23_1", "23_[1-3]", "56+1", "37.batch", "1_[1-99999999]",
    "99999999999999999999999", "4294967296", "-99999999999999999999", "\u0663", "\uff11\uff12",
    "2\u00b2", "\x1b[31mred", "\x9b2J", "a\u202eb", "bad\udcff", "now-1days", "2026-13-45",
    "2026-11-22T11:30", "midnight", "ALL", "JobID%2000000000", "JobID%-5,State", "%", "%%",
    ",", "100,", "a,,b", "[", "]", "*", "x" * 5000, "PD,R,CA", "COMPLETED", "tux[1-99999999]",
    "/dev/zero", "/nonexistent/file", "root", "alice", "nobody-here", "Y", "n",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=24),
)


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "golden.sqlite"
    build_golden_store(path)
    return path


@pytest.fixture
def store(golden: Path, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "store.sqlite"
    shutil.copy(golden, path)
    yield "sqlite:///" + str(path)


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _check(url: str, argv: list[str], capsys: pytest.CaptureFixture[str], mutable: bool) -> None:
    engine = make_engine(url)
    before = dump_store(engine)
    capsys.readouterr()
    status = main(["--db", url, *argv])
    out, err = capsys.readouterr()
    assert status in STATUSES, (argv, status, err)
    assert "Traceback" not in err, (argv, err)
    if status != 0:
        # scancel -Q/--quiet prints no errors, as Slurm's (its exit status still tells).
        assert err.strip() or "-Q" in argv, (argv, "a failure says why")
        if not mutable:
            assert dump_store(engine) == before, (argv, "a refusal changed the store")
    engine.dispose()
    del out


def _argv(head: list[str], options: list[tuple[str, ...]]) -> Any:
    """Strategy: ``head`` + some of ``options`` (each a flag or a flag with a value)."""

    def build(picked: list[tuple[tuple[str, ...], str]], positional: list[str]) -> list[str]:
        argv = list(head)
        for option, value in picked:
            argv.append(option[0])
            if len(option) > 1:
                argv.append(value)
        return argv + positional

    return st.builds(
        build,
        st.lists(st.tuples(st.sampled_from(options), VALUES), max_size=4),
        st.lists(VALUES, max_size=2),
    )


SACCT = _argv(["sacct"], [
    ("-j", 1), ("-u", 1), ("-g", 1), ("-A", 1), ("-s", 1), ("-S", 1), ("-E", 1), ("-o", 1),
    ("-M", 1), ("-r", 1), ("-N", 1), ("-i", 1), ("-I", 1), ("-k", 1), ("-K", 1), ("--name", 1),
    ("-q", 1), ("-R", 1), ("-W", 1), ("-C", 1), ("-F", 1), ("--delimiter", 1),
    ("--whole-hetjob", 1), ("-X",), ("-P",), ("-p",), ("-n",), ("-D",), ("-a",), ("-l",),
    ("-b",), ("-T",), ("--array",), ("--json",), ("--csv",), ("-L",),
])  # type: ignore[list-item]  # fmt: skip
SJOBEXITMOD = _argv(["sjobexitmod"], [("-e", 1), ("-r", 1), ("-c", 1), ("-l",), ("--history",)])  # type: ignore[list-item]
SCANCEL = _argv(["scancel"], [
    ("-s", 1), ("-t", 1), ("-u", 1), ("-A", 1), ("-n", 1), ("-p", 1), ("-q", 1), ("-w", 1),
    ("-M", 1), ("-R", 1), ("--wckey", 1), ("--reason", 1), ("--admin-comment", 1), ("-b",),
    ("-f",), ("-Q",), ("-v",), ("--me",), ("--ctld",),
])  # type: ignore[list-item]  # fmt: skip
REPORT = st.builds(
    lambda kind, rest: ["report", kind, *rest],
    st.sampled_from(["failures", "cancellations", "utilization", "top-users", "account-by-user"]),
    _argv([], [("-S", 1), ("-E", 1), ("-M", 1), ("-A", 1), ("-u", 1), ("-r", 1), ("-t", 1),
               ("--top", 1), ("--format", 1)]),  # type: ignore[list-item]
)  # fmt: skip
MODIFY_JOB = st.builds(
    lambda where, sets, immediate: ["modify-job", *(["-i"] if immediate else []), "where",
                                    *where, "set", *sets],
    st.lists(st.builds(lambda k, v: f"{k}={v}", st.sampled_from(
        ["JobID", "Cluster", "Users", "Accounts", "StartTime", "EndTime", "Bogus"]), VALUES),
        max_size=3),
    st.lists(st.builds(lambda k, v: f"{k}={v}", st.sampled_from(
        ["DerivedExitCode", "Comment", "AdminComment", "SystemComment", "State"]), VALUES),
        max_size=2),
    st.booleans(),
)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "strategy", "mutable"),
    [
        ("sacct", SACCT, False),
        ("sjobexitmod", SJOBEXITMOD, False),
        ("modify-job", MODIFY_JOB, False),
        ("scancel", SCANCEL, True),
        ("report", REPORT, False),
    ],
)
def test_fuzz_command_lines(
    store: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    strategy: Any,
    mutable: bool,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(Path(store.removeprefix("sqlite:///")).parent))
    monkeypatch.setenv("JOBACCT_CONFIG", "/dev/null")  # no site config file
    start = _maxrss_mib()

    @SETTINGS
    @given(strategy)
    def run(argv: list[str]) -> None:
        COUNTED[name] = COUNTED.get(name, 0) + 1
        _check(store, argv, capsys, mutable)

    run()
    assert _maxrss_mib() - start < RSS_BUDGET_MIB


# ---------------------------------------------------------------- events

_KEYS = [
    "schema",
    "type",
    "cluster",
    "job_id_raw",
    "submit",
    "seq",
    "uid",
    "time",
    "state",
    "exit",
    "exit_code",
    "step",
    "nodelist",
    "nnodes",
    "ncpus",
    "signal",
    "api",
    "comment",
    "job_name",
    "reason",
    "kill_requid",
    "derived_exit_code",
    "max_rss",
    "req_mem",
]
_JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.sampled_from(HOSTILE),
    st.sampled_from(["job_submit", "job_start", "job_end", "step_start", "step_end", "signal",
                     "checkpoint", "FAILED", "REQUEUED", "batch", "slurm_kill_job"]),
    st.lists(st.integers(), max_size=2),
)  # fmt: skip
_BASE = {"schema": 1, "cluster": "golden", "job_id_raw": 37, "submit": 1795347347, "seq": 10**6}
EVENTS = st.one_of(
    st.dictionaries(st.sampled_from(_KEYS), _JSON_VALUES, max_size=8).map(
        lambda d: json.dumps({**_BASE, **d}, default=str)
    ),
    st.text(max_size=40),
    st.integers(1, 5000).map(lambda n: "[" * n + "]" * n),
)


def test_fuzz_events(store: str) -> None:
    engine = make_engine(store)
    start = _maxrss_mib()

    @SETTINGS
    @given(st.lists(EVENTS, min_size=1, max_size=3))
    def run(lines: list[str]) -> None:
        COUNTED["events"] = COUNTED.get("events", 0) + 1
        before = dump_store(engine)
        try:
            apply(engine, lines)
        except ShimEventError as exc:
            assert "\n" not in str(exc)
            assert dump_store(engine) == before, "a refused batch changed the store"

    run()
    engine.dispose()
    assert _maxrss_mib() - start < RSS_BUDGET_MIB


def pytest_terminal_summary_line() -> str:
    """The line conftest prints after the run: how many fuzz examples ran."""
    total = sum(COUNTED.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(COUNTED.items()))
    return f"fuzz: {total} examples ({parts})" if total else ""


# ---------------------------------------------------------------- import files

_SACCT_FIELDS = ["JobID", "JobIDRaw", "JobName", "State", "ExitCode", "DerivedExitCode",
                 "Submit", "Start", "End", "UID", "User", "Cluster", "NodeList", "Elapsed",
                 "MaxRSS", "TotalCPU", "Comment", "Bogus", "\ufeffJobID"]  # fmt: skip
_CELLS = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(["5", "5.batch", "5_1", "5+0", "COMPLETED", "CANCELLED by 0", "0:0",
                     "2026-11-22T10:00:00", "1001", "alice", "tux", "vm[1-3]", "00:01:00",
                     "2.60M", "NULL", "\\N", "0", "18446744073709551615"]),
    st.text(max_size=12),
)  # fmt: skip
SACCT_FILES = st.builds(
    lambda header, rows: "\n".join(
        ["|".join(header), *("|".join(r[: len(header)]) for r in rows)]
    ) + "\n",
    st.lists(st.sampled_from(_SACCT_FIELDS), min_size=1, max_size=8),
    st.lists(st.lists(_CELLS, min_size=1, max_size=8), max_size=4),
)  # fmt: skip


def _dump_lines(name: str) -> list[str]:
    from tests.conftest import GOLDEN

    return (GOLDEN / "db" / name).read_text().split("\n")


_JOB_LINES = _dump_lines("golden_job_table.tsv")
_STEP_LINES = _dump_lines("golden_step_table.tsv")


def _mutated(lines: list[str], edits: list[tuple[int, int, str]]) -> str:
    header = lines[0]
    rows = [line.split("\t") for line in lines[1:4] if line]
    for row_index, column, value in edits:
        row = rows[row_index % len(rows)]
        row[column % len(row)] = value.replace("\t", " ").replace("\n", " ")
    return "\n".join([header, *("\t".join(r) for r in rows)]) + "\n"


DUMPS = st.tuples(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 60), _CELLS), max_size=4),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 60), _CELLS), max_size=3),
)


def test_fuzz_import_files(store: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    start = _maxrss_mib()
    users = tmp_path / "users"
    users.write_text("root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n")

    @SETTINGS
    @given(SACCT_FILES, DUMPS)
    def run(sacct_text: str, dumps: tuple[list[Any], list[Any]]) -> None:
        COUNTED["imports"] = COUNTED.get("imports", 0) + 1
        source = tmp_path / "sacct.txt"
        source.write_text(sacct_text, errors="surrogateescape")
        _check(store, ["import", "sacct", "--cluster", "tux", str(source)], capsys, False)
        jobs, steps = tmp_path / "jobs.tsv", tmp_path / "steps.tsv"
        jobs.write_text(_mutated(_JOB_LINES, dumps[0]), errors="surrogateescape")
        steps.write_text(_mutated(_STEP_LINES, dumps[1]), errors="surrogateescape")
        argv = ["import", "slurmdbd", "--cluster", "golden", "--job-table", str(jobs),
                "--step-table", str(steps), "--user-map", str(users)]  # fmt: skip
        _check(store, argv, capsys, False)

    run()
    assert _maxrss_mib() - start < RSS_BUDGET_MIB
