"""Who may annotate which job: the job's owner, root, and AdminLevel Operator or Administrator.

The rule is slurmdbd's for ``sacctmgr modify job`` (``as_mysql_modify_job``, slurm-semantics.md
§2.3): Operator-or-better may modify any job, anyone else only their own jobs; setting
AdminComment or SystemComment needs Operator-or-better even on one's own job; account
coordinators get no extra rights here (unlike for cancelling, §6.6).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct.errors import AccessDeniedError
from jobacct.model import Job, UserPrivilege


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
