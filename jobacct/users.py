"""Resolving user names and uids through the local passwd database."""

from __future__ import annotations

import pwd


class UnknownUserError(ValueError):
    """A user name or uid that the passwd database does not know."""


def resolve_uid(text: str) -> tuple[int, str | None]:
    """``alice`` or ``1001`` -> (uid, name); a number unknown to passwd keeps no name.

    Raises:
        UnknownUserError: for a name passwd does not know.
    """
    if text.isdigit():
        uid = int(text)
        try:
            return uid, pwd.getpwuid(uid).pw_name
        except KeyError:
            return uid, None
    try:
        entry = pwd.getpwnam(text)
    except KeyError:
        raise UnknownUserError(f"invalid user name '{text}'") from None
    return entry.pw_uid, entry.pw_name
