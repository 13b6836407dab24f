"""Slurm's error names, numbers and messages, and the exception that carries one.

Values and ``slurm_strerror`` texts from ``slurm/slurm_errno.h`` / ``src/common/slurm_errno.c``
(slurm-semantics.md §6.8; stable since 17.11). The shim and ``jobacct scancel`` answer with
these names so that scripts written against Slurm's errors keep working.
"""

from __future__ import annotations

from enum import IntEnum

from jobacct.errors import JobAcctError


class SlurmErrno(IntEnum):
    """Slurm error numbers by their ``slurm_errno.h`` names (§6.8)."""

    SLURM_SUCCESS = 0
    SLURM_ERROR = -1
    ESLURM_INVALID_PARTITION_NAME = 2000
    ESLURM_ACCESS_DENIED = 2002
    ESLURM_JOB_SCRIPT_MISSING = 2009
    ESLURM_USER_ID_MISSING = 2010
    ESLURM_INVALID_JOB_ID = 2017
    ESLURM_INVALID_NODE_NAME = 2018
    ESLURM_TRANSITION_STATE_NO_UPDATE = 2020
    ESLURM_ALREADY_DONE = 2021
    ESLURM_JOB_PENDING = 2024
    ESLURM_DISABLED = 2037
    ESLURM_INVALID_ACCOUNT = 2045
    ESLURM_INVALID_TIME_VALUE = 2054
    ESLURM_INVALID_WCKEY = 2057
    ESLURM_INVALID_QOS = 2066
    ESLURM_JOB_FINISHED = 2084
    ESLURM_CANNOT_CANCEL_CRON_JOB = 2098
    ESLURM_NOT_HET_JOB = 2106
    ESLURM_NOT_HET_JOB_LEADER = 2107
    ESLURM_NOT_WHOLE_HET_JOB = 2108
    ESLURM_INVALID_JOB_ID_ZERO = 2137
    ESLURM_INVALID_JOB_ID_NEGATIVE = 2138
    ESLURM_INVALID_JOB_ID_TOO_LARGE = 2139
    ESLURM_INVALID_JOB_ID_NON_NUMERIC = 2140
    ESLURM_USER_ID_UNKNOWN = 2166
    ESLURM_JOB_SIGNAL_FAILED = 2172
    ESLURM_SIGNAL_JOBS_INVALID = 2173
    ESLURM_INVALID_SLUID = 2185
    ESLURMD_EXECVE_FAILED = 4020
    ESLURMD_STEP_SUSPENDED = 4028
    ESLURM_DB_CONNECTION = 7000
    ESLURM_JOBS_RUNNING_ON_ASSOC = 7001
    ESLURM_JOB_NOT_FEDERATED = 7103

    @property
    def text(self) -> str:
        """The ``slurm_strerror`` message, as scancel prints it after ``Kill job error ...: ``."""
        return _TEXT[self]


_TEXT: dict[SlurmErrno, str] = {
    SlurmErrno.SLURM_SUCCESS: "No error",
    SlurmErrno.SLURM_ERROR: "Unspecified error",
    SlurmErrno.ESLURM_INVALID_PARTITION_NAME: "Invalid partition name specified",
    SlurmErrno.ESLURM_ACCESS_DENIED: "Access/permission denied",
    SlurmErrno.ESLURM_JOB_SCRIPT_MISSING: "Job script not specified",
    SlurmErrno.ESLURM_USER_ID_MISSING: "Invalid user id",
    SlurmErrno.ESLURM_INVALID_JOB_ID: "Invalid job id specified",
    SlurmErrno.ESLURM_INVALID_NODE_NAME: "Invalid node name specified",
    SlurmErrno.ESLURM_TRANSITION_STATE_NO_UPDATE: "Job can not be altered now, try again later",
    SlurmErrno.ESLURM_ALREADY_DONE: "Job/step already completing or completed",
    SlurmErrno.ESLURM_JOB_PENDING: "Job is pending execution",
    SlurmErrno.ESLURM_DISABLED: "Requested operation is presently disabled",
    SlurmErrno.ESLURM_INVALID_ACCOUNT: (
        "Invalid account or account/partition combination specified"
    ),
    SlurmErrno.ESLURM_INVALID_TIME_VALUE: "Invalid time specified",
    SlurmErrno.ESLURM_INVALID_WCKEY: "Invalid wckey specification",
    SlurmErrno.ESLURM_INVALID_QOS: "Invalid qos specification",
    SlurmErrno.ESLURM_JOB_FINISHED: "Job has already finished",
    SlurmErrno.ESLURM_CANNOT_CANCEL_CRON_JOB: "Cannot cancel scrontab jobs without --cron flag.",
    SlurmErrno.ESLURM_NOT_HET_JOB: "Job not heterogeneous job",
    SlurmErrno.ESLURM_NOT_HET_JOB_LEADER: "Job is not a heterogeneous job leader",
    SlurmErrno.ESLURM_NOT_WHOLE_HET_JOB: (
        "Operation not permitted on individual component of heterogeneous job"
    ),
    SlurmErrno.ESLURM_INVALID_JOB_ID_ZERO: "JobID can not be zero",
    SlurmErrno.ESLURM_INVALID_JOB_ID_NEGATIVE: "JobID can not be negative",
    SlurmErrno.ESLURM_INVALID_JOB_ID_TOO_LARGE: "JobID can not be greater than 67108863",
    SlurmErrno.ESLURM_INVALID_JOB_ID_NON_NUMERIC: "JobID must be a number",
    SlurmErrno.ESLURM_USER_ID_UNKNOWN: "Unable to resolve user ID to user name",
    SlurmErrno.ESLURM_JOB_SIGNAL_FAILED: "Cannot signal job",
    SlurmErrno.ESLURM_SIGNAL_JOBS_INVALID: (
        "Invalid signal jobs request, at least one job id or filter is required."
    ),
    SlurmErrno.ESLURM_INVALID_SLUID: "SLUID is invalid",
    SlurmErrno.ESLURMD_EXECVE_FAILED: "Slurmd could not execve job",
    SlurmErrno.ESLURMD_STEP_SUSPENDED: "Job step is suspended",
    SlurmErrno.ESLURM_DB_CONNECTION: "Unable to connect to database",
    SlurmErrno.ESLURM_JOBS_RUNNING_ON_ASSOC: "Job(s) active, cancel job(s) before remove",
    SlurmErrno.ESLURM_JOB_NOT_FEDERATED: "Not a valid federated job",
}


class SlurmError(JobAcctError):
    """A request refused with one of Slurm's errors; ``str()`` names the error and the target.

    Attributes:
        errno: the :class:`SlurmErrno`.
        target: what was addressed (a job id as written, ``123_7``, ``123.batch``), or ``""``.
    """

    def __init__(self, errno: SlurmErrno, target: str = "", detail: str = "") -> None:
        self.errno = errno
        self.target = target
        where = f"job {target}: " if target else ""
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{errno.name}: {where}{errno.text}{extra}")
