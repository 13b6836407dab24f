"""Resolving user names and uids through the local passwd database."""

from __future__ import annotations

import pwd


class UnknownUserError(ValueError):
    """A user name or uid that the passwd database does not know."""


#: Largest uid or gid (``uid_t`` is 32 bits; Slurm stores them as ``int unsigned``).
MAX_ID = 0xFFFFFFFF


def numeric_id(text: str, what: str = "user id") -> int | None:
    """``1001`` -> 1001; a name (anything but ASCII digits) -> None.

    Raises:
        ValueError: for a number above :data:`MAX_ID` (one line naming it and ``what``).
    """
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    if value > MAX_ID:
        raise ValueError(f"invalid {what} '{text}': ids are 0..{MAX_ID}")
    return value


def resolve_uid(text: str) -> tuple[int, str | None]:
    """``alice`` or ``1001`` -> (uid, name); a number unknown to passwd keeps no name.

    Raises:
        UnknownUserError: for a name passwd does not know.
    """
    try:
        uid_or_none = numeric_id(text)
    except ValueError as exc:
        raise UnknownUserError(str(exc)) from None
    if uid_or_none is not None:
        uid = uid_or_none
        try:
            return uid, pwd.getpwuid(uid).pw_name
        except KeyError:
            return uid, None
    try:
        entry = pwd.getpwnam(text)
    except KeyError:
        raise UnknownUserError(f"invalid user name '{text}'") from None
    return entry.pw_uid, entry.pw_name
