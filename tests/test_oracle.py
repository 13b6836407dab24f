"""Real Slurm 22.05 as the oracle: the same rows, real ``sacct`` and ``jobacct sacct``.

tests/oracle/rows.py writes deterministic rows straight into the oracle slurmdbd's
``oracle_job_table`` / ``oracle_step_table`` (tests/oracle/up.sh brings it up; ``.ci/run``
does that before the suite, otherwise this module does and stops it afterwards). The same
tables, dumped with ``mysql -B``, are loaded into a SQLite store by ``jobacct import
slurmdbd``. Then every option set of ``OPTION_SETS`` runs through both, with ``TZ=UTC``,
``-M oracle`` and an explicit window, and every line pair must be equal, except the known
differences of tests/oracle/known.py. Select with ``-m oracle``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.oracle import harness, known
from tests.oracle.compare import Outcome, compare
from tests.oracle.rows import (
    JOB_COLUMNS,
    LIVE_WINDOW,
    MAIN_WINDOW,
    STEP_COLUMNS,
    USERS,
    generate,
    mysql_tsv,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
JOBACCT = str(Path(sys.executable).parent / "jobacct")
pytestmark = pytest.mark.oracle

MAIN = ["-S", MAIN_WINDOW[0], "-E", MAIN_WINDOW[1]]
LIVE = ["-S", LIVE_WINDOW[0], "-E", LIVE_WINDOW[1]]
#: fields of the live window's jobs that do not follow the clock (no Elapsed, End, CPUTime)
LIVE_FIELDS = (
    "JobID,JobIDRaw,JobName,User,Account,State,ExitCode,DerivedExitCode,Submit,Eligible,"
    "Start,NodeList,NNodes,AllocCPUS,Reason,Timelimit"
)
STATES = ("PD", "R", "S", "CD", "CA", "F", "TO", "NF", "PR", "BF", "DL", "OOM", "RQ", "RS", "RV")
WIDTHS = (
    "JobID%20,JobName%-12,User%5,State%25,ExitCode%5,DerivedExitCode%-9,Comment%30,"
    "NodeList%-3,Elapsed%4,Start%-21"
)

#: option set id -> sacct arguments (after ``-M oracle``)
OPTION_SETS: dict[str, list[str]] = {
    "default": ["-a", *MAIN],
    "X": ["-a", "-X", *MAIN],
    "P": ["-a", "-P", *MAIN],
    "p": ["-a", "-p", *MAIN],
    "l": ["-a", "-l", *MAIN],
    "b": ["-a", "-b", *MAIN],
    "n": ["-a", "-n", *MAIN],
    "ALL-P": ["-a", "-P", "-o", "ALL", *MAIN],
    "ALL": ["-a", "-o", "ALL", *MAIN],
    "ALL-D-P": ["-a", "-D", "-P", "-o", "ALL", *MAIN],
    "X-ALL-P": ["-a", "-X", "-P", "-o", "ALL", *MAIN],
    "widths": ["-a", "-o", WIDTHS, *MAIN],
    "X-n-P-cpu": ["-a", "-X", "-n", "-P", "-o", "JobID,State,ExitCode,TotalCPU,UserCPU", *MAIN],
    "delimiter": ["-a", "-P", "--delimiter=;", "-o", "JobID,JobName,Comment,ExitCode", *MAIN],
    "part-window": [
        "-a",
        "-P",
        "-o",
        "ALL",
        "-S",
        "2026-12-01T08:20:00",
        "-E",
        "2026-12-01T11:20:00",
    ],
    "j-list": ["-P", "-o", "ALL", "-j", "1000,1137,1300,2003,2100,2102,3000,3001", *MAIN],
    "j-array-het": ["-P", "-j", "4000_1,4100_2,4200+1,5100", *MAIN],
    "j-array-all": ["-j", "4000,4100", *MAIN],
    "j-het-leader": ["-l", "-j", "4200", *MAIN],
    "j-het-no": ["-P", "--whole-hetjob=no", "-j", "4200", *MAIN],
    "j-het-yes": ["-P", "--whole-hetjob=yes", "-j", "4201", *MAIN],
    "j-steps": ["-P", "-j", "3000.batch,3000.0,3000.extern,3000.interactive,4200+1.0", *MAIN],
    "j-D": ["-D", "-P", "-o", "ALL", "-j", "5100", *MAIN],
    # root only: sacct checks every -u item (name or uid) against this host's passwd, where
    # the oracle's users do not exist ("sacct: error: Invalid user id: 50001")
    "u": ["-u", "root", *MAIN],
    "u-X-P": ["-X", "-P", "-u", "0", *MAIN],
    "A": ["-a", "-A", "chem", *MAIN],
    "A-X-P": ["-a", "-X", "-P", "-A", "physics,root", "-o", "JobID,User,Account,State", *MAIN],
    "D": ["-a", "-D", *MAIN],
    "array": ["-a", "--array", "-P", *MAIN],
    "array-meta": ["-a", "-P", "-o", LIVE_FIELDS, *LIVE],
    "live": ["-a", "-o", LIVE_FIELDS, *LIVE],
    "live-array": ["-a", "-P", "--array", "-o", LIVE_FIELDS, *LIVE],
    "live-s": ["-a", "-P", "-s", "PD,R,S", "-o", LIVE_FIELDS, *LIVE],
    "live-j": ["-P", "-j", "9100,9000", "-o", LIVE_FIELDS, *LIVE],
    **{
        f"s-{state}": [
            "-a",
            "-P",
            "-s",
            state,
            "-o",
            "JobID,User,State,ExitCode,Submit,Start,End,Elapsed",
            *MAIN,
        ]
        for state in STATES
    },
    "s-several-X": ["-a", "-X", "-s", "CA,F,OOM,RQ", *MAIN],
    "s-part-window": [
        "-a",
        "-P",
        "-s",
        "CA,TO,NF",
        "-S",
        "2026-12-01T08:30:00",
        "-E",
        "2026-12-01T09:00:00",
    ],
    "s-R-live": ["-a", "-P", "-s", "R", "-o", LIVE_FIELDS, *LIVE],
    "N": ["-a", "-N", "oracle2", *MAIN],
    "N-X": ["-a", "-X", "-P", "-N", "oracle[3-4]", *MAIN],
    "r": ["-a", "-X", "-P", "-r", "batch", *MAIN],
    "name": ["-a", "--name=arr,het", *MAIN],
    "i-I": ["-a", "-X", "-i", "2", "-I", "4", *MAIN],
    "k-K": ["-a", "-X", "-P", "-k", "60", "-K", "120", *MAIN],
    "q": ["-a", "-X", "-q", "normal", *MAIN],
    "W": ["-a", "-W", "wck", *MAIN],
    "C": ["-a", "-C", "a&b", *MAIN],
    "F": ["-a", "-X", "-P", "-F", "SchedMain", *MAIN],
    "g": ["-a", "-X", "-P", "-g", "0", *MAIN],
    "g-name": ["-a", "-X", "-g", "root", *MAIN],
    "R": ["-a", "-R", "BeginTime", *MAIN],
    "T": [
        "-a",
        "-T",
        "-P",
        "-o",
        "JobID,Start,End,Elapsed,Suspended,CPUTime,TotalCPU",
        "-S",
        "2026-12-01T08:35:00",
        "-E",
        "2026-12-01T09:20:00",
    ],
    "j-tasks-steps": ["-P", "-o", "JobID,JobIDRaw,State", "-j", "4000_3,4100_2,1000.batch", *MAIN],
    "b-X": ["-a", "-b", "-X", *MAIN],
    "l-X": ["-a", "-l", "-X", *MAIN],
    "D-X": ["-a", "-D", "-X", "-P", *MAIN],
    "misc-ALL": ["-P", "-o", "ALL", "-j", ",".join(str(6000 + i) for i in range(13)), *MAIN],
    "misc-l": ["-l", "-j", ",".join(str(6000 + i) for i in range(13)), *MAIN],
}

#: option set -> environment variables given to both commands
ENV_SETS: dict[str, tuple[dict[str, str], list[str]]] = {
    "env-time-format": (
        {"SLURM_TIME_FORMAT": "%s"},
        ["-a", "-P", "-o", "JobID,Submit,Start,End", *MAIN],
    ),
    "env-time-relative": (
        {"SLURM_TIME_FORMAT": "%d.%m. %H:%M"},
        ["-a", "-o", "JobID,Eligible,End", *MAIN],
    ),
    "env-sacct-format": ({"SACCT_FORMAT": "JobID%-20,State%12,ExitCode"}, ["-a", *MAIN]),
}

#: summary over the whole run, printed by tests/conftest.py's pytest_terminal_summary
SUMMARY: dict[str, Any] = {"sets": 0, "pairs": 0, "same": 0, "explained": {}, "differ": 0}


@pytest.fixture(scope="module")
def oracle() -> Iterator[None]:
    """The oracle, up (brought up here, and down afterwards, if nobody else did)."""

    def unavailable(reason: str) -> None:
        if IN_CI:
            pytest.fail(f"oracle: {reason} (CI=true: the oracle test must run)")
        pytest.skip(f"oracle: {reason}")

    missing = harness.missing_tools()
    if missing:
        unavailable(f"missing {', '.join(missing)} (Debian: slurmdbd slurm-client munge ...)")
    started = False
    if not harness.is_up():
        if os.geteuid() != 0:
            unavailable("not running, and only root can start it (tests/oracle/up.sh)")
        reason = harness.bring_up()
        started = True
        if reason is not None:
            harness.bring_down()
            unavailable(f"could not be brought up: {reason}")
    try:
        yield
    finally:
        if started:
            harness.bring_down()


@pytest.fixture(scope="module")
def store(oracle: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The generated rows, in the oracle's tables and in a jobacct store made from them."""
    rows = generate(harness.associations())
    harness.load(rows)
    where = tmp_path_factory.mktemp("oracle")
    harness.dump("job", where / "job.tsv")
    harness.dump("step", where / "step.tsv")
    harness.dump("qos", where / "qos.tsv")
    harness.dump("tres", where / "tres.tsv")
    # tests/test_oracle_findings.py imports rows.mysql_tsv's text instead: the same bytes
    steps = sorted(rows.steps, key=lambda r: (r["job_db_inx"], r["id_step"], r["step_het_comp"]))
    assert (where / "job.tsv").read_text() == mysql_tsv(rows.jobs, JOB_COLUMNS)
    assert (where / "step.tsv").read_text() == mysql_tsv(steps, STEP_COLUMNS)
    users = where / "users"
    users.write_text("".join(f"{uid} {name}\n" for name, (uid, _) in USERS.items()))
    db = str(where / "oracle.sqlite")
    _run([JOBACCT, "--db", db, "db", "init"])
    _run(
        [
            JOBACCT,
            "--db",
            db,
            "import",
            "slurmdbd",
            "--job-table",
            str(where / "job.tsv"),
            "--step-table",
            str(where / "step.tsv"),
            "--cluster",
            "oracle",
            "--user-map",
            str(users),
            "--qos-table",
            str(where / "qos.tsv"),
            "--tres-table",
            str(where / "tres.tsv"),
        ]
    )
    SUMMARY["dir"] = str(where)
    return db


