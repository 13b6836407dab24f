"""Who is calling: the one place that reads the caller's identity.

Permission rules use the real OS user, never a command-line flag (issue 4 of the tracker).
Run directly, that is this process's real uid (``getuid(2)``). Run by the daemon
(``jobacct serve``, issue 13), a command executes in a worker process forked for one client
connection, and the caller is the uid the kernel reported for that connection
(``SO_PEERCRED``): :func:`serve_as` sets it there, once, before the command runs.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Callable


class JobScope(namedtuple("JobScope", ["uid", "accounts"], defaults=[()])):
    """The jobs a caller may read under ``PrivateData=jobs``: its own (``uid``) and those of
    the accounts it coordinates (``accounts``, default none), as slurmdbd's
    ``_setup_job_cond_limits``."""

    __slots__ = ()
    uid: int
    accounts: tuple[str, ...]


_served_uid: int | None = None
_scope_of: Callable[[int], JobScope | None] | None = None


def caller_uid() -> int:
    """The caller's uid: the peer's (daemon worker, :func:`serve_as`) or ``getuid(2)``."""
    return os.getuid() if _served_uid is None else _served_uid


def serve_as(uid: int, scope_of: Callable[[int], JobScope | None] | None = None) -> None:
    """Make ``uid`` the caller of this process (a daemon worker; never called directly).

    ``scope_of(uid)`` gives the jobs the caller may read (None: all of them); it is asked
    lazily by :func:`read_scope`, so commands that read no jobs never query it.
    """
    global _served_uid, _scope_of
    _served_uid, _scope_of = uid, scope_of


def may_read(uid: int | None, account: str | None) -> bool:
    """Whether the caller may see a job of ``uid`` in ``account`` (:func:`read_scope`)."""
    scope = read_scope()
    return scope is None or uid == scope.uid or (account is not None and account in scope.accounts)


def read_scope() -> JobScope | None:
    """The jobs the caller may read: None (all) unless a daemon with ``PrivateData=jobs``
    serves a user below Operator (slurm-semantics.md, PrivateData)."""
    if _scope_of is None:
        return None
    return _scope_of(caller_uid())
