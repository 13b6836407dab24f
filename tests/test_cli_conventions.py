"""The conventions of a command-line tool: help in pipes, completion, man pages, bare
groups, root options after the command (tracker issue 15)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
ENV.update({"TZ": "UTC", "NO_COLOR": "1", "JOBACCT_CONFIG": "/dev/null"})
ENV.pop("JOBACCT_SERVER", None)
ENV.pop("JOBACCT_DATABASE_URL", None)

#: Every command and group, as `jobacct --help` lists them, with their subcommands.
COMMANDS = [
    ["sacct"], ["sjobexitmod"], ["modify-job"], ["scancel"], ["admin"], ["admin", "list"],
    ["admin", "set-level"], ["db"], ["db", "init"], ["db", "upgrade"], ["db", "current"],
    ["import"], ["import", "sacct"], ["import", "slurmdbd"], ["report"],
    ["report", "failures"], ["report", "cancellations"], ["report", "utilization"],
    ["report", "top-users"], ["report", "account-by-user"], ["shim"], ["shim", "ingest"],
    ["shim", "jobcomp"], ["serve"], ["completion"], ["man"],
]  # fmt: skip


def jobacct(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m jobacct ARGS`` with stdout a pipe."""
    return subprocess.run(
        [sys.executable, "-m", "jobacct", *args],
        capture_output=True, text=True, env=env or ENV, timeout=120,
    )  # fmt: skip


def _options(help_text: str) -> set[str]:
    """The option names the Options section of a help text lists."""
    section = help_text.split("\nOptions:\n", 1)[1].split("\n\n")[0]
    return set(re.findall(r"(?:^|[ ,])(--?[A-Za-z][A-Za-z0-9-]*)", section, re.M)) - {"-"}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_in_a_pipe_is_plain_text(command: list[str]) -> None:
    result = jobacct(*command, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"Usage: jobacct {' '.join(command)} ")
    assert not set(text) & set("╭╮╰╯│─┃━"), "no Rich boxes in a pipe"
    assert "\x1b[" not in text
    assert not re.search(r"<(str|bool|int|list\[str\])>", text), "type labels are not metavars"
    if "\nCommands:\n" in text:  # each command's description whole, not cut with "..."
        listing = text.split("\nCommands:\n", 1)[1]
        assert not re.search(r"\w\.\.\.$", listing, re.M), listing
    for line in text.splitlines():
        assert len(line) <= 120


def test_sacct_help_keeps_its_words() -> None:
    text = jobacct("sacct", "--help").stdout
    assert "H:M:S" in text and "Ⓜ" not in text  # ":M:" is not an emoji code
    assert "-j, --jobs JOBID[,...]" in text
    assert "-S, --starttime TIME" in text
    assert re.search(r"^  -X, --allocations +Job lines only", text, re.M)  # a flag: no metavar
    assert "StartReceived" in text  # a long word is not broken across lines


@pytest.mark.parametrize("command", [[], ["report"], ["db"]], ids=lambda c: " ".join(c) or "-")
def test_bare_command_prints_its_help(command: list[str]) -> None:
    result = jobacct(*command)
    assert result.returncode == 2
    assert result.stdout.startswith(f"Usage: jobacct {' '.join([*command, ''])}".rstrip() + " ")
    assert "Commands:" in result.stdout
    assert result.stderr == ""  # no empty "jobacct: error: " line


