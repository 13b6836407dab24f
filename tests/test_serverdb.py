"""``db init`` on a PostgreSQL/MariaDB server without the URL's database (issue 15): one line
naming the database, the server and how to create it; ``--create`` creates it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.conftest import SERVER_ADMIN_URLS, server_unreachable
from tests.test_cli_conventions import jobacct


@pytest.fixture(params=["postgresql", "mariadb"])
def missing_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL on a real server naming a database that does not exist (dropped afterwards)."""
    admin_url = SERVER_ADMIN_URLS[request.param]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        server_unreachable(request.param, admin_url, exc)
    name = f"jobacct_missing_{uuid.uuid4().hex[:10]}"
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if request.param == "postgresql" else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


@pytest.mark.server
def test_db_init_names_the_missing_database(missing_url: str) -> None:
    url = make_url(missing_url)
    kind = "PostgreSQL" if url.get_backend_name() == "postgresql" else "MariaDB"
    refused = jobacct("--db", missing_url, "db", "init")
    assert (refused.returncode, refused.stdout) == (3, "")
    assert refused.stderr.startswith(
        f"jobacct: error: database '{url.database}' does not exist on the {kind} server"
        f" {url.host}:{url.port}: create it ("
    )
    assert refused.stderr.endswith(", or run 'jobacct db init --create'\n")
    assert refused.stderr.count("\n") == 1
    made = jobacct("--db", missing_url, "db", "init", "--create")
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines()[0] == (
        f"created database '{url.database}' on the {kind} server {url.host}:{url.port}"
    )
    assert jobacct("--db", missing_url, "db", "current").stdout.endswith("(head)\n")
    # Again: the database exists now, --create changes nothing.
    again = jobacct("--db", missing_url, "db", "init", "--create")
    assert again.returncode == 0 and "created database" not in again.stdout
