"""Annotation (issue 4): sjobexitmod and modify-job, who may, history, concurrency."""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct import caller, migrate
from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.importer import import_sacct
from jobacct.model import Annotation, Coordinator, Job, UserPrivilege

OWNER, OTHER, OPERATOR, ADMIN, COORD = 2001, 2002, 2003, 2004, 2005
HEADER = (
    "JobID|JobIDRaw|JobName|User|UID|Account|Partition|NNodes|NodeList|State|ExitCode|"
    "Submit|Start|End"
)
ROWS = [
    f"123|123|docs|owner|{OWNER}|physics|debug|1|tux1|COMPLETED|0:0|2026-11-20T10:00:00|"
    "2026-11-20T10:00:01|2026-11-20T10:05:00",
    "123.batch|123.batch|batch|||physics||1|tux1|COMPLETED|0:0|2026-11-20T10:00:01|"
    "2026-11-20T10:00:01|2026-11-20T10:05:00",
    f"124|124|other|owner|{OWNER}|physics|debug|1|tux2|FAILED|3:0|2026-11-20T11:00:00|"
    "2026-11-20T11:00:01|2026-11-20T11:05:00",
]


def seed(url: str, cluster: str = "tux", rows: list[str] = ROWS) -> None:
    """Jobs 123 and 124 of OWNER, plus the privilege table."""
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        import_sacct(s, [HEADER, *rows], cluster)
        if s.get(UserPrivilege, OPERATOR) is None:
            s.add_all(
                [
                    UserPrivilege(uid=OPERATOR, user_name="op", admin_level="Operator"),
                    UserPrivilege(uid=ADMIN, user_name="adm", admin_level="Administrator"),
                    Coordinator(uid=COORD, account="physics"),
                ]
            )
    engine.dispose()


