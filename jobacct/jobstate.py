"""Slurm's job state names and short codes, and how sacct and scancel read them.

One table for the whole package (``../shared/reference/slurm-semantics.md`` §5.1): the base
states of ``enum job_states`` and the state flags, each with the short code
``job_state_string_compact`` prints. ``job_state_num`` (src/common/slurm_protocol_defs.c)
matches a name against all of them, case-insensitively, long name or short code; sacct's
``-s`` then keeps only what accounting stores (``_supported_state``, §5.2), while scancel's
``-t`` takes anything ``job_state_num`` knows (§6.7), though only PENDING, RUNNING and
SUSPENDED can ever match an active job.
"""

from __future__ import annotations

#: Base states (``enum job_states``, §5.1) with their short codes, in Slurm's order.
BASE_STATES: dict[str, str] = {
    "PENDING": "PD",
    "RUNNING": "R",
    "SUSPENDED": "S",
    "COMPLETED": "CD",
    "CANCELLED": "CA",
    "FAILED": "F",
    "TIMEOUT": "TO",
    "NODE_FAIL": "NF",
    "PREEMPTED": "PR",
    "BOOT_FAIL": "BF",
    "DEADLINE": "DL",
    "OUT_OF_MEMORY": "OOM",
}

#: State flags with a name and short code (§5.1 flag bits). ``JOB_REQUEUE``'s name is
#: ``REQUEUED``. The flags without a string form (EXPEDITING, LAUNCH_FAILED, ...) are not here:
#: ``job_state_num`` does not match them either.
FLAG_STATES: dict[str, str] = {
    "COMPLETING": "CG",
    "STAGE_OUT": "SO",
    "CONFIGURING": "CF",
    "RESIZING": "RS",
    "REQUEUED": "RQ",
    "REQUEUE_FED": "RF",
    "REQUEUE_HOLD": "RH",
    "SPECIAL_EXIT": "SE",
    "STOPPED": "ST",
    "REVOKED": "RV",
    "RESV_DEL_HOLD": "RD",
    "SIGNALING": "SI",
}

#: The flags the database stores in place of a base state (``JOB_REQUEUE``, ``JOB_RESIZING``,
#: ``JOB_REVOKED``, §5.1 "What the DB stores"), hence the only ones sacct's ``-s`` accepts.
ACCOUNTED_FLAGS = ("REQUEUED", "RESIZING", "REVOKED")

#: Every state a stored job or step can be in, with its short code (what ``-s`` accepts).
ACCOUNTED_STATES: dict[str, str] = {
    **BASE_STATES,
    **{name: FLAG_STATES[name] for name in ACCOUNTED_FLAGS},
}

#: States of a job that has not ended (scancel's "active" jobs, §6.7).
ACTIVE_STATES = frozenset({"PENDING", "RUNNING", "SUSPENDED"})

_BY_NAME = {**BASE_STATES, **FLAG_STATES}
_BY_CODE = {code: name for name, code in _BY_NAME.items()}


def job_state_num(text: str) -> str | None:
    """The long state name ``text`` names, as Slurm's ``job_state_num`` matches it.

    ``text`` is a long name (``pending``) or a short code (``PD``), any case, surrounding
    blanks ignored; base states first, then the flags. Returns None for anything else
    (``COMPLETE`` and ``CANCELED`` are not spellings Slurm knows).
    """
    upper = text.strip().upper()
    if upper in _BY_NAME:
        return upper
    return _BY_CODE.get(upper)
