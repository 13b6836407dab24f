"""The bulk import path stores exactly what the row-by-row path stores, on every backend;
a killed import completes exactly once when run again; bad rows stop or are skipped.

The row-by-row path (``import_slurmdbd`` on an ORM session, the importer before tracker
issue 12) is the reference: both import the same dumps (the golden cluster's and synthetic
ones from ``bench/slurmdbd_dumps.py`` with every kind of record), then a second, changed
version of them on top of a user's annotations, and every column of every job and step row
must be equal.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from jobacct import migrate
from jobacct.cli import importcmd, main
from jobacct.config import make_engine
from jobacct.errors import ImportFormatError
from jobacct.importer import import_sacct
from jobacct.model import Job, Step
from jobacct.sacct_stream import import_sacct_stream
from jobacct.slurmdbd_import import import_slurmdbd, read_mysql_tsv
from jobacct.slurmdbd_stream import TsvReader, import_slurmdbd_stream
from tests.conftest import GOLDEN

ROOT = Path(__file__).resolve().parent.parent
JOB_TABLE = GOLDEN / "db" / "golden_job_table.tsv"
STEP_TABLE = GOLDEN / "db" / "golden_step_table.tsv"
USERS = {0: "root", 1001: "alice", **{1000 + n: f"user{n:03d}" for n in range(200)}}


def _dumps_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "slurmdbd_dumps", ROOT / "bench" / "slurmdbd_dumps.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def store_rows(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every column of every job and step, the surrogate ids replaced by the job's key."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            jobs = [dict(r._mapping) for r in conn.execute(select(Job.__table__))]
            steps = [dict(r._mapping) for r in conn.execute(select(Step.__table__))]
    finally:
        engine.dispose()
    key_of = {j["id"]: (j["cluster"], j["job_id_raw"], j["time_submit"]) for j in jobs}
    job_rows = sorted((tuple((c, j[c]) for c in sorted(j) if c != "id") for j in jobs), key=repr)
    step_rows = sorted(
        (
            (key_of[s["job_pk"]], tuple((c, s[c]) for c in sorted(s) if c not in ("id", "job_pk")))
            for s in steps
        ),
        key=repr,
    )
    return job_rows, step_rows  # type: ignore[return-value]


def first_difference(a: Any, b: Any) -> Any:
    """None when the two :func:`store_rows` results are equal, else the first rows that differ
    (pytest's own diff of thousands of rows takes minutes)."""
    for rows_a, rows_b in zip(a, b, strict=True):
        if len(rows_a) != len(rows_b):
            return ("row counts", len(rows_a), len(rows_b))
        for row_a, row_b in zip(rows_a, rows_b, strict=True):
            if row_a != row_b:
                return row_a, row_b
    return None


def _fresh_sqlite(path: Path) -> str:
    url = "sqlite:///" + str(path)
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _row_by_row(url: str, jobs: Path, steps: Path) -> Any:
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return import_slurmdbd(
                session, read_mysql_tsv(jobs), read_mysql_tsv(steps), "tux", USERS, USERS
            )
    finally:
        engine.dispose()


def _bulk(url: str, jobs: Path, steps: Path, chunk_rows: int = 97, workers: int = 1) -> Any:
    engine = make_engine(url)
    try:
        return import_slurmdbd_stream(
            engine,
            TsvReader(jobs),
            TsvReader(steps),
            "tux",
            USERS,
            USERS,
            chunk_rows=chunk_rows,
            workers=workers,
        )
    finally:
        engine.dispose()


def _annotate(url: str) -> None:
    """What sjobexitmod does to two jobs: a DerivedExitCode and a Comment."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for job_id in (3, 100_010):
            conn.execute(
                update(Job)
                .where(Job.job_id_raw == job_id)
                .values(
                    derived_exit_code=49,
                    derived_exit_signal=0,
                    derived_annotated=True,
                    comment="out of memory",
                )
            )
    engine.dispose()


def _changed_copy(src_jobs: Path, src_steps: Path, out: Path) -> tuple[Path, Path]:
    """A later dump of the same cluster: jobs ended, exit codes and comments changed, a step
    dropped from the dump and new steps and jobs added."""
    out.mkdir(parents=True, exist_ok=True)
    job_lines = src_jobs.read_text(encoding="utf-8").split("\n")
    header = job_lines[0].split("\t")
    col = {name: i for i, name in enumerate(header)}
    changed = [job_lines[0]]
    for number, line in enumerate(job_lines[1:], start=2):
        if not line:
            continue
        cells = line.split("\t")
        if number % 7 == 0:
            cells[col["exit_code"]] = str(256 * (number % 5))
            cells[col["state"]] = "5"
        if number % 11 == 0:
            cells[col["derived_es"]] = f"note {number}"
            cells[col["derived_ec"]] = "0"
        changed.append("\t".join(cells))
    jobs = out / "jobs.tsv"
    jobs.write_text("\n".join(changed) + "\n", encoding="utf-8")
    step_lines = src_steps.read_text(encoding="utf-8").split("\n")
    sheader = step_lines[0].split("\t")
    scol = {name: i for i, name in enumerate(sheader)}
    kept = [step_lines[0]]
    for number, line in enumerate(step_lines[1:], start=2):
        if not line or number % 13 == 0:
            continue  # left out of the later dump: the stored step stays
        cells = line.split("\t")
        if number % 5 == 0:
            cells[scol["exit_code"]] = str(number % 3 * 256 + (9 if number % 2 else 0))
        kept.append("\t".join(cells))
        if number % 17 == 0 and cells[scol["id_step"]] == "0":
            extra = list(cells)
            extra[scol["id_step"]] = "7"
            extra[scol["exit_code"]] = "253"  # OOM
            kept.append("\t".join(extra))
    steps = out / "steps.tsv"
    steps.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return jobs, steps


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """The golden dumps and synthetic ones (400 jobs), each with a later, changed version."""
    base = tmp_path_factory.mktemp("dumps")
    synthetic_jobs, synthetic_steps, _ = _dumps_module().write_dumps(base / "synthetic", 400, 7)
    found = {
        "golden": (JOB_TABLE, STEP_TABLE),
        "synthetic": (synthetic_jobs, synthetic_steps),
    }
    for name, (jobs, steps) in list(found.items()):
        found[name + "-later"] = _changed_copy(jobs, steps, base / (name + "-later"))
    return found


@pytest.mark.parametrize("workers", [1, 3], ids=["1-process", "3-workers"])
@pytest.mark.parametrize("data", ["golden", "synthetic"])
def test_bulk_stores_what_row_by_row_stores(
    data: str, workers: int, dumps: dict[str, tuple[Path, Path]], store_url: str, tmp_path: Path
) -> None:
    reference = _fresh_sqlite(tmp_path / "reference.sqlite")
    first_ref = _row_by_row(reference, *dumps[data])
    first = _bulk(store_url, *dumps[data], workers=workers)
    assert (first.jobs_seen, first.steps_seen, first.jobs_changed, first.steps_changed) == (
        first_ref.jobs_seen,
        first_ref.steps_seen,
        first_ref.jobs_changed,
        first_ref.steps_changed,
    )
    assert first_difference(store_rows(store_url), store_rows(reference)) is None
    # A user's annotations, then a later dump with changed records on top of them.
    _annotate(reference)
    _annotate(store_url)
    later_ref = _row_by_row(reference, *dumps[data + "-later"])
    later = _bulk(store_url, *dumps[data + "-later"], workers=workers)
    assert (later.jobs_seen, later.steps_seen, later.jobs_changed, later.steps_changed) == (
        later_ref.jobs_seen,
        later_ref.steps_seen,
        later_ref.jobs_changed,
        later_ref.steps_changed,
    )
    assert later.jobs_changed > 0 and later.steps_changed > 0
    assert first_difference(store_rows(store_url), store_rows(reference)) is None
    # Idempotent: the same dump again changes nothing.
    again = _bulk(store_url, *dumps[data + "-later"], chunk_rows=100_000)
    assert (again.jobs_changed, again.steps_changed) == (0, 0)
    assert first_difference(store_rows(store_url), store_rows(reference)) is None


def _count(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(text("SELECT COUNT(*) FROM job")).scalar_one(),
                conn.execute(text("SELECT COUNT(*) FROM step")).scalar_one(),
            )
    except Exception:
        return (-1, -1)
    finally:
        engine.dispose()


def test_killed_import_completes_exactly_once_when_run_again(
    store_url: str, tmp_path: Path
) -> None:
    jobs, steps, n_steps = _dumps_module().write_dumps(tmp_path / "big", 6000, 3)
    reference = _fresh_sqlite(tmp_path / "reference.sqlite")
    engine = make_engine(reference)
    # The command names users from --user-map and groups from this host.
    import_slurmdbd_stream(
        engine, TsvReader(jobs), TsvReader(steps), "tux", USERS, importcmd._group_names()
    )
    engine.dispose()
    user_map = tmp_path / "users"
    user_map.write_text("".join(f"{uid} {name}\n" for uid, name in USERS.items()))
    argv = [
        sys.executable,
        "-m",
        "jobacct",
        "--db",
        store_url,
        "import",
        "slurmdbd",
        "--job-table",
        str(jobs),
        "--step-table",
        str(steps),
        "--cluster",
        "tux",
        "--chunk-rows",
        "400",
        "--user-map",
        str(user_map),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if _count(store_url)[0] > 0:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partial = _count(store_url)
    assert 0 < partial[0] < 6000, partial  # killed half-way, some chunks committed
    rerun = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout == ""
    assert f": 6000 job and {n_steps} step rows," in rerun.stderr
    assert _count(store_url) == (6000, n_steps)
    assert first_difference(store_rows(store_url), store_rows(reference)) is None


def _with_bad_rows(src: Path, out: Path, bad: dict[int, tuple[str, str]]) -> Path:
    lines = src.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    for line_no, (column, value) in bad.items():
        cells = lines[line_no - 1].split("\t")
        cells[header.index(column)] = value
        lines[line_no - 1] = "\t".join(cells)
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def test_bad_row_stops_with_nothing_of_its_chunk_written(sqlite_url: str, tmp_path: Path) -> None:
    jobs = _with_bad_rows(JOB_TABLE, tmp_path / "jobs.tsv", {30: ("state", "99")})
    engine = make_engine(sqlite_url)
    with pytest.raises(ImportFormatError) as caught:
        import_slurmdbd_stream(
            engine,
            TsvReader(jobs),
            TsvReader(STEP_TABLE),
            "golden",
            USERS,
            USERS,
            job_source="jobs.tsv",
            step_source="steps.tsv",
            chunk_rows=20,
        )
    message = str(caught.value)
    assert "jobs.tsv:30: unknown state 99" in message
    assert "1 unreadable rows; nothing of the chunk holding them was imported" in message
    # The chunks before the bad row's are committed: whole jobs with their steps.
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT MAX(db_index), COUNT(*) FROM job")).one()
    engine.dispose()
    assert 0 < stored[1] < 28


def test_skip_bad_leaves_out_and_reports(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = _with_bad_rows(
        JOB_TABLE, tmp_path / "jobs.tsv", {5: ("state", "99"), 9: ("exit_code", "abc")}
    )
    argv = ["--db", sqlite_url, "import", "slurmdbd", "--job-table", str(jobs)]
    argv += ["--step-table", str(STEP_TABLE), "--cluster", "golden", "--skip-bad"]
    capsys.readouterr()
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert f"jobacct: skipped: {jobs}:5: unknown state 99\n" in err
    assert f"jobacct: skipped: {jobs}:9: exit_code 'abc' is not a whole integer\n" in err
    assert (
        # The 5 steps of the two left-out jobs go with them (not reported again).
        ": 42 job and 45 step rows, 42 jobs and 45 steps new or changed, 2 bad rows skipped ("
        in err
    )
    assert "Traceback" not in err


def test_cli_bad_row_is_one_error_line(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = _with_bad_rows(STEP_TABLE, tmp_path / "steps.tsv", {4: ("id_step", "x")})
    argv = ["--db", sqlite_url, "import", "slurmdbd", "--job-table", str(JOB_TABLE)]
    argv += ["--step-table", str(steps), "--cluster", "golden"]
    capsys.readouterr()
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("jobacct: error: ")
    assert f"{steps}:4: id_step 'x' is not an integer" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- import sacct


def _sacct_row_by_row(url: str, lines: list[str]) -> Any:
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return import_sacct(session, lines, "golden")
    finally:
        engine.dispose()


def _sacct_bulk(url: str, lines: list[str], chunk_rows: int) -> Any:
    engine = make_engine(url)
    try:
        return import_sacct_stream(engine, iter(lines), "golden", chunk_rows=chunk_rows)
    finally:
        engine.dispose()


def _counts(result: Any) -> tuple[int, int, int, int]:
    return (result.jobs_seen, result.steps_seen, result.jobs_changed, result.steps_changed)


@pytest.mark.parametrize("chunk_rows", [1, 7, 100_000])
def test_sacct_bulk_stores_what_row_by_row_stores(
    chunk_rows: int, store_url: str, tmp_path: Path, golden_all_lines: list[str]
) -> None:
    # First the slurmdbd tables (both stores), then sacct -P output on top: new records,
    # records that change, and steps whose job is already stored.
    reference = _fresh_sqlite(tmp_path / "reference.sqlite")
    for url in (reference, store_url):
        engine = make_engine(url)
        with Session(engine) as session, session.begin():
            import_slurmdbd(
                session,
                read_mysql_tsv(JOB_TABLE),
                read_mysql_tsv(STEP_TABLE),
                "golden",
                USERS,
                USERS,
            )
        engine.dispose()
    _annotate(reference)
    _annotate(store_url)
    steps_first = [
        golden_all_lines[0],
        *sorted(golden_all_lines[1:], key=lambda line: "." not in line.split("|", 1)[0]),
    ]
    # Two outputs joined (every record twice, the second time with other values), and a
    # step row printed twice in a row.
    changed = [line.replace("|COMPLETED|", "|FAILED|", 1) for line in golden_all_lines[1:]]
    doubled = [*golden_all_lines, *changed]
    step_at = next(i for i, line in enumerate(golden_all_lines) if ".batch|" in line)
    repeated_step = [*golden_all_lines[: step_at + 1], *golden_all_lines[step_at:]]
    for lines in (golden_all_lines, steps_first, doubled, repeated_step, golden_all_lines):
        expected = _sacct_row_by_row(reference, lines)
        got = _sacct_bulk(store_url, lines, chunk_rows)
        assert _counts(got) == _counts(expected)
        assert first_difference(store_rows(store_url), store_rows(reference)) is None


def test_sacct_stream_bad_row_and_skip_bad(sqlite_url: str, golden_all_lines: list[str]) -> None:
    lines = list(golden_all_lines)
    lines[40] += "|extra"
    engine = make_engine(sqlite_url)
    with pytest.raises(ImportFormatError, match=r"<stdin>:41: \d+ fields, the header has"):
        import_sacct_stream(engine, iter(lines), "golden", chunk_rows=10)
    with engine.connect() as conn:
        assert 0 < conn.execute(text("SELECT COUNT(*) FROM job")).scalar_one() < 39
    done = import_sacct_stream(engine, iter(lines), "golden", chunk_rows=10, skip_bad=True)
    engine.dispose()
    assert done.bad_rows == 1 and done.errors[0].startswith("<stdin>:41: ")
    assert done.jobs_seen + done.steps_seen == 88


# ---------------------------------------------------------------- worker processes


def _damaged(tmp_path: Path) -> tuple[Path, Path]:
    """The golden dumps with one bad row of each kind the merge can meet."""
    job_lines = JOB_TABLE.read_text(encoding="utf-8").split("\n")
    step_lines = STEP_TABLE.read_text(encoding="utf-8").split("\n")
    header = job_lines[0].split("\t")
    at = header.index("job_db_inx")
    job_lines[6] = job_lines[6].replace("\t", "\t\t", 1)  # a cell too many
    cells = job_lines[11].split("\t")
    cells[header.index("state")] = "99"  # unknown state: its steps go with it
    job_lines[11] = "\t".join(cells)
    job_lines[20], job_lines[21] = job_lines[21], job_lines[20]  # out of job_db_inx order
    cells = job_lines[30].split("\t")
    cells[at] = "x7"  # not an integer
    job_lines[30] = "\t".join(cells)
    last = [line for line in job_lines if line][-1].split("\t")
    cells = job_lines[3].split("\t")
    cells[at] = str(int(last[at]) + 1)  # the record of line 4 again, at the end
    job_lines.insert(len([line for line in job_lines if line]), "\t".join(cells))
    sheader = step_lines[0].split("\t")
    cells = step_lines[15].split("\t")
    cells[sheader.index("id_step")] = "x"  # unreadable step
    step_lines[15] = "\t".join(cells)
    step_lines.insert(25, step_lines[25])  # a step repeated
    cells = step_lines[40].split("\t")
    cells[sheader.index("job_db_inx")] = "?"  # a step without a job
    step_lines[40] = "\t".join(cells)
    jobs, steps = tmp_path / "jobs.tsv", tmp_path / "steps.tsv"
    jobs.write_text("\n".join(job_lines), encoding="utf-8")
    steps.write_text("\n".join(step_lines), encoding="utf-8")
    return jobs, steps


@pytest.mark.parametrize("chunk_rows", [7, 1000])
def test_workers_report_and_store_what_one_process_does(
    chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Converted in worker processes, bad rows get the same messages and the good ones are
    stored the same: the one-process merge is the reference."""
    from jobacct import parallel_import

    # chunk_rows=7: a slice is a chunk, cut where the one process cuts it (the counts depend
    # on where: a job met twice in one chunk is a bad row, in two an update). 1000: one
    # chunk gathered from slices of 5 rows; the job met twice is in two of them.
    monkeypatch.setattr(parallel_import, "SLICE_ROWS", 7 if chunk_rows == 7 else 5)
    jobs, steps = _damaged(tmp_path)
    outcomes = []
    for workers in (1, 3):
        url = _fresh_sqlite(tmp_path / f"w{workers}.sqlite")
        engine = make_engine(url)
        warned: list[str] = []
        common: dict[str, Any] = {
            "job_source": "jobs.tsv",
            "step_source": "steps.tsv",
            "chunk_rows": chunk_rows,
            "workers": workers,
        }
        with pytest.raises(ImportFormatError) as caught:
            import_slurmdbd_stream(
                engine, TsvReader(jobs), TsvReader(steps), "golden", USERS, USERS, **common
            )
        done = import_slurmdbd_stream(
            engine,
            TsvReader(jobs),
            TsvReader(steps),
            "golden",
            USERS,
            USERS,
            skip_bad=True,
            on_warning=warned.append,
            **common,
        )
        engine.dispose()
        outcomes.append((str(caught.value), done, warned, store_rows(url)))
    (stop1, done1, warned1, rows1), (stop3, done3, warned3, rows3) = outcomes
    # The first chunk with bad rows stops the import: the same summary and the same rows
    # listed (a gathered chunk lists each slice's in turn).
    assert stop1.splitlines()[0] == stop3.splitlines()[0]
    assert sorted(stop1.splitlines()) == sorted(stop3.splitlines())
    done1.errors.sort()
    done3.errors.sort()
    assert done3 == done1
    assert done1.bad_rows >= 7, done1.errors
    repeated = any("repeats line 4" in error for error in done1.errors)
    assert repeated == (chunk_rows == 1000), done1.errors
    assert warned3 == warned1
    assert first_difference(rows3, rows1) is None
    assert len(rows1[0]) > 30


def test_slices_cut_where_the_merge_would() -> None:
    from jobacct.parallel_import import _slices

    jobs = iter([(2, 1, "j1"), (3, 3, "j3"), (4, None, "jx"), (5, 4, "j4"), (6, 2, "j2")])
    steps = iter([(2, 1, "s1"), (3, None, "sx"), (4, 3, "s3"), (5, 4, "s4"), (6, 9, "s9")])
    got = [
        (start, [j[2] for j in js], [s[2] for s in ss]) for start, js, ss in _slices(jobs, steps, 3)
    ]
    assert got == [
        ((-1, -1), ["j1"], ["s1", "sx"]),  # 3 rows: cut after j1 (sx: unreadable, goes along)
        ((1, 1), ["j3", "jx"], ["s3"]),
        ((3, 3), ["j4", "j2"], ["s4"]),  # j2: out of order, its step went with j1
        ((4, 4), [], ["s9"]),  # steps past the last job: the merge reports them
    ]
