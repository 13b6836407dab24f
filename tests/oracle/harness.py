"""Talking to the oracle that up.sh starts: its tables (MariaDB), its sacct, its lifecycle.

The oracle is found by its runtime directory (``JOBACCT_ORACLE_RUN``, default
``/tmp/jobacct-oracle``): ``env`` there names ``SLURM_CONF``. Tests never start a second one:
if ``.ci/run`` (or a person) brought it up, it is used as it is; otherwise :func:`bring_up`
runs up.sh and the caller runs :func:`bring_down` when done.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pymysql

from tests.oracle.rows import CLUSTER_NODES, EXTRA_TRES, JOB_COLUMNS, STEP_COLUMNS, T0, Rows

HERE = Path(__file__).parent
RUN = Path(os.environ.get("JOBACCT_ORACLE_RUN", "/tmp/jobacct-oracle"))
DB_NAME = os.environ.get("JOBACCT_ORACLE_DB", "jobacct_oracle_acct_db")
_MYSQL = os.environ.get("JOBACCT_ORACLE_MYSQL") or "127.0.0.1:3306:root:"
_HOST, _PORT, _USER, _PASS = _MYSQL.split(":", 3)
CLUSTER = "oracle"
#: what up.sh needs on PATH (Debian 12: slurmdbd slurm-client slurm-wlm-basic-plugins
#: slurm-wlm-mysql-plugin munge, and mariadb-client for mysql)
TOOLS = ("munged", "slurmdbd", "sacct", "sacctmgr", "mysql")
#: one command's time limit: sacct retries a slurmdbd that does not answer for minutes
TIMEOUT = 60


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def slurm_env() -> dict[str, str]:
    """The environment sacct runs in: the oracle's SLURM_CONF, UTC."""
    env = dict(os.environ)
    for line in (RUN / "env").read_text().splitlines():
        name, _, value = line.partition("=")
        if name:
            env[name] = value
    env["TZ"] = "UTC"
    for name in ("SACCT_FORMAT", "SLURM_TIME_FORMAT", "SLURM_CLUSTERS", "SACCT_FEDERATION"):
        env.pop(name, None)
    return env


def is_up() -> bool:
    if not (RUN / "env").is_file():
        return False
    try:
        done = subprocess.run(
            ["sacctmgr", "-n", "-P", "list", "cluster", "format=cluster"],
            env=slurm_env(),
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and CLUSTER in done.stdout.split()


def bring_up() -> str | None:
    """Run up.sh; None when the oracle answers, else the reason (its last error line)."""
    done = subprocess.run(
        ["bash", str(HERE / "up.sh")], capture_output=True, text=True, timeout=180, check=False
    )
    if done.returncode != 0 or not is_up():
        lines = (done.stderr or done.stdout).strip().splitlines()
        return lines[-1] if lines else f"up.sh exited {done.returncode}"
    return None


def bring_down() -> None:
    subprocess.run(["bash", str(HERE / "down.sh")], capture_output=True, timeout=60, check=False)


def _connect() -> Any:
    return pymysql.connect(
        host=_HOST,
        port=int(_PORT),
        user=_USER,
        password=_PASS,
        database=DB_NAME,
        autocommit=False,
        charset="utf8mb4",
    )


def associations() -> dict[tuple[str, str], int]:
    """(user, account) -> id_assoc, as sacctmgr made them in up.sh."""
    conn = _connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT user, acct, id_assoc FROM {CLUSTER}_assoc_table WHERE deleted=0")
            return {(user, acct): inx for user, acct, inx in cur.fetchall()}
    finally:
        conn.close()


def _insert(
    cur: Any, table: str, columns: Iterable[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    cols = list(columns)
    names = ", ".join(f"`{c}`" for c in cols)
    marks = ", ".join(["%s"] * len(cols))
    cur.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})", [[r[c] for c in cols] for r in rows]
    )


def load(rows: Rows) -> None:
    """Replace every row of the oracle's job and step tables with ``rows``."""
    conn = _connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"DELETE FROM {CLUSTER}_step_table")
            cur.execute(f"DELETE FROM {CLUSTER}_job_table")
            for ident, kind, name in EXTRA_TRES:
                cur.execute(
                    "INSERT IGNORE INTO tres_table (creation_time, deleted, id, type, name)"
                    " VALUES (%s, 0, %s, %s, %s)",
                    (T0 - 86400, ident, kind, name),
                )
            cur.execute(f"DELETE FROM {CLUSTER}_event_table")
            cur.execute(
                f"INSERT INTO {CLUSTER}_event_table (time_start, time_end, node_name,"
                " cluster_nodes, reason, state, tres) VALUES (%s, 0, '', %s, '', 0, %s)",
                (T0 - 86400, CLUSTER_NODES, "1=18,2=9000,5=18"),
            )
            _insert(cur, f"{CLUSTER}_job_table", JOB_COLUMNS, rows.jobs)
            _insert(cur, f"{CLUSTER}_step_table", STEP_COLUMNS, rows.steps)
        conn.commit()
    finally:
        conn.close()


def dump(table: str, path: Path) -> None:
    """``mysql -B`` of one table, the input ``jobacct import slurmdbd`` reads.

    ``job`` and ``step`` are the cluster's tables, ``qos`` is slurmdbd's ``qos_table``.
    """
    name = f"{table}_table" if table in ("qos", "tres") else f"{CLUSTER}_{table}_table"
    order = {"qos": "id", "tres": "id", "step": "job_db_inx, id_step, step_het_comp"}.get(
        table, "job_db_inx"
    )
    with path.open("w") as out:
        subprocess.run(
            [
                "mysql",
                "-h",
                _HOST,
                "-P",
                _PORT,
                "-u",
                _USER,
                *([f"-p{_PASS}"] if _PASS else []),
                "-B",
                "-e",
                f"SELECT * FROM {name} ORDER BY {order}",
                DB_NAME,
            ],
            stdout=out,
            check=True,
            timeout=TIMEOUT,
        )


def sacct(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sacct", *args],
        env={**slurm_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        # sacct cuts a %N-wide cell by bytes, possibly inside a UTF-8 character
        check=False,
        errors="surrogateescape",
    )
