"""What every command shares: the database URL option and how to open the store.

Imports of SQLAlchemy and of the schema check happen when a command opens the store, so that
``jobacct --help`` and ``sacct -e`` start without them. Outside :mod:`jobacct.cli` (whose
package imports Typer): ``sacct``'s Typer-free path (:mod:`jobacct.sacct_fastpath`) uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # typing's, without importing typing (sacct start-up, issue 16)
if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session


class AppContext:
    """Options of the root command, handed to subcommands through ``ctx.obj``."""

    # A plain class, not a dataclass: importing dataclasses (and inspect) costs a few ms of
    # the start-up of sacct -j (tracker issue 16).
    def __init__(self, db_option: str | None = None) -> None:
        self.db_option = db_option

    def url(self) -> str:
        """The database URL by jobacct's one precedence rule."""
        from jobacct.config import resolve_database_url

        return resolve_database_url(self.db_option)

    def engine(self, *, create: bool = False, check_schema: bool = True) -> Engine:
        """An engine on a reachable database at the head schema.

        Raises:
            DatabaseUnavailableError: missing SQLite file or unreachable server.
            SchemaOutdatedError: schema behind or ahead of this version.
        """
        from jobacct import migrate
        from jobacct.config import make_engine

        engine = make_engine(self.url(), create=create)
        if check_schema:
            migrate.check_reachable_at_head(engine)
        return engine

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        from sqlalchemy.orm import Session

        from jobacct.config import write_engine

        engine = self.engine()
        try:
            bind = write_engine(engine) if write else engine
            with Session(bind) as session, session.begin():
                yield session
        finally:
            engine.dispose()