def test_completion_scripts_and_answers() -> None:
    for shell in ("bash", "zsh", "fish"):
        script = jobacct("completion", shell)
        assert script.returncode == 0, script.stderr
        assert "_JOBACCT_COMPLETE=complete_" + shell in script.stdout
    bad = jobacct("completion", "tcsh")
    assert (bad.returncode, bad.stderr) == (
        2, "jobacct: error: invalid shell 'tcsh': one of bash, zsh, fish\n"
    )  # fmt: skip
    # What the bash script runs when the user presses TAB after "jobacct sa".
    env = {**ENV, "_JOBACCT_COMPLETE": "complete_bash", "COMP_WORDS": "jobacct sa",
           "COMP_CWORD": "1", "JOBACCT_SERVER": "unix:/nonexistent/socket"}  # fmt: skip
    answer = jobacct(env=env)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split() == ["sacct"]
    env.update({"COMP_WORDS": "jobacct sacct --allo", "COMP_CWORD": "2"})
    assert jobacct(env=env).stdout.split() == ["--allocations"]
    env.update({"COMP_WORDS": "jobacct report ", "COMP_CWORD": "2"})
    assert "top-users" in jobacct(env=env).stdout.split()
    # Typer's own options answer locally too, never through a daemon.
    shown = jobacct(
        "--show-completion", "zsh",
        env={**ENV, "JOBACCT_SERVER": "unix:/nonexistent/socket",
             "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "_JOBACCT_COMPLETE=complete_zsh" in shown.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_through_the_script(tmp_path: Path) -> None:
    """Source the generated script in a real bash and run its completion function."""
    script = tmp_path / "jobacct.bash"
    script.write_text(jobacct("completion", "bash").stdout)
    wrapper = tmp_path / "jobacct"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m jobacct "$@"\n')
    wrapper.chmod(0o755)
    program = (
        f"source {script}; COMP_WORDS=(jobacct sjob); COMP_CWORD=1;"
        " _jobacct_completion jobacct; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    env = {**ENV, "PATH": f"{tmp_path}:{ENV.get('PATH', '')}"}
    result = subprocess.run(
        ["bash", "--norc", "-c", program], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.stdout.split() == ["sjobexitmod"], result.stderr


def test_man_page_lists_every_option_of_the_help() -> None:
    help_options = _options(jobacct("sacct", "--help").stdout)
    assert {"--jobs", "-j", "--allocations", "--parsable2", "-P", "--json"} <= help_options
    page = jobacct("man", "sacct")
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith('.TH "JOBACCT-SACCT" "1"')
    text = re.sub(r"\\f[BIR]", " ", page.stdout.replace("\\-", "-"))
    for option in help_options:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), option
    assert jobacct("man", "nosuch").returncode == 2


def test_man_pages_written_to_a_directory(tmp_path: Path) -> None:
    result = jobacct("man", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    names = {p.name for p in tmp_path.iterdir()}
    assert {"jobacct.1", "jobacct-sacct.1", "jobacct-report-failures.1", "jobacct-db-init.1"} <= (
        names
    )
    if shutil.which("man"):
        shown = subprocess.run(
            ["man", "-l", str(tmp_path / "jobacct-report-failures.1")],
            capture_output=True, text=True, env={**ENV, "MANPAGER": "cat", "PAGER": "cat"},
        )  # fmt: skip
        assert "--start" in shown.stdout.replace("‐", "-")


def test_root_options_after_the_command(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    before = jobacct("--db", str(missing), "sacct", "-j", "1")
    after = jobacct("sacct", "-j", "1", "--db", str(missing))
    joined = jobacct("sacct", f"--db={missing}", "-j", "1")
    assert before.returncode == after.returncode == joined.returncode == 3
    assert before.stderr == after.stderr == joined.stderr
    assert str(missing) in after.stderr
    store = tmp_path / "s.sqlite"
    assert jobacct("db", "init", "--db", str(store)).returncode == 0
    assert jobacct("db", "current", "--db", str(store)).stdout.endswith("(head)\n")


def test_hoisting_rule() -> None:
    from jobacct.client import hoist_root_options as hoist

    assert hoist(["sacct", "-j", "1", "--db", "x"]) == ["--db", "x", "sacct", "-j", "1"]
    assert hoist(["--db", "x", "sacct"]) == ["--db", "x", "sacct"]
    assert hoist(["db", "init", "--server=unix:/s"]) == ["--server=unix:/s", "db", "init"]
    # after "--" nothing is an option
    assert hoist(["import", "sacct", "--", "--db"]) == ["import", "sacct", "--", "--db"]
    assert hoist(["--help"]) == ["--help"]


def test_unreadable_import_file_is_status_1(tmp_path: Path) -> None:
    """The README's exit-status table: an unreadable import file is 1, for every importer."""
    store = tmp_path / "s.sqlite"
    assert jobacct("--db", str(store), "db", "init").returncode == 0
    missing = tmp_path / "nope.txt"
    for args in (
        ["import", "sacct", "--cluster", "tux", str(missing)],
        ["import", "slurmdbd", "--cluster", "tux", "--job-table", str(missing),
         "--step-table", str(missing)],
        ["shim", "ingest", str(missing)],
    ):  # fmt: skip
        result = jobacct("--db", str(store), *args)
        assert (result.returncode, result.stderr) == (
            1, f"jobacct: error: cannot read {missing}: No such file or directory\n"
        ), args  # fmt: skip


def test_scancel_prefixes(tmp_path: Path) -> None:
    """scancel's own messages keep Slurm's prefix; jobacct's refusals have jobacct's."""
    store = tmp_path / "s.sqlite"
    assert jobacct("--db", str(store), "db", "init").returncode == 0
    slurm = jobacct("--db", str(store), "scancel", "12x")
    assert (slurm.returncode, slurm.stderr) == (1, "scancel: error: Invalid job id 12x\n")
    ours = jobacct("--db", str(store), "scancel", "--reason", "a\x01b", "12")
    assert ours.returncode == 2
    assert ours.stderr.startswith("jobacct: error: --reason contains control character U+0001")
    option = jobacct("--db", str(store), "scancel", "--bogus")
    assert option.returncode == 2 and option.stderr.startswith("jobacct: error: No such option")
    unavailable = jobacct("--db", str(tmp_path / "none.sqlite"), "scancel", "12")
    assert unavailable.returncode == 3
    assert unavailable.stderr.startswith("jobacct: error: database file ")
