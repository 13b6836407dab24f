"""The site config file: unknown keys and a missing ``$JOBACCT_CONFIG`` are errors (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobacct.config import CONFIG_KEYS, TABLE_KEYS, read_config
from jobacct.errors import UsageError


def run(config: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOBACCT_CONFIG": config, "TZ": "UTC"}
    for name in ("JOBACCT_DATABASE_URL", "JOBACCT_SERVER"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "jobacct", *args], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip


def test_a_misspelled_key_is_one_error_line(tmp_path: Path) -> None:
    config = tmp_path / "jobacct.toml"
    config.write_text('databse_url = "/var/lib/jobacct/jobacct.sqlite"\n')
    result = run(str(config), "sacct", "-j", "1")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"jobacct: error: unknown key 'databse_url' in config file {config}"
        " (known: cluster, database_url, server, smtp)\n"
    )
    config.write_text('[smtp]\nhost = "mail"\nstartls = true\n')
    result = run(str(config), "report", "failures")
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"jobacct: error: unknown key 'startls' in [smtp] of config file {config} (known: "
    )


def test_a_missing_config_file_named_by_the_environment(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = run(str(missing), "sacct", "-j", "1")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"jobacct: error: config file {missing} ($JOBACCT_CONFIG) does not exist"
        " (JOBACCT_CONFIG=/dev/null: no config file)\n"
    )


def test_no_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JOBACCT_CONFIG", "/dev/null")
    assert read_config() == {}
    store = tmp_path / "s.sqlite"
    assert run("/dev/null", "--db", str(store), "db", "init").returncode == 0


def test_every_documented_key_is_accepted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "jobacct.toml"
    config.write_text(
        'database_url = "/tmp/x.sqlite"\ncluster = "tux"\n'
        '[server]\naddress = "unix:/run/jobacct/jobacct.sock"\ncontrollers = ["root"]\n'
        'private_data = ["jobs"]\n'
        '[smtp]\nhost = "mail"\nport = 587\nstarttls = true\nssl = false\nuser = "u"\n'
        'password = "p"\nfrom = "a@b"\ntimeout = 5\n'
    )
    monkeypatch.setenv("JOBACCT_CONFIG", str(config))
    loaded = read_config()
    assert set(loaded) == CONFIG_KEYS
    assert set(loaded["smtp"]) == TABLE_KEYS["smtp"]
    assert set(loaded["server"]) == TABLE_KEYS["server"]
    config.write_text('[server]\ncontroler = ["root"]\n')
    with pytest.raises(UsageError, match=r"unknown key 'controler' in \[server\]"):
        read_config()
