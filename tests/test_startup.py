"""Start-up cost of the ``jobacct`` command (tracker issue 3): what a command may import.

A command loads only its own module (jobacct.cli.LazyGroup) and checks the schema without
Alembic (jobacct.migrate.HEAD), so ``jobacct sacct -j ID`` stays quick.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from jobacct import migrate
from jobacct.cli import COMMANDS, GROUPS, ORDER, SUMMARIES, load_command, main
from jobacct.config import make_engine
from jobacct.errors import SchemaOutdatedError

PROBE = """
import json, sys
from jobacct.cli import main
status = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps([status, sorted(sys.modules)]), file=sys.stderr)
"""


#: The console script's way in (jobacct.client.entry): the daemon decision, then sacct's
#: Typer-free path (jobacct.sacct_fastpath), then Typer.
ENTRY_PROBE = """
import json, sys
from jobacct.client import entry
status = 0
try:
    entry()
except SystemExit as exc:
    status = exc.code
sys.stdout.flush()
print(json.dumps([status, sorted(sys.modules)]), file=sys.stderr)
"""


def _modules_after(
    *args: str, probe: str = PROBE, env: dict[str, str] | None = None
) -> tuple[int, set[str]]:
    """Run ``jobacct ARGS`` in a fresh interpreter: its exit status and loaded modules."""
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin", "JOBACCT_CONFIG": "/dev/null", **(env or {})},
    )
    status, modules = json.loads(done.stderr.strip().splitlines()[-1])
    return status, set(modules)


def test_head_constant_is_alembic_head() -> None:
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head == migrate.HEAD, (
        f"jobacct.migrate.HEAD is {migrate.HEAD!r} but the newest migration is {head!r}: "
        "update HEAD in jobacct/migrate.py"
    )
    assert migrate.head_revision() == head


def test_sacct_loads_neither_alembic_nor_other_commands(sqlite_url: str) -> None:
    status, modules = _modules_after("--db", sqlite_url, "sacct", "-j", "1")
    assert status == 0
    assert "jobacct.cli.sacct" in modules
    assert not {m for m in modules if m == "alembic" or m.startswith("alembic.")}
    for other in ("admin", "importcmd", "modifyjob", "sjobexitmod", "db"):
        assert f"jobacct.cli.{other}" not in modules
    # Typer's coercion of the root options (completion flags included) would import
    # Pydantic: 50 ms of every sacct -j (issue 16's case (d)).
    assert "pydantic" not in modules


def test_sacct_fast_path_loads_no_typer(sqlite_url: str) -> None:
    # The common sacct command lines skip Typer and Click (35 ms, issue 16's case (d)), and
    # the SQLite read needs neither SQLAlchemy nor the server drivers.
    status, modules = _modules_after("--db", sqlite_url, "sacct", "-XPj", "1", probe=ENTRY_PROBE)
    assert status == 0
    assert "jobacct.sacct_fastpath" in modules
    heavy = {"typer", "click", "pydantic", "sqlalchemy", "alembic", "rich", "psycopg", "pymysql"}
    assert not {m for m in modules if m.split(".")[0] in heavy}
    assert not {m for m in modules if m == "jobacct.cli" or m.startswith("jobacct.cli.")}
    assert "jobacct.serverread" not in modules
    # Nor what the modules on that path avoid at run time (about 15 ms: README, layout).
    assert not {"typing", "dataclasses", "inspect", "pathlib"} & modules
    # JOBACCT_SACCT_FASTPATH=0: the Typer path, as before.
    status, modules = _modules_after(
        "--db", sqlite_url, "sacct", "-j", "1", probe=ENTRY_PROBE,
        env={"JOBACCT_SACCT_FASTPATH": "0"},
    )  # fmt: skip
    assert status == 0
    assert "typer" in modules and "jobacct.cli.sacct" in modules


@pytest.mark.parametrize("backend_url", ["postgresql", "mariadb"], indirect=True)
def test_sacct_on_a_server_loads_its_driver_alone(store_url: str) -> None:
    # A server store is read with the driver alone (jobacct.serverread): on PostgreSQL
    # psycopg2, which imports in a third of psycopg 3's time (issue 16's cases (d), (e)).
    status, modules = _modules_after("--db", store_url, "sacct", "-XPj", "1", probe=ENTRY_PROBE)
    assert status == 0
    assert "jobacct.serverread" in modules
    heavy = {"typer", "click", "pydantic", "sqlalchemy", "alembic", "rich"}
    assert not {m for m in modules if m.split(".")[0] in heavy}
    drivers = {m.split(".")[0] for m in modules} & {"psycopg", "psycopg2", "MySQLdb", "pymysql"}
    assert len(drivers) == 1
    if store_url.startswith("postgresql"):
        assert drivers == {"psycopg2"}


def test_helpformat_loads_no_alembic() -> None:
    status, modules = _modules_after("sacct", "-e")
    assert status == 0
    assert "alembic" not in modules


def test_help_lists_every_command_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert set(ORDER) == set(COMMANDS) | set(GROUPS)
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    out = out[out.index("Commands") :]
    positions = [out.index(f" {name} ") for name in ORDER]
    assert positions == sorted(positions)


def test_help_lists_summaries_without_loading_commands() -> None:
    # What the listing shows of each command is what its module says (its first paragraph).
    assert set(SUMMARIES) == set(ORDER)
    for name in ORDER:
        command = load_command(name)
        assert (command.help or "").split("\n\n")[0] == SUMMARIES[name], name
        assert not command.hidden and not command.deprecated
        # plain help's short text is the whole first paragraph: the summary itself
        assert command.short_help in (None, SUMMARIES[name]), name
    status, modules = _modules_after("--help")
    assert status == 0
    # No command module: only the context and the plain help formatter (issue 15).
    loaded = {m for m in modules if m.startswith("jobacct.cli.")} - {
        "jobacct.cli.context",
        "jobacct.cli.helpfmt",
    }
    assert not loaded
    assert not {"jobacct.store", "sqlalchemy"} & modules


def test_unknown_command_suggests_without_loading(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sacc"]) == 2
    assert "Did you mean 'sacct'?" in capsys.readouterr().err


def test_group_commands_run(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", sqlite_url, "db", "current"]) == 0
    assert capsys.readouterr().out == f"{migrate.HEAD} (head)\n"


def test_schema_check_messages(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///" + str(tmp_path / "v.sqlite"), create=True)
    try:
        with pytest.raises(SchemaOutdatedError, match="jobacct db init"):
            migrate.check_at_head(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        assert migrate.current_revision(engine) is None
        with pytest.raises(SchemaOutdatedError, match="jobacct db init"):
            migrate.check_at_head(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0001')")
        with pytest.raises(SchemaOutdatedError, match=f"behind head {migrate.HEAD}"):
            migrate.check_at_head(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
        with pytest.raises(SchemaOutdatedError, match="newer than this jobacct"):
            migrate.check_at_head(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{migrate.HEAD}'")
        migrate.check_at_head(engine)
        assert migrate.current_revision(engine) == migrate.HEAD
    finally:
        engine.dispose()


def test_plain_text_coercion_matches_typer() -> None:
    from typer._click.core import Context
    from typer._coercion import build_runtime_param

    checked = 0
    for name in ORDER:
        command = load_command(name)
        commands = getattr(command, "commands", {name: command})
        for sub in commands.values():
            ctx = Context(sub)
            for param in [*sub.params, sub.get_help_option(ctx)]:
                fast = getattr(param, "_runtime_param", None)
                if fast is None or type(fast).__name__ != "PlainText":
                    continue
                real = build_runtime_param(param.type_descriptor)
                multi = param.multiple or param.nargs == -1
                samples: list[object] = [None]
                if param.type_descriptor.annotation is bool:
                    samples += [True, False, "yes", "0"]
                elif multi:
                    samples += [(), ("a", "b,c"), ["x"]]
                else:
                    samples += ["", "12", "now-1days", " spaced "]
                for value in samples:
                    assert fast.coerce(value, param=param, ctx=ctx) == real.coerce(
                        value, param=param, ctx=ctx
                    ), (name, param.name, value)
                checked += 1
    assert checked > 40
