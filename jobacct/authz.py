"""Who may annotate which job: the job's owner, root, and AdminLevel Operator or Administrator.

The rule is slurmdbd's for ``sacctmgr modify job`` (``as_mysql_modify_job``, slurm-semantics.md
§2.3): Operator-or-better may modify any job, anyone else only their own jobs; setting
AdminComment or SystemComment needs Operator-or-better even on one's own job; account
coordinators get no extra rights here (unlike for cancelling, §6.6).

Cancelling and signalling (:func:`check_cancel`) follow slurmctld's ``_check_access_job_ptr``
(§6.6): the owner, root, Operator-or-better, and coordinators of the job's account; the
requests that bypass the controller and go to slurmd (:func:`check_signal_direct`, §6.1) only
the owner and root.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct.errors import AccessDeniedError
from jobacct.model import Coordinator, Job, UserPrivilege
from jobacct.slurm_errno import SlurmErrno, SlurmError


class AdminLevel(StrEnum):
    """sacctmgr's AdminLevel values, lowest first."""

    NONE = "None"
    OPERATOR = "Operator"
    ADMINISTRATOR = "Administrator"

    @property
    def rank(self) -> int:
        """Order of the levels: None < Operator < Administrator."""
        return list(AdminLevel).index(self)

    @classmethod
    def parse(cls, text: str) -> AdminLevel:
        """Case-insensitive; ``Admin`` is accepted for Administrator, as sacctmgr does.

        Raises:
            ValueError: for any other value.
        """
        lowered = text.strip().lower()
        for level in cls:
            if level.value.lower().startswith(lowered) and lowered:
                return level
        raise ValueError(f"invalid AdminLevel '{text}': expected None, Operator or Administrator")


#: Fields only Operator-or-better may set (§2.3).
OPERATOR_FIELDS = frozenset({"AdminComment", "SystemComment"})


def admin_level(session: Session, uid: int) -> AdminLevel:
    """The caller's AdminLevel; root (uid 0) is always Administrator, as SlurmUser/root are."""
    if uid == 0:
        return AdminLevel.ADMINISTRATOR
    stored = session.scalar(select(UserPrivilege.admin_level).where(UserPrivilege.uid == uid))
    return AdminLevel(stored) if stored else AdminLevel.NONE


def check_annotate(session: Session, uid: int, job: Job, fields: set[str], job_text: str) -> None:
    """Refuse an annotation the caller may not make.

    Raises:
        AccessDeniedError: naming the job and the rule that refused it.
    """
    level = admin_level(session, uid)
    if level.rank >= AdminLevel.OPERATOR.rank:
        return
    restricted = sorted(fields & OPERATOR_FIELDS)
    if restricted:
        raise AccessDeniedError(
            f"ESLURM_ACCESS_DENIED: job {job_text}: setting {', '.join(restricted)} needs"
            " AdminLevel Operator or Administrator"
        )
    if job.uid != uid:
        raise AccessDeniedError(
            f"ESLURM_ACCESS_DENIED: job {job_text} belongs to uid {job.uid}; only its owner,"
            " root or an Operator/Administrator may annotate it (account coordinators may not)"
        )


def check_admin(session: Session, uid: int) -> None:
    """Refuse privilege management to anyone but root and Administrators.

    Raises:
        AccessDeniedError: for everyone else.
    """
    if admin_level(session, uid) is not AdminLevel.ADMINISTRATOR:
        raise AccessDeniedError(
            "ESLURM_ACCESS_DENIED: managing AdminLevels and coordinators needs AdminLevel"
            " Administrator (or root)"
        )


def is_coordinator(session: Session, uid: int, account: str | None) -> bool:
    """True if ``uid`` coordinates ``account`` (exact name; the store keeps no account tree)."""
    if account is None:
        return False
    found = session.scalar(
        select(Coordinator.uid).where(Coordinator.uid == uid, Coordinator.account == account)
    )
    return found is not None


def check_cancel(
    session: Session, uid: int, job: Job, target: str, *, admin_comment: bool = False
) -> None:
    """Refuse a cancel or signal request through the controller that ``uid`` may not make.

    Allowed (slurmctld ``_check_access_job_ptr``, slurm-semantics.md §6.6): the job's owner,
    root, AdminLevel Operator or Administrator, and coordinators of the job's account.
    Setting an AdminComment with the request needs Administrator (or root), checked first.

    Raises:
        SlurmError: ``ESLURM_USER_ID_MISSING`` (2010) for an AdminComment without
            Administrator; ``ESLURM_ACCESS_DENIED`` (2002) for anyone else's job.
    """
    level = admin_level(session, uid)
    if admin_comment and level is not AdminLevel.ADMINISTRATOR:
        raise SlurmError(
            SlurmErrno.ESLURM_USER_ID_MISSING, target, "--admin-comment needs Administrator"
        )
    if job.uid == uid or level.rank >= AdminLevel.OPERATOR.rank:
        return
    if is_coordinator(session, uid, job.account):
        return
    raise SlurmError(SlurmErrno.ESLURM_ACCESS_DENIED, target)


def check_signal_direct(uid: int, job: Job, target: str) -> None:
    """Refuse a request that goes straight to slurmd (``slurm_signal_job``,
    ``slurm_signal_job_step``, ``slurm_terminate_job_step``, §6.1): slurmd lets only the
    job's owner and root (SlurmUser) signal a job; AdminLevels and coordinators do not count.

    Raises:
        SlurmError: ``ESLURM_USER_ID_MISSING`` (2010) for anyone else.
    """
    if uid not in (0, job.uid):
        raise SlurmError(SlurmErrno.ESLURM_USER_ID_MISSING, target)
