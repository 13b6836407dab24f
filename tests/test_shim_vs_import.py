"""The same records through the shim and through ``import slurmdbd`` print the same (issue 11).

Every golden slurmdbd row (what a real Slurm 22.05.8 stored for 44 jobs) is turned into the
controller events that wrote it (:mod:`tests.shim_from_rows`) and fed to the shim; the rows are
also imported as they are. ``jobacct sacct`` must then print the same line for every job and
step, for every field the events carry. Each difference is a rule the shim folds differently
from slurmdbd.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from jobacct import migrate
from jobacct import sacct_command as sacct_cmd
from jobacct.cli import main
from jobacct.config import make_engine
from jobacct.shim.apply import apply
from jobacct.slurmdbd_import import import_slurmdbd, read_mysql_tsv
from tests.conftest import GOLDEN
from tests.shim_from_rows import events_from_rows

USERS = {0: "root", 1001: "alice"}
#: The fields the controller's events carry (the usage statistics and TRES do not).
FIELDS = (
    "JobID,JobIDRaw,JobName,User,UID,Account,Partition,State,ExitCode,DerivedExitCode,"
    "Comment,Submit,Eligible,Start,End,Elapsed,ElapsedRaw,Timelimit,NNodes,NCPUS,NodeList,"
    "NTasks,Reason,TotalCPU,UserCPU,SystemCPU,WorkDir"
)
NOW = 1795350000  # 2026-11-22T12:20:00, after every golden record


def _store(tmp_path: Path, name: str) -> str:
    url = "sqlite:///" + str(tmp_path / name)
    engine = make_engine(url, create=True)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _rows() -> tuple[list[dict[str, str | None]], list[dict[str, str | None]]]:
    return (
        read_mysql_tsv(GOLDEN / "db" / "golden_job_table.tsv"),
        read_mysql_tsv(GOLDEN / "db" / "golden_step_table.tsv"),
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    tmp = tmp_path_factory.mktemp("shim-vs-import")
    jobs, steps = _rows()
    imported = _store(tmp, "imported.sqlite")
    engine = make_engine(imported)
    with Session(engine) as session, session.begin():
        import_slurmdbd(session, jobs, steps, "golden", USERS, {})
    engine.dispose()
    shimmed = _store(tmp, "shim.sqlite")
    engine = make_engine(shimmed)
    apply(engine, events_from_rows(jobs, steps, "golden", USERS))
    engine.dispose()
    return imported, shimmed


def _sacct(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
           *args: str) -> list[str]:  # fmt: skip
    monkeypatch.setattr(sacct_cmd, "_now", lambda: NOW)
    capsys.readouterr()
    status = main(["--db", url, "sacct", *args])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out.splitlines()


@pytest.mark.parametrize(
    "options",
    [("-P",), ("-X", "-P"), ("-D", "-P"), ("-P", "--array")],
    ids=["steps", "allocations", "duplicates", "array"],
)
def test_shim_prints_what_import_prints(
    stores: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: tuple[str, ...],
) -> None:
    imported, shimmed = stores
    args = ("-a", "-S", "2026-11-22", "-E", "2026-11-23", "-o", FIELDS, *options)
    expected = _sacct(imported, monkeypatch, capsys, *args)
    got = _sacct(shimmed, monkeypatch, capsys, *args)
    assert len(expected) > 40
    header = expected[0].split("|")
    diffs = []
    for want, have in zip(expected, got):
        if want != have:
            cells = [
                f"{name}: {a!r} != {b!r}"
                for name, a, b in zip(header, want.split("|"), have.split("|"))
                if a != b
            ]
            diffs.append(f"{want.split('|')[0]}: " + "; ".join(cells))
    assert not diffs, "\n".join(diffs)
    assert len(got) == len(expected)
