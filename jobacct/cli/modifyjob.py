"""``jobacct modify-job``: ``sacctmgr modify job`` for the annotated fields only.

Grammar (slurm-semantics.md §2.3): ``[where] CONDITION... set FIELD=VALUE...``; conditions
are ``JobID=`` (or bare ids), ``Cluster=``, ``Users=``, ``Accounts=``, ``StartTime=``,
``EndTime=``; settable fields are ``DerivedExitCode=`` (``CODE`` or ``CODE:SIGNAL``, not a raw
status as sacctmgr takes it), ``Comment=``, and for operators ``AdminComment=`` and
``SystemComment=``. Nothing else in a record can be changed.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from jobacct import caller, store
from jobacct.annotate import Changes, annotate_jobs, check_text, job_text
from jobacct.cli.context import AppContext
from jobacct.errors import JobAcctError, JobNotFoundError, UsageError
from jobacct.exitcode import ExitCode, ExitCodeError
from jobacct.jobid import JobIdError, JobSelector, parse_selectors
from jobacct.model import Job
from jobacct.slurmtime import TimeSpecError, format_date, parse_time

_SETTABLE = {
    "derivedexitcode": "DerivedExitCode",
    "derivedec": "DerivedExitCode",
    "comment": "Comment",
    "derivedexitstring": "Comment",
    "derivedes": "Comment",
    "admincomment": "AdminComment",
    "systemcomment": "SystemComment",
}
_CONDITIONS = ("jobid", "cluster", "users", "accounts", "starttime", "endtime")
#: Conditions that are lists: given twice, they add up (sacctmgr, tracker issue 14).
_LIST_CONDITIONS = frozenset({"jobid", "cluster", "users", "accounts"})


class ConfirmationNeededError(JobAcctError):
    """More than one job matched, no -i, and no answer could be read."""


def modify_job(
    ctx: typer.Context,
    words: Annotated[list[str], typer.Argument(metavar="[where] CONDITION... set FIELD=VALUE...")],
    immediate: Annotated[
        bool, typer.Option("--immediate", "-i", help="Do not ask for confirmation.")
    ] = False,
) -> None:
    """Set DerivedExitCode / Comment (operators also AdminComment / SystemComment) of jobs.

    Example: jobacct modify-job -i where JobID=36,37 set DerivedExitCode=49 Comment="out of memory"
    """
    app_ctx: AppContext = ctx.obj
    conditions, changes = _parse(words)
    now = int(time.time())
    with app_ctx.session() as session:
        jobs = _match(session, conditions, now)
        if not jobs:
            raise JobNotFoundError("ESLURM_INVALID_JOB_ID: no job matches; nothing modified")
        sys.stdout.write(" Modified jobs...\n")
        for job in jobs:
            sys.stdout.write(f"  {job_text(job)} submitted at {format_date(job.time_submit)}\n")
        if len(jobs) > 1 and not immediate and not _confirm():
            sys.stdout.write(" Changes Discarded\n")
            session.rollback()
            return
        changed = annotate_jobs(session, jobs, changes, caller.caller_uid(), "modify-job", now)
    sys.stdout.write(f" {changed} of {len(jobs)} jobs changed\n")


def _confirm() -> bool:
    sys.stdout.write("Would you like to commit changes? (N/y): ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if not answer:
        # sacctmgr loops forever here; a script without -i gets a clear error instead.
        raise ConfirmationNeededError(
            "more than one job matches and no answer could be read: pass -i to apply"
        )
    return answer.strip().lower() in ("y", "yes")


def _parse(words: list[str]) -> tuple[dict[str, str], Changes]:
    conditions: dict[str, str] = {}
    values: dict[str, str] = {}
    part = "where"
    ids: list[str] = []
    for word in words:
        lowered = word.lower()
        if lowered in ("where", "set"):
            part = lowered
            continue
        key, eq, value = word.partition("=")
        if not eq:
            if part != "where":
                raise UsageError(f"bad format on '{word}': end your option with an '=' sign")
            ids.append(word)
            continue
        name = key.strip().lower()
        if part == "where":
            if name not in _CONDITIONS:
                raise UsageError(
                    f"unknown condition '{word}': use JobID, Cluster, Users, Accounts,"
                    " StartTime or EndTime"
                )
            if name in conditions and conditions[name] != value:
                if name not in _LIST_CONDITIONS:
                    raise UsageError(f"condition {key.strip()} given twice with other values")
                # sacctmgr adds a repeated list condition to its list (slurm_addto_char_list):
                # "JobID=37 where JobID=36" is jobs 37 and 36, not only the last one.
                value = f"{conditions[name]},{value}"
            conditions[name] = value
        else:
            field = _SETTABLE.get(name)
            if field is None:
                raise UsageError(
                    f"cannot set '{word}': only DerivedExitCode, Comment, AdminComment and"
                    " SystemComment can be changed"
                )
            value = value.strip("\"'") if len(value) > 1 else value
            if field in values and values[field] != value:
                raise UsageError(f"{field} set twice with other values")
            values[field] = value
    if ids:
        conditions["jobid"] = ",".join([*ids, *filter(None, [conditions.get("jobid")])])
    if not values:
        raise UsageError("nothing to set: give DerivedExitCode=, Comment=, ...")
    if "jobid" not in conditions:
        raise UsageError("no JobID condition: name the jobs to modify (where JobID=...)")
    try:
        derived = ExitCode.parse(values["DerivedExitCode"]) if "DerivedExitCode" in values else None
    except ExitCodeError as exc:
        raise UsageError(str(exc)) from exc
    texts = {f: check_text(f, v) for f, v in values.items() if f != "DerivedExitCode"}
    return conditions, Changes(
        derived=derived,
        comment=texts.get("Comment"),
        admin_comment=texts.get("AdminComment"),
        system_comment=texts.get("SystemComment"),
    )


def _match(session: Session, conditions: dict[str, str], now: int) -> list[Job]:
    try:
        selectors = [
            JobSelector(s.job_id, s.array_task, s.het_offset)  # a step names its job
            for s in parse_selectors(conditions["jobid"])
        ]
        start = parse_time(conditions["starttime"], now) if "starttime" in conditions else None
        end = parse_time(conditions["endtime"], now) if "endtime" in conditions else None
    except (JobIdError, TimeSpecError) as exc:
        raise UsageError(str(exc)) from exc
    jobs = store.select_jobs(session, selectors, conditions.get("cluster"), lock=True)
    jobs = [j for j in jobs if caller.may_read(j.uid, j.account)]  # PrivateData=jobs
    users = {u for u in conditions.get("users", "").split(",") if u}
    accounts = {a for a in conditions.get("accounts", "").split(",") if a}
    kept = []
    for job in jobs:
        if users and not ({str(job.uid), job.user_name or ""} & users):
            continue
        if accounts and job.account not in accounts:
            continue
        # StartTime/EndTime are filters on the job's time, as sacct -j windows (§4.7).
        if end is not None and job.time_submit >= end:
            continue
        if start is not None and job.time_end is not None and job.time_end < start:
            continue
        kept.append(job)
    return kept
