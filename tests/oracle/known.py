"""The differences between real sacct and jobacct that the oracle test accepts.

``DELIBERATE``: jobacct differs from Slurm 22.05 on purpose; each entry is also in the
README's "Differences the oracle accepts" list, with the same key and reason.
``PENDING_FIX``: bugs being fixed on ``main``; while one still shows, the option set is an
expected failure (``xfail``) naming it, never a pass. Each rule gets (field, sacct's cell,
jobacct's cell, the option set) with the cells stripped of padding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from tests.oracle.compare import Rule

_CODE = re.compile(r"(\d+):(\d+)")


def _exit_minus_128(name: str, real: str, ours: str, args: Sequence[str]) -> bool:
    # print.c PRINT_EXITCODE: "if (tmp_int >= 128) tmp_int -= 128" (slurm-semantics.md §1.2);
    # jobacct prints WEXITSTATUS unchanged. Fixed-width cells may end in "+" (truncated).
    # A %N width cuts the header too ("ExitC"), so a prefix names the field.
    if not name or not "ExitCode".startswith(name):
        return False
    r, o = _CODE.fullmatch(real), _CODE.fullmatch(ours)
    return bool(r and o and int(o[1]) >= 128 and int(o[1]) - 128 == int(r[1]) and r[2] == o[2])


def _x_cpu_zero(name: str, real: str, ours: str, args: Sequence[str]) -> bool:
    # -X: slurmdbd reads no steps (JOBCOND_FLAG_NO_STEP), so the step sums print 00:00:00
    # (slurm-semantics.md §4.5); jobacct prints the sums.
    x = any(
        a in ("-X", "--allocations") or (a.startswith("-") and not a.startswith("--") and "X" in a)
        for a in args
    )
    return x and name in ("TotalCPU", "UserCPU", "SystemCPU") and real == "00:00:00"


#: key -> (rule, reason). Shown in README.md, "Differences the oracle accepts".
DELIBERATE: dict[str, tuple[Rule, str]] = {}

#: options jobacct takes that real sacct 22.05.8 refuses ("unrecognized option"); an option
#: set using one checks that refusal instead of comparing lines. Also in README.md.
DELIBERATE_OPTIONS: dict[str, str] = {
    "--array": "added to sacct after 22.05 (23.02); jobacct expands pending array tasks",
    "-R": "not an option of sacct 22.05.8 (invalid option -- 'R'); jobacct filters on the "
    "stored reason",
}

#: key -> (rule, what main is fixing). Expected failures until main's fix is merged.
PENDING_FIX: dict[str, tuple[Rule, str]] = {
    "exitcode-minus-128": (
        _exit_minus_128,
        "ExitCode of an exit status >= 128 prints 128 less in sacct (raw 35072: 9:0)",
    ),
    "X-cpu-times-zero": (
        _x_cpu_zero,
        "with -X, TotalCPU/UserCPU/SystemCPU of job lines print 00:00:00 in sacct",
    ),
}


#: key -> (rule, analysis): differences found by the oracle and not fixed yet. They are
#: expected failures (xfail) naming the key, never passes; each is in the README's list.
OPEN: dict[str, tuple[Rule, str]] = {}


def _ever_suspended_only(real: str, ours: str) -> bool:
    # -s S: jobacct keeps the total suspended time, not slurmdbd's suspend intervals
    # (<cluster>_suspend_table), so it lists the jobs ever suspended that ran in the window;
    # sacct lists those with an interval in it, and the rows here write none. Job 6002 is
    # the only ended job with a suspended time.
    return real == "<no line>" and ours.startswith("6002")


#: option set -> (line rule, reason): deliberate differences that are whole lines (one side
#: has a line the other has not). Also in README.md.
DELIBERATE_SETS: dict[str, tuple[Callable[[str, str], bool], str]] = {
    "s-S": (
        _ever_suspended_only,
        "-s S matches jobs ever suspended that ran in the window (no suspend intervals stored)",
    ),
}

#: option set -> analysis, for open differences that cannot be told cell by cell (lines
#: missing, or bytes that are not text). Expected failures while they differ.
OPEN_SETS: dict[str, str] = {}

#: JSON values known to differ and not fixed yet (expected failure of the JSON test).
OPEN_JSON: dict[str, str] = {}


def rules() -> dict[str, Rule]:
    return {key: rule for key, (rule, _) in {**DELIBERATE, **PENDING_FIX, **OPEN}.items()}


#: JSON key paths one side has and the other not, on purpose (jobacct/formats/jsondoc.py):
#: jobacct does not store CPU governors, so ``CPU.governor`` is an empty list.
JSON_DELIBERATE: dict[str, str] = {
    "steps[].CPU.governor[]": "CPU governors are not stored: jobacct prints an empty list",
}
