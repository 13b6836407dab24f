"""``jobacct scancel``: scancel's options, filters, paths, messages and exit statuses.

Rules are slurm-semantics.md §6.7 (scancel ``src/scancel/scancel.c``, ``opt.c``) with the
records changed by :func:`jobacct.signal.apply_kill` (§6.2-§6.6). Three of scancel's
execution paths are kept, because their messages and exit statuses differ:

* **A, by id** (ids only: no filter, no ``-s``, ``-b`` or ``-i``, no step id):
  ``slurm_kill_job(id, SIGKILL)`` per id. Unknown or finished jobs are silent (printed with
  ``-v``); the exit status is the largest other Slurm error, truncated to 8 bits
  (``ESLURM_ACCESS_DENIED`` 2002 -> 210).
* **B, load and filter** (any filter, ``-s``, ``-b``, ``-i`` or a step id among the ids):
  only PENDING, RUNNING and SUSPENDED records count; filters are ANDed; pending jobs are
  signalled first. An id naming no active job prints ``Invalid job id specified`` (hidden by
  ``-Q``) and makes the status at least 1.
* **C, steps** (``123.4``): ``slurm_kill_job_step`` (no ``-s``, or ``--ctld``),
  ``slurm_terminate_job_step`` (``-s KILL``) or ``slurm_signal_job_step`` (another ``-s``);
  errors are never hidden and the status is the error & 0xFF (2017 -> 225).

Not copied: the retries on ``ESLURM_TRANSITION_STATE_NO_UPDATE`` (scancel sleeps 5..14 s up
to ten times; here the store answers at once, so the error is reported at once), the bulk
``--ctld`` path of Slurm >= 24.05 (``--ctld``, ``-M`` and ``--admin-comment`` take paths A/B
as in 22.05), federation (``--sibling``) and SLUIDs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import hostlist
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobacct import inputs
from jobacct.jobid import JobIdError
from jobacct.jobstate import ACTIVE_STATES, job_state_num
from jobacct.model import Job
from jobacct.signal import (
    KILL_ARRAY_TASK,
    KILL_FULL_JOB,
    KILL_HURRY,
    KILL_JOB_BATCH,
    SIGKILL,
    KillRequest,
    KillTarget,
    apply_kill,
    display_id,
    parse_signal,
    parse_target,
    request_errno,
    resolve_targets,
)
from jobacct.slurm_errno import SlurmErrno, SlurmError

PREFIX = "scancel: "
ERROR = "scancel: error: "


class ScancelExit(Exception):
    """Stop with these stderr lines (each without newline) and exit status."""

    def __init__(self, lines: Sequence[str], status: int = 1) -> None:
        super().__init__("; ".join(lines))
        self.lines = list(lines)
        self.status = status


@dataclass
class Options:
    """scancel's options after the environment (``SCANCEL_*``) and the command line.

    ``signal`` None means not given (SIGKILL, and path A is possible). ``user`` is the text
    given to ``-u`` (or ``--me``: the caller's uid as text); ``nodes`` the expanded ``-w``.
    """

    ids: list[str] = field(default_factory=list)
    signal: int | None = None
    batch: bool = False
    full: bool = False
    hurry: bool = False
    interactive: bool = False
    quiet: bool = False
    verbose: int = 0
    ctld: bool = False
    account: str | None = None
    name: str | None = None
    partition: str | None = None
    qos: str | None = None
    reservation: str | None = None
    state: str | None = None
    user: str | None = None
    me: bool = False
    nodelist: str | None = None
    nodes: frozenset[str] | None = None
    wckey: str | None = None
    clusters: list[str] | None = None
    admin_comment: str | None = None
    reason: str | None = None

    @property
    def has_filter(self) -> bool:
        """Any job filter given (what makes scancel load and filter, path B)."""
        return any(
            v is not None
            for v in (
                self.account,
                self.name,
                self.partition,
                self.qos,
                self.reservation,
                self.state,
                self.user,
                self.nodes,
                self.wckey,
            )
        )


# ---------------------------------------------------------------- option values


def parse_signal_option(text: str) -> int:
    """``-s``: a name or number (``sig_name2num``).

    Raises:
        ScancelExit: ``Unknown job signal: X`` (no prefix, as scancel prints it), status 1.
    """
    try:
        return parse_signal(text)
    except ValueError:
        raise ScancelExit([f"Unknown job signal: {text}"]) from None


def parse_state_option(text: str, *, from_env: bool = False) -> str:
    """``-t``: one state name or short code, case-insensitive: anything ``job_state_num``
    knows (§6.7), base state or flag, though only PENDING, RUNNING and SUSPENDED can match.

    Raises:
        ScancelExit: scancel's two lines (no prefix), status 1.
    """
    name = job_state_num(text)
    if name is not None:
        return name
    first = (
        f"Unrecognized SCANCEL_STATE value: {text}"
        if from_env
        else f"Invalid job state specified: {text}"
    )
    raise ScancelExit([first, "Valid job states are PENDING, RUNNING, and SUSPENDED"])


#: The largest ``-w`` node list file read (``/dev/zero`` would be read for ever): 16 MiB is
#: some 800,000 host names.
MAX_NODELIST_FILE = 16 * 1024 * 1024


def parse_nodelist_option(text: str) -> frozenset[str]:
    """``-w``: a hostlist expression, or (if it contains ``/``) a file of host names, one
    or more per line, themselves hostlist expressions.

    Raises:
        ScancelExit: an unreadable file or a bad expression, status 1.
    """
    source = text
    if "/" in text:
        try:
            with inputs.open_binary(text) as handle:  # the client's file, via the daemon
                data = handle.read(MAX_NODELIST_FILE + 1)
        except OSError as exc:
            message = f"{ERROR}Unable to read node list file {text}: {exc.strerror}"
            raise ScancelExit([message]) from None
        if len(data) > MAX_NODELIST_FILE:
            message = f"{ERROR}Node list file {text} is larger than {MAX_NODELIST_FILE} bytes"
            raise ScancelExit([message])
        source = ",".join(data.decode("utf-8", "replace").split())
    try:
        hosts = hostlist.expand_hostlist(source)
    except hostlist.BadHostlist:
        raise ScancelExit([f"{ERROR}Invalid node list: {text}"]) from None
    if not hosts:
        raise ScancelExit([f"{ERROR}Invalid node list: {text}"])
    return frozenset(hosts)


def split_ids(args: Sequence[str]) -> list[str]:
    """The job ids of the arguments: each may be a comma list (commas inside ``[...]``
    belong to a task list).

    Raises:
        ScancelExit: ``Invalid job id 100,`` for an empty item in a comma list, status 1.
    """
    ids: list[str] = []
    for arg in args:
        start = len(ids)
        depth = 0
        current = ""
        for ch in arg:
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
            if ch == "," and depth == 0:
                ids.append(current)
                current = ""
            else:
                current += ch
        ids.append(current)
        if any(not i.strip() for i in ids[start:]) and arg.strip():
            # "100," or "100,,101": an empty id is a typo, not "nothing" (issue 14).
            raise ScancelExit([f"{ERROR}Invalid job id {arg}"])
    return [i.strip() for i in ids if i.strip()]


def parse_ids(ids: Sequence[str]) -> list[tuple[str, KillTarget]]:
    """Parse every id before anything is done.

    Raises:
        ScancelExit: ``scancel: error: Invalid job id X``, status 1.
    """
    parsed: list[tuple[str, KillTarget]] = []
    for text in ids:
        try:
            parsed.append((text, parse_target(text)))
        except JobIdError:
            raise ScancelExit([f"{ERROR}Invalid job id {text}"]) from None
    return parsed


_TRUE = ("true", "t")
_FALSE = ("false", "f")


def apply_environment(opts: Options, env: Mapping[str, str], given: set[str]) -> list[str]:
    """Fill options not given on the command line from ``SCANCEL_*`` and ``SLURM_CLUSTERS``.

    ``given`` names the options the command line set (they win). Returns warning lines for
    unrecognised boolean values (scancel's ``error()``; the value is ignored).

    Raises:
        ScancelExit: for a bad ``SCANCEL_STATE``.
    """
    warnings: list[str] = []
    for key, attr in (
        ("SCANCEL_ACCOUNT", "account"),
        ("SCANCEL_NAME", "name"),
        ("SCANCEL_PARTITION", "partition"),
        ("SCANCEL_QOS", "qos"),
        ("SCANCEL_USER", "user"),
        ("SCANCEL_WCKEY", "wckey"),
    ):
        if key in env and attr not in given:
            setattr(opts, attr, env[key])
    if "SCANCEL_STATE" in env and "state" not in given:
        opts.state = parse_state_option(env["SCANCEL_STATE"], from_env=True)
    if "SLURM_CLUSTERS" in env and "clusters" not in given:
        opts.clusters = [c for c in env["SLURM_CLUSTERS"].split(",") if c]
    for key, attr in (
        ("SCANCEL_BATCH", "batch"),
        ("SCANCEL_FULL", "full"),
        ("SCANCEL_INTERACTIVE", "interactive"),
        ("SCANCEL_VERBOSE", "verbose"),
    ):
        if key not in env or attr in given:
            continue
        value = env[key].strip().lower()
        if value in _TRUE:
            setattr(opts, attr, 1 if attr == "verbose" else True)
        elif value in _FALSE:
            setattr(opts, attr, 0 if attr == "verbose" else False)
        else:
            warnings.append(f"{ERROR}Unrecognized {key} value: {env[key]}")
    # Presence alone turns these on (opt.c).
    if "SCANCEL_CTLD" in env:
        opts.ctld = True
    if "SCANCEL_HURRY" in env:
        opts.hurry = True
    return warnings


# ---------------------------------------------------------------- running


@dataclass
class Run:
    """The stderr lines written so far and the exit status being built."""

    write: Callable[[str], None]
    status: int = 0

    def line(self, text: str) -> None:
        self.write(text + "\n")

    def fail(self, errno: int) -> None:
        self.status = max(self.status, errno)


@dataclass(frozen=True)
class Candidate:
    """One record path B or C will signal: the cluster, the id to send, and the record."""

    cluster: str
    label: str
    flags: int
    job_pk: int
    name: str
    partition: str | None
    pending: bool


Ask = Callable[[str], bool | None]


def run_scancel(
    engine: Engine,
    opts: Options,
    uid: int,
    now: int,
    write_err: Callable[[str], None],
    ask: Ask | None = None,
) -> int:
    """Run scancel against the store behind ``engine`` (a write engine); returns the exit
    status (§6.7: the largest Slurm error, & 0xFF; 1 for ids that name no active job).

    ``write_err`` receives stderr text; ``ask`` is called with the ``-i`` prompt and returns
    True (y), False (n) or None (no answer: the job is skipped and the status set to 1).

    Raises:
        ScancelExit: for a bad option value or no job identification (nothing is changed).
    """
    run = Run(write_err)
    targets = parse_ids(opts.ids)
    if not targets and not opts.has_filter and not opts.me:
        raise ScancelExit([f"{ERROR}No job identification provided"])
    job_targets = [(t, p) for t, p in targets if p.step_id is None]
    step_targets = [(t, p) for t, p in targets if p.step_id is not None]
    path_a = (
        not opts.has_filter
        and not opts.me
        and opts.signal is None
        and not opts.batch
        and not opts.interactive
        and not step_targets
    )
    with _session(engine) as session:
        user_uid = _resolve_user(session, opts, uid)
    if path_a:
        _path_a(engine, opts, uid, now, run, [t for t, _ in job_targets])
        return run.status & 0xFF
    confirmed: set[tuple[str, str]] | None = None
    if opts.interactive and ask is not None:
        with _session(engine) as session:
            candidates = _candidates(session, opts, user_uid, job_targets, step_targets, None)
        confirmed = set()
        for cand in candidates:
            answer = ask(_prompt(cand))
            if answer is None:
                run.line(f"{ERROR}no answer on standard input: job {cand.label} not cancelled")
                run.fail(1)
                break
            if answer:
                confirmed.add((cand.cluster, cand.label))
    with _session(engine) as session:
        candidates = _candidates(session, opts, user_uid, job_targets, step_targets, run)
        if confirmed is not None:
            candidates = [c for c in candidates if (c.cluster, c.label) in confirmed]
        for cand in candidates:
            if "." in cand.label:
                _signal_step(session, opts, uid, now, run, cand)
            else:
                _signal_job(session, opts, uid, now, run, cand)
    return run.status & 0xFF


@contextmanager
def _session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        yield session


def _resolve_user(session: Session, opts: Options, uid: int) -> int | None:
    """The uid ``-u``/``--me`` selects: a number is a uid; a name is looked up among the user
    names stored in the records first, as ``sacct -u`` matches them, then in passwd.

    The store is the accounting truth: a host user who happens to share a name with a
    cluster user (another uid) must not make scancel miss the jobs sacct lists for that name.

    Raises:
        ScancelExit: ``scancel: error: Invalid user name: X``, status 1.
    """
    if opts.me:
        return uid
    if opts.user is None:
        return None
    from jobacct.users import UnknownUserError, numeric_id, resolve_uid

    try:
        number = numeric_id(opts.user)
    except ValueError:
        raise ScancelExit([f"{ERROR}Invalid user name: {opts.user}"]) from None
    if number is not None:
        return number
    stored = session.scalars(select(Job.uid).where(Job.user_name == opts.user).limit(1)).first()
    if stored is not None:
        return int(stored)
    try:
        return resolve_uid(opts.user)[0]
    except UnknownUserError:
        raise ScancelExit([f"{ERROR}Invalid user name: {opts.user}"]) from None


def _flags(opts: Options) -> int:
    return (
        (KILL_JOB_BATCH if opts.batch else 0)
        | (KILL_FULL_JOB if opts.full else 0)
        | (KILL_HURRY if opts.hurry else 0)
    )


def _kind(opts: Options) -> str:
    return "batch " if opts.batch else "full " if opts.full else ""


def _request(
    opts: Options, uid: int, now: int, cluster: str | None, target: str, api: str, flags: int
) -> KillRequest:
    return KillRequest(
        cluster=cluster,
        target=target,
        signal=SIGKILL if opts.signal is None else opts.signal,
        flags=flags,
        uid=uid,
        time=now,
        api=api,
        reason=opts.reason,
        admin_comment=opts.admin_comment,
    )


def _kill(session: Session, request: KillRequest) -> SlurmErrno:
    """Apply one request; Slurm's answer for it. A refusal changed no record (apply_kill
    refuses before writing) but keeps its ``signal_request`` row: the transaction commits."""
    try:
        return request_errno(apply_kill(session, request))
    except SlurmError as exc:
        return exc.errno


def _path_a(
    engine: Engine, opts: Options, uid: int, now: int, run: Run, ids: Sequence[str]
) -> None:
    """Path A: ``slurm_kill_job`` per id; unknown and finished jobs are not errors (§6.7)."""
    if opts.verbose:
        for text in ids:
            run.line(f"{PREFIX}Terminating {_kind(opts)}job {text}")
    clusters: list[str | None] = list(opts.clusters) if opts.clusters else [None]
    with _session(engine) as session:
        for text in ids:
            for cluster in clusters:
                errno = _kill(
                    session, _request(opts, uid, now, cluster, text, "slurm_kill_job", _flags(opts))
                )
                if errno is SlurmErrno.SLURM_SUCCESS:
                    continue
                quiet = errno in (SlurmErrno.ESLURM_INVALID_JOB_ID, SlurmErrno.ESLURM_ALREADY_DONE)
                if quiet and not opts.verbose:
                    continue
                run.line(f"{ERROR}Kill job error on job id {text}: {errno.text}")
                if not quiet:
                    run.fail(int(errno))


def _matches(job: Job, opts: Options, user_uid: int | None) -> bool:
    """scancel's job filters, ANDed (``_filter_job_records``, §6.7)."""
    if job.state not in ACTIVE_STATES:
        return False
    if opts.clusters and job.cluster not in opts.clusters:
        return False
    if opts.account is not None and job.account != opts.account:
        return False
    if opts.name is not None and job.job_name != opts.name:
        return False
    if opts.partition is not None and opts.partition not in (job.partition or "").split(","):
        return False
    if opts.qos is not None and job.qos != opts.qos:
        return False
    if opts.reservation is not None and job.reservation != opts.reservation:
        return False
    if opts.state is not None and job.state != opts.state:
        return False
    if user_uid is not None and job.uid != user_uid:
        return False
    if opts.wckey is not None and not _wckey_matches(job.wckey, opts.wckey):
        return False
    return opts.nodes is None or _on_nodes(job.nodelist, opts.nodes)


def _wckey_matches(job_key: str | None, wanted: str) -> bool:
    # A leading '*' marks a wckey applied by default: "--wckey=k" matches "k" and "*k",
    # "--wckey=*k" only "*k" (scancel.c).
    if job_key is None:
        return False
    if not wanted.startswith("*") and job_key.startswith("*"):
        job_key = job_key[1:]
    return job_key == wanted


def _on_nodes(nodelist: str | None, nodes: frozenset[str]) -> bool:
    if not nodelist or nodelist == "None assigned":
        return False
    try:
        return not nodes.isdisjoint(hostlist.expand_hostlist(nodelist))
    except hostlist.BadHostlist:
        return False


def _candidate(job: Job, label: str, flags: int) -> Candidate:
    return Candidate(
        cluster=job.cluster,
        label=label,
        flags=flags,
        job_pk=job.id,
        name=job.job_name,
        partition=job.partition,
        pending=job.state == "PENDING",
    )


def _record_label(job: Job) -> tuple[str, int]:
    """The id scancel sends for a record it loaded, and the flags that keep it to that
    record: a meta record alone is ``N`` with ``KILL_ARRAY_TASK``."""
    if job.array_job_id is not None and job.array_job_id == job.job_id_raw:
        if job.array_task_id is None:
            return str(job.job_id_raw), KILL_ARRAY_TASK
        return f"{job.array_job_id}_{job.array_task_id}", 0
    if job.het_job_id is not None and job.het_job_id == job.job_id_raw:
        return str(job.job_id_raw), 0
    return display_id(job), 0


def _candidates(
    session: Session,
    opts: Options,
    user_uid: int | None,
    job_targets: Sequence[tuple[str, KillTarget]],
    step_targets: Sequence[tuple[str, KillTarget]],
    run: Run | None,
) -> list[Candidate]:
    """Path B's job list (pending first) and path C's steps; ``run`` gets the not-found
    messages (None: a silent pass, for the ``-i`` questions)."""
    found: list[Candidate] = []
    clusters: list[str | None] = list(opts.clusters) if opts.clusters else [None]
    flags = _flags(opts)
    for text, target in job_targets:
        hits: list[Candidate] = []
        for cluster in clusters:
            try:
                items = resolve_targets(session, cluster, text, flags)
            except SlurmError:
                continue
            for job, task, label in items:
                if job.state not in ACTIVE_STATES:
                    continue
                if task is None and target.tasks is None and target.het_offset is None:
                    label, extra = _record_label(job)
                else:
                    extra = 0
                if _matches(job, opts, user_uid):
                    hits.append(_candidate(job, label, flags | extra))
        if not hits and run is not None and not _active_exists(session, opts, target, text):
            if not opts.quiet:
                run.line(f"{ERROR}Kill job error on job id {text}: Invalid job id specified")
            run.fail(1)
        found += hits
    if not job_targets and not step_targets:
        stmt = select(Job).where(Job.state.in_(sorted(ACTIVE_STATES)))
        if opts.clusters:
            stmt = stmt.where(Job.cluster.in_(opts.clusters))
        for job in session.scalars(stmt.order_by(Job.cluster, Job.job_id_raw)):
            if _matches(job, opts, user_uid):
                label, extra = _record_label(job)
                found.append(_candidate(job, label, flags | extra))
        if not found and run is not None and opts.verbose:
            run.line(f"{ERROR}No active jobs match ALL job filters, including: {_describe(opts)}")
    found = _without_het_members(session, found)
    # Pending jobs first (scancel cancels them before the others, so that a job cannot
    # start in between), then in order of appearance.
    unique = list({(c.cluster, c.label): c for c in found}.values())
    ordered = [c for c in unique if c.pending] + [c for c in unique if not c.pending]
    for text, target in step_targets:
        ordered += _step_candidates(session, opts, user_uid, text, target, clusters, run)
    return ordered


def _active_exists(session: Session, opts: Options, target: KillTarget, text: str) -> bool:
    """Whether the id names an active job that the filters excluded (then nothing is said)."""
    clusters: list[str | None] = list(opts.clusters) if opts.clusters else [None]
    for cluster in clusters:
        try:
            items = resolve_targets(session, cluster, text, 0)
        except SlurmError:
            continue
        if any(job.state in ACTIVE_STATES for job, _, _ in items):
            return True
    return False


def _without_het_members(session: Session, found: list[Candidate]) -> list[Candidate]:
    """Drop het components whose leader is signalled too (the leader's id reaches them)."""
    leaders = {(c.cluster, c.label) for c in found if "+" not in c.label}
    kept: list[Candidate] = []
    for cand in found:
        if "+" in cand.label:
            leader = cand.label.split("+", 1)[0]
            if (cand.cluster, leader) in leaders:
                continue
        kept.append(cand)
    return kept


def _step_candidates(
    session: Session,
    opts: Options,
    user_uid: int | None,
    text: str,
    target: KillTarget,
    clusters: Sequence[str | None],
    run: Run | None,
) -> list[Candidate]:
    """Path C's id check: the step's job must be active (§6.7, golden case 18)."""
    hits: list[Candidate] = []
    for cluster in clusters:
        try:
            items = resolve_targets(session, cluster, target.job_part, 0)
        except SlurmError:
            continue
        for job, task, _label in items:
            if task is None and job.state in ACTIVE_STATES and _matches(job, opts, user_uid):
                hits.append(_candidate(job, text, 0))
                break
    if not hits and run is not None:
        if not opts.quiet:
            run.line(f"{ERROR}Kill job error on job step id {text}: Invalid job id specified")
        run.fail(1)
    return hits[:1] if opts.clusters is None else hits


def _describe(opts: Options) -> str:
    """The filters as scancel lists them after "including: " (each followed by a space)."""
    parts = [
        ("account", opts.account),
        ("job_name", opts.name),
        ("partition", opts.partition),
        ("qos", opts.qos),
        ("reservation", opts.reservation),
        ("state", opts.state),
        ("user_name", opts.user),
        ("wckey", opts.wckey),
        ("nodelist", opts.nodelist),
    ]
    return "".join(f"{key}={value} " for key, value in parts if value is not None)


def _prompt(cand: Candidate) -> str:
    kind = "step_id" if "." in cand.label else "job_id"
    return f"Cancel {kind}={cand.label} name={cand.name} partition={cand.partition or ''} [y/n]? "


def _signal_job(
    session: Session, opts: Options, uid: int, now: int, run: Run, cand: Candidate
) -> None:
    """Path B, one job: ``slurm_kill_job``; with SIGKILL, gone/finished jobs are fine."""
    if opts.verbose:
        what = "Terminating " if opts.signal is None else f"Signal {opts.signal} to "
        run.line(f"{PREFIX}{what}{_kind(opts)}job {cand.label}")
    errno = _kill(
        session, _request(opts, uid, now, cand.cluster, cand.label, "slurm_kill_job", cand.flags)
    )
    if errno is SlurmErrno.SLURM_SUCCESS:
        return
    if (opts.signal in (None, SIGKILL)) and errno in (
        SlurmErrno.ESLURM_INVALID_JOB_ID,
        SlurmErrno.ESLURM_ALREADY_DONE,
    ):
        return
    run.line(f"{ERROR}Kill job error on job id {cand.label}: {errno.text}")
    run.fail(int(errno))


def _signal_step(
    session: Session, opts: Options, uid: int, now: int, run: Run, cand: Candidate
) -> None:
    """Path C, one step. The message names the job only (scancel prints the job id there,
    golden case 18: ``... on job step id 42: Invalid job id specified``)."""
    if opts.signal is None or opts.ctld:
        api = "slurm_kill_job_step"
    elif opts.signal == SIGKILL:
        api = "slurm_terminate_job_step"
    else:
        api = "slurm_signal_job_step"
    if opts.verbose:
        what = "Terminating" if opts.signal is None else f"Signal {opts.signal} to"
        run.line(f"{PREFIX}{what} step {cand.label}")
    errno = _kill(session, _request(opts, uid, now, cand.cluster, cand.label, api, cand.flags))
    if errno is SlurmErrno.SLURM_SUCCESS:
        return
    job_part = cand.label.split(".", 1)[0]
    run.line(f"{ERROR}Kill job error on job step id {job_part}: {errno.text}")
    run.fail(int(errno))


def environment() -> dict[str, str]:
    """The ``SCANCEL_*`` and ``SLURM_CLUSTERS`` variables of this process."""
    return {
        k: v for k, v in os.environ.items() if k.startswith("SCANCEL_") or k == "SLURM_CLUSTERS"
    }