def run(
    url: str,
    uid: int,
    *args: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[int, str, str]:
    monkeypatch.setattr(caller, "caller_uid", lambda: uid)
    status = main(["--db", url, *args])
    out, err = capsys.readouterr()
    return status, out, err


def job_row(url: str, job_id: int = 123, cluster: str = "tux") -> dict[str, object]:
    engine = make_engine(url)
    with Session(engine) as s:
        job = s.scalars(select(Job).where(Job.job_id_raw == job_id, Job.cluster == cluster)).one()
        row = {c.name: getattr(job, c.name) for c in Job.__table__.columns}
    engine.dispose()
    return row


def listing_line(derived: str, comment: str) -> str:
    """Job 123's line of ``sjobexitmod -l``, in sacct's default widths (§3)."""
    return (
        f"{'123':<12} {'physics':>10} {'1':>8} {'tux1':>15} {'COMPLETED':>10} {'0:0':>8} "
        f"{derived:>15} {comment:>14} "
    )


def test_slurm_docs_example(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # https://slurm.schedmd.com/job_exit_code.html, as jobacct prints it.
    seed(sqlite_url)
    status, out, _ = run(
        sqlite_url, 0, "sjobexitmod", "-l", "123", capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 0
    assert out.splitlines()[2] == listing_line("0:0", "")
    status, out, _ = run(
        sqlite_url,
        0,
        "sjobexitmod",
        "-e",
        "49",
        "-r",
        "out of memory",
        "123",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert (status, out) == (0, "\n Modification of job 123 was successful.\n\n")
    status, out, _ = run(
        sqlite_url, 0, "sjobexitmod", "-l", "123", capsys=capsys, monkeypatch=monkeypatch
    )
    assert out.splitlines()[2] == listing_line("49:0", "out of memory")
    status, out, _ = run(
        sqlite_url,
        0,
        "sacct",
        "-X",
        "-j",
        "123",
        "-o",
        "JobID,NNodes,State,ExitCode,DerivedExitcode,Comment",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert out == (
        "JobID          NNodes      State ExitCode DerivedExitCode        Comment \n"
        "------------ -------- ---------- -------- --------------- -------------- \n"
        "123                 1  COMPLETED      0:0            49:0  out of memory \n"
    )


#: (caller, field) -> allowed. slurm-semantics.md §2.3: owner and Operator+ may annotate;
#: AdminComment needs Operator+; coordinators get nothing extra.
MATRIX = {
    ("owner", "DerivedExitCode"): True,
    ("owner", "Comment"): True,
    ("owner", "AdminComment"): False,
    ("other", "DerivedExitCode"): False,
    ("other", "Comment"): False,
    ("other", "AdminComment"): False,
    ("root", "DerivedExitCode"): True,
    ("root", "Comment"): True,
    ("root", "AdminComment"): True,
    ("operator", "DerivedExitCode"): True,
    ("operator", "Comment"): True,
    ("operator", "AdminComment"): True,
    ("admin", "DerivedExitCode"): True,
    ("admin", "Comment"): True,
    ("admin", "AdminComment"): True,
    ("coordinator", "DerivedExitCode"): False,
    ("coordinator", "Comment"): False,
    ("coordinator", "AdminComment"): False,
}
UIDS = {
    "owner": OWNER,
    "other": OTHER,
    "root": 0,
    "operator": OPERATOR,
    "admin": ADMIN,
    "coordinator": COORD,
}
VALUES = {
    "DerivedExitCode": "DerivedExitCode=2:0",
    "Comment": "Comment=why",
    "AdminComment": "AdminComment=ticket 42",
}


@pytest.mark.parametrize(("who", "field"), sorted(MATRIX))
def test_permission_matrix(
    store_url: str,
    who: str,
    field: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(store_url)
    before = job_row(store_url)
    status, out, err = run(
        store_url,
        UIDS[who],
        "modify-job",
        "-i",
        "where",
        "JobID=123",
        "set",
        VALUES[field],
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    after = job_row(store_url)
    if MATRIX[(who, field)]:
        assert status == 0, err
        assert "1 of 1 jobs changed" in out
        assert after != before
    else:
        assert status == 1
        assert err.startswith("jobacct: error: ESLURM_ACCESS_DENIED: job 123")
        assert len(err.splitlines()) == 1
        assert after == before


def test_modify_job_changes_nothing_else(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_url)
    before = job_row(sqlite_url)
    status, _, err = run(
        sqlite_url,
        0,
        "modify-job",
        "-i",
        "JobID=123",
        "set",
        "DerivedExitCode=0:9",
        "Comment=c",
        "AdminComment=a",
        "SystemComment=s",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert status == 0, err
    after = job_row(sqlite_url)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {
        "derived_exit_signal",
        "derived_annotated",
        "comment",
        "admin_comment",
        "system_comment",
    }
    # The computed value stays queryable beside the user's.
    status, out, _ = run(
        sqlite_url,
        0,
        "sacct",
        "-X",
        "-j",
        "123",
        "-P",
        "-o",
        "DerivedExitCode,DerivedExitCodeComputed",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert out == "DerivedExitCode|DerivedExitCodeComputed\n0:9|0:0\n"


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (["JobID=123", "set", "ExitCode=5"], "only DerivedExitCode"),
        (["JobID=123", "set", "State=COMPLETED"], "only DerivedExitCode"),
        (["JobID=123", "set", "End=now"], "only DerivedExitCode"),
        (["JobID=123", "set", "DerivedExitCode=abc"], "abc"),
        (["JobID=123", "set", "DerivedExitCode=49:0:1"], "49:0:1"),
        (["JobID=123"], "nothing to set"),
        (["set", "Comment=x"], "no JobID"),
        (["JobID=abc", "set", "Comment=x"], "abc"),
        (["Partition=x", "set", "Comment=x"], "unknown condition"),
        (["JobID=123", "set", "Comment=a\x00b"], "U+0000"),
        (["JobID=123", "set", "Comment=" + "x" * 5000], "at most 4096"),
    ],
)
def test_modify_job_refuses_bad_input(
    sqlite_url: str,
    words: list[str],
    needle: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_url)
    before = job_row(sqlite_url)
    status, _, err = run(
        sqlite_url, 0, "modify-job", "-i", *words, capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 2 and needle in err and len(err.splitlines()) == 1
    assert job_row(sqlite_url) == before


def test_modify_job_asks_when_several_jobs_match(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_url)
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    status, out, _ = run(
        sqlite_url,
        0,
        "modify-job",
        "JobID=123,124",
        "set",
        "Comment=both",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert status == 0 and "Changes Discarded" in out
    assert job_row(sqlite_url)["comment"] is None
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    status, _, err = run(
        sqlite_url,
        0,
        "modify-job",
        "JobID=123,124",
        "set",
        "Comment=both",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert status == 1 and "pass -i" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    status, out, _ = run(
        sqlite_url,
        0,
        "modify-job",
        "JobID=123,124",
        "set",
        "Comment=both",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert status == 0 and "2 of 2 jobs changed" in out
    assert job_row(sqlite_url, 124)["comment"] == "both"


def test_sjobexitmod_fixes_slurms_bugs(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_url, "tux")
    seed(sqlite_url, "other")  # the same job ids on a second cluster
    # Bug 1: -e 0 was ignored; here it resets a failure to success.
    status, _, _ = run(
        sqlite_url,
        0,
        "sjobexitmod",
        "-c",
        "tux",
        "-e",
        "0",
        "124",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert status == 0
    # Bug 2: -c made every modification fail; here it selects the cluster.
    status, _, _ = run(
        sqlite_url,
        0,
        "sjobexitmod",
        "-c",
        "other",
        "-e",
        "7:0",
        "-r",
        "o",
        "124",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert status == 0
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        got = {
            j.cluster: (j.derived_exit_code, j.derived_annotated, j.comment)
            for j in s.scalars(select(Job).where(Job.job_id_raw == 124))
        }
    engine.dispose()
    assert got == {"tux": (0, True, None), "other": (7, True, "o")}
    # Bug 3: failures exited 0; here every failure is non-zero.
    assert (
        run(sqlite_url, 0, "sjobexitmod", "-e", "1", "999", capsys=capsys, monkeypatch=monkeypatch)[
            0
        ]
        == 1
    )
    assert (
        run(
            sqlite_url,
            OTHER,
            "sjobexitmod",
            "-e",
            "1",
            "123",
            capsys=capsys,
            monkeypatch=monkeypatch,
        )[0]
        == 1
    )
    # -e 300 wrapped to 44:0 in Slurm; here it is refused.
    assert (
        run(
            sqlite_url, 0, "sjobexitmod", "-e", "300", "123", capsys=capsys, monkeypatch=monkeypatch
        )[0]
        == 2
    )
    # A signal can be recorded.
    assert (
        run(
            sqlite_url,
            0,
            "sjobexitmod",
            "-c",
            "tux",
            "-e",
            "0:9",
            "123",
            capsys=capsys,
            monkeypatch=monkeypatch,
        )[0]
        == 0
    )
    assert job_row(sqlite_url)["derived_exit_signal"] == 9


def test_history(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(store_url)
    run(
        store_url,
        OWNER,
        "sjobexitmod",
        "-e",
        "49",
        "-r",
        "out of memory",
        "123",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    run(
        store_url,
        OPERATOR,
        "modify-job",
        "-i",
        "JobID=123",
        "set",
        "Comment=really: disk full",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    status, out, _ = run(
        store_url, OWNER, "sjobexitmod", "--history", "123", capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 0
    rows = [line.split("|") for line in out.splitlines()]
    assert rows[0] == ["Time", "JobID", "Field", "Old", "New", "UID", "Command"]
    assert [r[1:] for r in rows[1:]] == [
        ["123", "DerivedExitCode", "0:0", "49:0", str(OWNER), "sjobexitmod"],
        ["123", "Comment", "", "out of memory", str(OWNER), "sjobexitmod"],
        ["123", "Comment", "out of memory", "really: disk full", str(OPERATOR), "modify-job"],
    ]


@pytest.mark.parametrize(
    "text",
    [
        "out of memory",
        "Speicher voll – äöü ß",
        "内存不足",
        "🔥 OOM 🔥",
        "[red]x[/red]",
        "a|b,c\"d'e",
        "\\x1b[31m literally",
    ],
)
def test_comment_text_round_trips_literally(
    store_url: str,
    text: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(store_url)
    assert (
        run(store_url, 0, "sjobexitmod", "-r", text, "123", capsys=capsys, monkeypatch=monkeypatch)[
            0
        ]
        == 0
    )
    _status, out, _ = run(
        store_url,
        0,
        "sacct",
        "-X",
        "-j",
        "123",
        "-P",
        "-o",
        "Comment",
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert out == f"Comment\n{text}\n"


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m", "two\nlines", "\x9b"])
def test_control_characters_refused(
    sqlite_url: str,
    text: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_url)
    status, _, err = run(
        sqlite_url, 0, "sjobexitmod", "-r", text, "123", capsys=capsys, monkeypatch=monkeypatch
    )
    assert status == 2 and "control character" in err
    assert job_row(sqlite_url)["comment"] is None


def test_concurrent_annotations_all_land_in_order(store_url: str, tmp_path: Path) -> None:
    seed(store_url)
    env = {**os.environ, "TZ": "UTC", "JOBACCT_DATABASE_URL": store_url}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jobacct",
                "sjobexitmod",
                "-e",
                f"{n}:0",
                "-r",
                f"writer {n}",
                "123",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2, 3, 4)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    engine = make_engine(store_url)
    with Session(engine) as s:
        entries = list(s.scalars(select(Annotation).order_by(Annotation.id)))
        job = s.scalars(select(Job).where(Job.job_id_raw == 123)).one()
    engine.dispose()
    comments = [a for a in entries if a.field == "Comment"]
    assert len(comments) == 4
    # Each change saw the one before it: the history is a chain, and the record holds its end.
    assert comments[0].old_value is None
    for earlier, later in itertools.pairwise(comments):
        assert later.old_value == earlier.new_value
    assert job.comment == comments[-1].new_value


def _enterable(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def _python_for_other_uids() -> str | None:
    """An interpreter of this Python version that other uids may execute, if any.

    The test venv's interpreter often lives under /root (mode 700); the system's python3 of
    the same version can import the venv's packages through PYTHONPATH instead.
    """
    import shutil

    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3")):
        if not candidate:
            continue
        real = Path(os.path.realpath(candidate))
        if not real.exists() or not _enterable(real):
            continue
        version = subprocess.run(
            [str(real), "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if version == str(sys.version_info[:2]):
            return str(real)
    return None


OTHER_UID_PYTHON = _python_for_other_uids()


@functools.cache
def readable_pythonpath() -> str:
    """A PYTHONPATH with jobacct and the venv's packages that other uids may read.

    A checkout in a mode-700 directory (``mktemp -d``, /root) cannot be entered by the uids
    the real-uid tests run as; then the package, its migrations and the site-packages are
    mirrored with hard links (copies across file systems) into a world-readable directory.
    """
    import atexit
    import site

    project = Path(__file__).parent.parent
    sources = [project, *(Path(p) for p in site.getsitepackages())]
    if all(_enterable(p) for p in sources):
        return os.pathsep.join(str(p) for p in sources)
    root = Path(tempfile.mkdtemp(prefix="jobacct-pythonpath-"))
    root.chmod(0o755)
    atexit.register(shutil.rmtree, root, ignore_errors=True)

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    for name in ("jobacct", "migrations"):
        shutil.copytree(project / name, root / "project" / name, copy_function=link_or_copy)
    paths = [root / "project"]
    for number, packages in enumerate(sources[1:]):
        paths.append(root / f"site-packages-{number}")
        shutil.copytree(packages, paths[-1], copy_function=link_or_copy, symlinks=True)
    for directory in [root, *root.rglob("*")]:
        if directory.is_dir() and not directory.is_symlink():
            directory.chmod(directory.stat().st_mode | 0o755)
    return os.pathsep.join(str(p) for p in paths)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run commands as other uids")
@pytest.mark.skipif(
    OTHER_UID_PYTHON is None,
    reason="no Python of this version that other uids can execute; the permission matrix"
    " is covered through jobacct.caller instead",
)
def test_real_uids_owner_may_other_may_not(tmp_path: Path) -> None:
    """The caller is the real OS user: run the command as other uids (root sets them)."""
    shared = Path(tempfile.mkdtemp(prefix="jobacct-uid-"))
    shared.chmod(0o777)
    path = shared / "store.sqlite"
    url = "sqlite:///" + str(path)
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    engine.dispose()
    seed(url)
    path.chmod(0o666)

    assert OTHER_UID_PYTHON is not None
    pythonpath = readable_pythonpath()

    def as_uid(uid: int, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [OTHER_UID_PYTHON, "-m", "jobacct", "--db", str(path), *args],
            user=uid,
            group=uid,
            capture_output=True,
            text=True,
            timeout=120,
            env={
                "TZ": "UTC",
                "PATH": "/usr/bin:/bin",
                "HOME": str(shared),
                "PYTHONPATH": pythonpath,
            },
            cwd=str(shared),
        )

    denied = as_uid(OTHER, "sjobexitmod", "-e", "1", "123")
    assert denied.returncode == 1 and "ESLURM_ACCESS_DENIED" in denied.stderr
    allowed = as_uid(OWNER, "sjobexitmod", "-e", "1", "-r", "mine", "123")
    assert allowed.returncode == 0, allowed.stderr
    assert job_row(url)["comment"] == "mine"
    admin = as_uid(OWNER, "admin", "set-level", str(OWNER), "Administrator")
    assert admin.returncode == 1 and "ESLURM_ACCESS_DENIED" in admin.stderr