def _run(argv: list[str]) -> str:
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TZ": "UTC"},
    )
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def _jobacct(
    db: str, args: list[str], extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TZ": "UTC", "JOBACCT_SACCT_PROCESSES": "1"}
    for name in ("SACCT_FORMAT", "SLURM_TIME_FORMAT", "NO_COLOR"):
        env.pop(name, None)
    env.update(extra or {})
    return subprocess.run(
        [JOBACCT, "--db", db, "sacct", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        errors="surrogateescape",
    )


def _record(name: str, outcome: Outcome, where: Path) -> None:
    SUMMARY["sets"] += 1
    SUMMARY["pairs"] += outcome.pairs
    SUMMARY["same"] += outcome.same
    SUMMARY["differ"] += len(outcome.unexplained)
    for key, count in outcome.explained.items():
        SUMMARY["explained"][key] = SUMMARY["explained"].get(key, 0) + count
    if outcome.unexplained:
        with (where / "differences.txt").open("a", errors="backslashreplace") as log:
            for number, real, ours, cells in outcome.unexplained:
                log.write(
                    f"[{name}] line {number}: {cells}\n  sacct:   {real}\n  jobacct: {ours}\n"
                )


@pytest.mark.parametrize("name", [*OPTION_SETS, *ENV_SETS])
def test_sacct_matches_real_sacct(name: str, store: str) -> None:
    env, options = ENV_SETS[name] if name in ENV_SETS else ({}, OPTION_SETS[name])
    args = ["-M", "oracle", *options]
    real = harness.sacct(args, env)
    ours = _jobacct(store, args, env)
    extra = [a for a in args if a in known.DELIBERATE_OPTIONS]
    if extra:
        # an option jobacct has and Slurm 22.05.8 does not: sacct must refuse it
        assert real.returncode != 0 and "option" in real.stderr, real.stderr
        assert ours.returncode == 0, ours.stderr
        SUMMARY["sets"] += 1
        SUMMARY["pairs"] += 1
        SUMMARY["explained"][extra[0]] = SUMMARY["explained"].get(extra[0], 0) + 1
        return
    assert real.returncode == 0, f"real sacct {args}: {real.stderr}"
    assert ours.returncode == ours.returncode == 0, f"jobacct sacct {args}: {ours.stderr}"
    assert real.stdout.strip(), f"real sacct {args} printed nothing: the rows are not there"
    head = None
    if "-n" in args:
        head = harness.sacct([a for a in args if a != "-n"], env).stdout
    outcome = compare(args, real.stdout, ours.stdout, known.rules(), head)
    _record(name, outcome, Path(SUMMARY["dir"]))
    shown = "\n".join(
        f"line {n}: {cells}\n  sacct:   {r}\n  jobacct: {o}"
        for n, r, o, cells in outcome.unexplained[:10]
    )
    if outcome.unexplained and name in known.DELIBERATE_SETS:
        rule, _ = known.DELIBERATE_SETS[name]
        if all(rule(r, o) for _, r, o, _ in outcome.unexplained):
            key = f"{name} (deliberate)"
            SUMMARY["explained"][key] = SUMMARY["explained"].get(key, 0) + len(outcome.unexplained)
            SUMMARY["differ"] -= len(outcome.unexplained)
            return
    if outcome.unexplained and name in known.OPEN_SETS:
        SUMMARY["open"] = SUMMARY.get("open", 0) + len(outcome.unexplained)
        pytest.xfail(f"open difference ({len(outcome.unexplained)} lines): {known.OPEN_SETS[name]}")
    assert not outcome.unexplained, (
        f"{len(outcome.unexplained)} of {outcome.pairs} lines differ for sacct {' '.join(args)}"
        f" (first 10):\n{shown}"
    )
    used = {p for k in outcome.explained for p in k.split("+")}
    pending = sorted(used & set(known.PENDING_FIX))
    if pending:
        reasons = "; ".join(known.PENDING_FIX[p][1] for p in pending)
        pytest.xfail(f"being fixed on main: {reasons}")
    still_open = sorted(used & set(known.OPEN))
    if still_open:
        pytest.xfail("open difference: " + "; ".join(known.OPEN[p][1] for p in still_open))


def test_user_names_come_from_the_associations(store: str) -> None:
    """sacct names a job's user from its association, not from this host's passwd."""
    args = ["-M", "oracle", "-X", "-P", "-n", "-o", "JobID,User,UID,Account", "-j", "1000,1001",
            *MAIN]  # fmt: skip
    real = harness.sacct(args).stdout
    assert real == "1000|orc_alice|50001|physics\n1001|orc_bob|50002|physics\n"
    # up.sh made these users with sacctmgr only; whatever this host's passwd says about
    # uids 50001/50002, the names are the associations'
    assert _jobacct(store, args).stdout == real


#: job-level keys whose values the two JSON documents must agree on (jsondoc.py lists the
#: values jobacct deliberately prints differently: exit codes, CPU times, frequencies,
#: the pending tasks of an array record in ``array.task``...)
JSON_VALUES = (
    "job_id",
    "name",
    "user",
    "account",
    "partition",
    "nodes",
    "array.job_id",
    "array.task_id",
    "array.limits",
    "het",
    "state",
    "time.submission",
    "time.start",
    "time.end",
    "time.eligible",
)


def _paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value; lists contribute their elements' paths as ``[]``."""
    if isinstance(value, dict):
        out = {prefix} if prefix else set()
        for key, item in value.items():
            out |= _paths(item, f"{prefix}.{key}" if prefix else key)
        return out
    if isinstance(value, list):
        out = {prefix}
        for item in value:
            out |= _paths(item, prefix + "[]")
        return out
    return {prefix}


def _get(job: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        job = job.get(part) if isinstance(job, dict) else None  # type: ignore[assignment]
    return job


JSON_SETS: dict[str, list[str]] = {
    "all": ["-a", *MAIN],
    "pending-only": ["-a", "-s", "PD", *MAIN],
    "jobs": ["-j", "3000,4000,4200,5100", *MAIN],
    "live": ["-a", *LIVE],
}


@pytest.mark.parametrize("name", list(JSON_SETS))
def test_json_matches_real_sacct_structurally(name: str, store: str) -> None:
    args = ["-M", "oracle", "--json", *JSON_SETS[name]]
    real = json.loads(harness.sacct(args).stdout)
    ours = json.loads(_jobacct(store, args).stdout)
    assert set(ours) >= {"jobs", "errors", "warnings", "meta"}
    assert len(ours["jobs"]) == len(real["jobs"])
    pairs = differ = 0
    problems: list[str] = []
    real_keys = set().union(*(_paths(job) for job in real["jobs"]))
    our_keys = set().union(*(_paths(job) for job in ours["jobs"]))
    for path in sorted(real_keys | our_keys):
        pairs += 1
        if (path in real_keys) != (path in our_keys):
            if path in known.JSON_DELIBERATE:
                SUMMARY["explained"][path] = SUMMARY["explained"].get(path, 0) + 1
                continue
            differ += 1
            problems.append(f"key {path}: {'only sacct' if path in real_keys else 'only jobacct'}")

    # sacct --json keeps slurmdbd's order; jobacct sorts as the text output does
    def order(job: dict[str, Any]) -> tuple[Any, ...]:
        return (job.get("job_id"), _get(job, "time.submission"))

    for rj, oj in zip(sorted(real["jobs"], key=order), sorted(ours["jobs"], key=order)):
        for key in JSON_VALUES:
            pairs += 1
            if _get(rj, key) != _get(oj, key):
                differ += 1
                problems.append(
                    f"job {rj.get('job_id')} {key}: sacct {_get(rj, key)!r} "
                    f"jobacct {_get(oj, key)!r}"
                )
    SUMMARY["sets"] += 1
    SUMMARY["pairs"] += pairs
    SUMMARY["same"] += (
        pairs
        - differ
        - sum(1 for p in known.JSON_DELIBERATE if (p in real_keys) != (p in our_keys))
    )
    SUMMARY["differ"] += differ
    if problems and all(p.split(": ")[0].split(" ", 2)[-1] in known.OPEN_JSON for p in problems):
        SUMMARY["open"] = SUMMARY.get("open", 0) + len(problems)
        pytest.xfail(
            f"open difference ({len(problems)} values): " + "; ".join(known.OPEN_JSON.values())
        )
    assert not problems, f"{differ} of {pairs} JSON keys/values differ:\n" + "\n".join(
        problems[:30]
    )


def summary_line() -> str | None:
    """One line for the terminal summary, or None when no option set ran."""
    if not SUMMARY["sets"]:
        return None
    explained = ", ".join(f"{k} {v}" for k, v in sorted(SUMMARY["explained"].items()))
    return (
        f"oracle: {SUMMARY['sets']} option sets, {SUMMARY['pairs']} (option set x line) pairs "
        f"compared, {SUMMARY['same']} identical, {SUMMARY['differ']} differ"
        f" ({SUMMARY.get('open', 0)} of them open differences, see tests/oracle/known.py)"
        f"{'; known: ' + explained if explained else ''}"
        f"{'; details in ' + SUMMARY['dir'] + '/differences.txt' if SUMMARY['differ'] else ''}"
    )
