"""``jobacct admin``: AdminLevels and account coordinators (root and Administrators only)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import delete, select

from jobacct import caller
from jobacct.authz import AdminLevel, check_admin
from jobacct.cli import listing
from jobacct.cli.context import AppContext
from jobacct.errors import UsageError
from jobacct.model import Coordinator, UserPrivilege
from jobacct.users import UnknownUserError, resolve_uid

app = typer.Typer(
    help="Manage AdminLevels and account coordinators (root and Administrators only).",
    no_args_is_help=True,
)


LIST_COLUMNS = ("UID", "User", "AdminLevel", "Coordinator of")


def _user(text: str) -> tuple[int, str | None]:
    try:
        return resolve_uid(text)
    except UnknownUserError as exc:
        raise UsageError(str(exc)) from exc


@app.command("set-level")
def set_level(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name or uid.")],
    level: Annotated[str, typer.Argument(help="None, Operator or Administrator.")],
) -> None:
    """Set a user's AdminLevel, as `sacctmgr modify user NAME set AdminLevel=LEVEL`.

    Example: jobacct admin set-level alice Operator
    """
    try:
        parsed = AdminLevel.parse(level)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    uid, name = _user(user)
    app_ctx: AppContext = ctx.obj
    with app_ctx.session() as session:
        check_admin(session, caller.caller_uid())
        row = session.get(UserPrivilege, uid)
        if parsed is AdminLevel.NONE:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(UserPrivilege(uid=uid, user_name=name, admin_level=parsed.value))
        else:
            row.admin_level, row.user_name = parsed.value, name
    typer.echo(f"{name or uid}: AdminLevel={parsed.value}")


@app.command("add-coordinator")
def add_coordinator(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name or uid.")],
    account: Annotated[str, typer.Argument(help="Account.")],
) -> None:
    """Make a user coordinator of an account (may cancel its jobs; may not annotate them).

    Example: jobacct admin add-coordinator bob physics
    """
    uid, name = _user(user)
    app_ctx: AppContext = ctx.obj
    with app_ctx.session() as session:
        check_admin(session, caller.caller_uid())
        if session.get(Coordinator, (uid, account)) is None:
            session.add(Coordinator(uid=uid, account=account))
    typer.echo(f"{name or uid}: coordinator of {account}")


@app.command("remove-coordinator")
def remove_coordinator(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name or uid.")],
    account: Annotated[str, typer.Argument(help="Account.")],
) -> None:
    """Remove a user's coordinator role for an account.

    Example: jobacct admin remove-coordinator bob physics
    """
    uid, name = _user(user)
    app_ctx: AppContext = ctx.obj
    with app_ctx.session() as session:
        check_admin(session, caller.caller_uid())
        session.execute(
            delete(Coordinator).where(Coordinator.uid == uid, Coordinator.account == account)
        )
    typer.echo(f"{name or uid}: no longer coordinator of {account}")


@app.command("list")
def list_privileges(
    ctx: typer.Context,
    json_out: listing.Json = False,
    parsable2: listing.Parsable2 = False,
    noheader: listing.NoHeader = False,
) -> None:
    """List AdminLevels and coordinators ('|'-separated, as -P; or --json).

    Example: jobacct admin list
    """
    listing.check(json_out, parsable2, noheader)
    app_ctx: AppContext = ctx.obj
    with app_ctx.session(write=False) as session:
        check_admin(session, caller.caller_uid())
        coords: dict[int, list[str]] = {}
        for c in session.scalars(select(Coordinator).order_by(Coordinator.account)):
            coords.setdefault(c.uid, []).append(c.account)
        levels = {p.uid: p for p in session.scalars(select(UserPrivilege))}
        rows = []
        for uid in sorted(set(levels) | set(coords)):
            p = levels.get(uid)
            name = p.user_name if p and p.user_name else None
            level = p.admin_level if p else AdminLevel.NONE.value
            rows.append((uid, name, level, coords.get(uid, [])))
    # Without -P or --json it prints as -P does: the list was always '|'-separated.
    listing.write_records("users", LIST_COLUMNS, rows, json_out=json_out, header=not noheader)
