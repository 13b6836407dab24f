"""Loading slurmdbd's own tables (``<cluster>_job_table``, ``<cluster>_step_table``).

The input is what ``mysql -B -e 'SELECT * FROM golden_job_table'`` prints: tab-separated,
a header line, ``NULL`` for SQL NULL, and ``\\t \\n \\\\ \\0`` escaped (:func:`read_mysql_tsv`).
:func:`import_slurmdbd` turns the raw rows into jobacct records the way Slurm 22.05's sacct
reads and prints them (golden/README.md "How exit codes are stored", slurm-semantics.md §1.1,
§1.6, §5.1, §5.3, §5.4):

* exit codes are raw wait(2) statuses; a step's ``-2`` (NO_VAL written signed) is no exit
  code at all; a job's NO_VAL ``derived_ec`` prints ``0:0``;
* state numbers become names, with the flags slurmdbd stores (REQUEUED, RESIZING, REVOKED);
* 0 times become NULL (except Submit), 0 / NO_VAL array and het ids become NULL;
* ``state_reason_prev`` becomes its string by **Slurm 22.05's numbering** of
  ``enum job_state_reason`` (numbers differ between releases);
* TRES id strings (``1=1,2=16000,4=1,5=1``) become sacct's text
  (``billing=1,cpu=1,mem=16000M,node=1``);
* a step's TRES usage strings become sacct's TRESUsageIn*/Out* text (CPU time, converted
  bytes, node names, task ids) and the typed statistics sacct derives from them (MaxRSS,
  AveVMSize, MaxDiskRead, MinCPU...); ``task_dist`` becomes its Layout name;
* the job's CPU times are the sums over its finished steps, as slurmdbd reports them.

Records are keyed by (cluster, ``id_job``, ``time_submit``) like slurmdbd's unique index, so a
second import of the same dump changes nothing. Every row is read and checked before anything
is written: a dump with a bad row writes nothing. The caller owns the transaction.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hostlist
from sqlalchemy.orm import Session

from jobacct import inputs, store
from jobacct.errors import ImportFormatError
from jobacct.exitcode import ZERO, ExitCode
from jobacct.importer import ImportResult
from jobacct.jobid import MAX_JOB_ID
from jobacct.model import Job
from jobacct.slurmtime import format_elapsed
from jobacct.units import format_size

__all__ = [
    "JOB_STATE_FLAGS",
    "JOB_STATE_NAMES",
    "REASONS_2205",
    "TRES_NAMES",
    "SlurmdbdImportResult",
    "format_tres",
    "format_tres_usage",
    "import_slurmdbd",
    "job_flags_text",
    "read_mysql_tsv",
    "reason_text",
    "state_name",
    "step_usage",
    "task_layout_name",
    "tres_count",
]

#: Longest text a cell may hold (the shim's LongText, and any name Slurm prints).
MAX_TEXT = 65535
#: The last second a Slurm time can name (uint32 epoch: 2106-02-07).
MAX_EPOCH = 0xFFFFFFFF
#: Counts are uint64 in slurmdbd (TRES, memory): larger text is no count.
MAX_UINT64 = 0xFFFFFFFFFFFFFFFF
NO_VAL = 0xFFFFFFFE
INFINITE = 0xFFFFFFFF
NO_VAL64 = 0xFFFFFFFFFFFFFFFE
INFINITE64 = 0xFFFFFFFFFFFFFFFF
#: ``MEM_PER_CPU``: the flag bit slurmctld sets in ``mem_req`` for ``--mem-per-cpu``.
MEM_PER_CPU = 0x8000000000000000
#: Most errors listed in one ImportFormatError message.
_MAX_SHOWN = 50

# ---------------------------------------------------------------- mysql -B dumps

_UNESCAPE = {"t": "\t", "n": "\n", "\\": "\\", "0": "\0"}


def _unescape(cell: str) -> str:
    if "\\" not in cell:
        return cell
    out: list[str] = []
    i = 0
    while i < len(cell):
        ch = cell[i]
        if ch == "\\" and i + 1 < len(cell) and cell[i + 1] in _UNESCAPE:
            out.append(_UNESCAPE[cell[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def read_mysql_tsv(path: str | Path) -> list[dict[str, str | None]]:
    """Read a ``mysql -B`` (batch mode) dump: one dict per row, keyed by the header's names.

    Cells are tab separated; a cell that is exactly ``NULL`` is SQL NULL (``None``); mysql's
    batch escapes ``\\t``, ``\\n``, ``\\\\`` and ``\\0`` are undone (any other backslash is kept).
    Row *k* of the result is on line *k* + 2 of the file (the header is line 1).

    Raises:
        ImportFormatError: no header, a duplicated column name, or rows whose number of
            cells differs from the header's; every such line is listed.
        OSError, UnicodeDecodeError: the file cannot be read as UTF-8.
    """
    source = str(path)
    text = inputs.read_text(path)  # through the daemon: the client's file (jobacct.inputs)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not lines[0].strip():
        raise ImportFormatError(f"{source}: no header line (expected a mysql -B dump)")
    header = [_unescape(name) for name in lines[0].rstrip("\r").split("\t")]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ImportFormatError(f"{source}:1: column '{name}' appears twice in the header")
        seen.add(name)
    rows: list[dict[str, str | None]] = []
    errors: list[str] = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            errors.append(f"{source}:{number}: {len(cells)} fields, the header has {len(header)}")
            continue
        pairs = zip(header, cells, strict=True)
        rows.append({name: None if cell == "NULL" else _unescape(cell) for name, cell in pairs})
    if errors:
        _raise(source, errors)
    return rows


def _raise(source: str, errors: list[str]) -> None:
    shown = "\n".join("  " + e for e in errors[:_MAX_SHOWN])
    more = f"\n  (and {len(errors) - _MAX_SHOWN} more)" if len(errors) > _MAX_SHOWN else ""
    raise ImportFormatError(
        f"{source}: {len(errors)} unreadable rows; nothing was imported\n{shown}{more}"
    )


# ---------------------------------------------------------------- Slurm 22.05 value tables

#: ``enum job_states`` base values (§5.1).
JOB_STATE_NAMES: tuple[str, ...] = (
    "PENDING",
    "RUNNING",
    "SUSPENDED",
    "COMPLETED",
    "CANCELLED",
    "FAILED",
    "TIMEOUT",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
    "OUT_OF_MEMORY",
)
#: The state flags slurmdbd stores in a job's ``state``, in ``job_state_string``'s checking
#: order; the flag's name is printed instead of the base state (§5.1).
JOB_STATE_FLAGS: tuple[tuple[int, str], ...] = (
    (1 << 13, "RESIZING"),
    (1 << 10, "REQUEUED"),
    (1 << 19, "REVOKED"),
)
_JOB_STATE_BASE = 0xFF

#: ``state_reason_prev`` numbers of Slurm **22.05** (``enum job_state_reason`` in
#: ``slurm/slurm.h``) with the strings sacct prints for them (``job_state_reason_string``).
#: The enum is append-only within a release series but numbers differ between releases, so
#: this table is only right for dumps of a 22.05 slurmdbd. Checked value by value against
#: real 22.05.8 sacct (tests/test_oracle.py): 33 and 34 still print the Blue Gene era
#: strings, and 198 is the last value 22.05.8 names; sacct prints larger ones as the
#: number (:func:`reason_text`).
#: ``WAIT_QOS_MAX_BB_MINS_PER_JOB`` prints ``AssocMaxBBMinutesPerJob``: Slurm's own string.
_REASON_LINES = """
0 WAIT_NO_REASON None
1 WAIT_PRIORITY Priority
2 WAIT_DEPENDENCY Dependency
3 WAIT_RESOURCES Resources
4 WAIT_PART_NODE_LIMIT PartitionNodeLimit
5 WAIT_PART_TIME_LIMIT PartitionTimeLimit
6 WAIT_PART_DOWN PartitionDown
7 WAIT_PART_INACTIVE PartitionInactive
8 WAIT_HELD JobHeldAdmin
9 WAIT_TIME BeginTime
10 WAIT_LICENSES Licenses
11 WAIT_ASSOC_JOB_LIMIT AssociationJobLimit
12 WAIT_ASSOC_RESOURCE_LIMIT AssociationResourceLimit
13 WAIT_ASSOC_TIME_LIMIT AssociationTimeLimit
14 WAIT_RESERVATION Reservation
15 WAIT_NODE_NOT_AVAIL ReqNodeNotAvail
16 WAIT_HELD_USER JobHeldUser
17 WAIT_FRONT_END FrontEndDown
18 FAIL_DEFER SchedDefer
19 FAIL_DOWN_PARTITION PartitionDown
20 FAIL_DOWN_NODE NodeDown
21 FAIL_BAD_CONSTRAINTS BadConstraints
22 FAIL_SYSTEM SystemFailure
23 FAIL_LAUNCH JobLaunchFailure
24 FAIL_EXIT_CODE NonZeroExitCode
25 FAIL_TIMEOUT TimeLimit
26 FAIL_INACTIVE_LIMIT InactiveLimit
27 FAIL_ACCOUNT InvalidAccount
28 FAIL_QOS InvalidQOS
29 WAIT_QOS_THRES QOSUsageThreshold
30 WAIT_QOS_JOB_LIMIT QOSJobLimit
31 WAIT_QOS_RESOURCE_LIMIT QOSResourceLimit
32 WAIT_QOS_TIME_LIMIT QOSTimeLimit
33 WAIT_BLOCK_MAX_ERR BlockMaxError
34 WAIT_BLOCK_D_ACTION BlockFreeAction
35 WAIT_CLEANING Cleaning
36 WAIT_PROLOG Prolog
37 WAIT_QOS QOSNotAllowed
38 WAIT_ACCOUNT AccountNotAllowed
39 WAIT_DEP_INVALID DependencyNeverSatisfied
40 WAIT_QOS_GRP_CPU QOSGrpCpuLimit
41 WAIT_QOS_GRP_CPU_MIN QOSGrpCPUMinutesLimit
42 WAIT_QOS_GRP_CPU_RUN_MIN QOSGrpCPURunMinutesLimit
43 WAIT_QOS_GRP_JOB QOSGrpJobsLimit
44 WAIT_QOS_GRP_MEM QOSGrpMemLimit
45 WAIT_QOS_GRP_NODE QOSGrpNodeLimit
46 WAIT_QOS_GRP_SUB_JOB QOSGrpSubmitJobsLimit
47 WAIT_QOS_GRP_WALL QOSGrpWallLimit
48 WAIT_QOS_MAX_CPU_PER_JOB QOSMaxCpuPerJobLimit
49 WAIT_QOS_MAX_CPU_MINS_PER_JOB QOSMaxCpuMinutesPerJobLimit
50 WAIT_QOS_MAX_NODE_PER_JOB QOSMaxNodePerJobLimit
51 WAIT_QOS_MAX_WALL_PER_JOB QOSMaxWallDurationPerJobLimit
52 WAIT_QOS_MAX_CPU_PER_USER QOSMaxCpuPerUserLimit
53 WAIT_QOS_MAX_JOB_PER_USER QOSMaxJobsPerUserLimit
54 WAIT_QOS_MAX_NODE_PER_USER QOSMaxNodePerUserLimit
55 WAIT_QOS_MAX_SUB_JOB QOSMaxSubmitJobPerUserLimit
56 WAIT_QOS_MIN_CPU QOSMinCpuNotSatisfied
57 WAIT_ASSOC_GRP_CPU AssocGrpCpuLimit
58 WAIT_ASSOC_GRP_CPU_MIN AssocGrpCPUMinutesLimit
59 WAIT_ASSOC_GRP_CPU_RUN_MIN AssocGrpCPURunMinutesLimit
60 WAIT_ASSOC_GRP_JOB AssocGrpJobsLimit
61 WAIT_ASSOC_GRP_MEM AssocGrpMemLimit
62 WAIT_ASSOC_GRP_NODE AssocGrpNodeLimit
63 WAIT_ASSOC_GRP_SUB_JOB AssocGrpSubmitJobsLimit
64 WAIT_ASSOC_GRP_WALL AssocGrpWallLimit
65 WAIT_ASSOC_MAX_JOBS AssocMaxJobsLimit
66 WAIT_ASSOC_MAX_CPU_PER_JOB AssocMaxCpuPerJobLimit
67 WAIT_ASSOC_MAX_CPU_MINS_PER_JOB AssocMaxCpuMinutesPerJobLimit
68 WAIT_ASSOC_MAX_NODE_PER_JOB AssocMaxNodePerJobLimit
69 WAIT_ASSOC_MAX_WALL_PER_JOB AssocMaxWallDurationPerJobLimit
70 WAIT_ASSOC_MAX_SUB_JOB AssocMaxSubmitJobLimit
71 WAIT_MAX_REQUEUE JobHoldMaxRequeue
72 WAIT_ARRAY_TASK_LIMIT JobArrayTaskLimit
73 WAIT_BURST_BUFFER_RESOURCE BurstBufferResources
74 WAIT_BURST_BUFFER_STAGING BurstBufferStageIn
75 FAIL_BURST_BUFFER_OP BurstBufferOperation
76 WAIT_POWER_NOT_AVAIL PowerNotAvail
77 WAIT_POWER_RESERVED PowerReserved
78 WAIT_ASSOC_GRP_UNK AssocGrpUnknown
79 WAIT_ASSOC_GRP_UNK_MIN AssocGrpUnknownMinutes
80 WAIT_ASSOC_GRP_UNK_RUN_MIN AssocGrpUnknownRunMinutes
81 WAIT_ASSOC_MAX_UNK_PER_JOB AssocMaxUnknownPerJob
82 WAIT_ASSOC_MAX_UNK_PER_NODE AssocMaxUnknownPerNode
83 WAIT_ASSOC_MAX_UNK_MINS_PER_JOB AssocMaxUnknownMinutesPerJob
84 WAIT_ASSOC_MAX_CPU_PER_NODE AssocMaxCpuPerNode
85 WAIT_ASSOC_GRP_MEM_MIN AssocGrpMemMinutes
86 WAIT_ASSOC_GRP_MEM_RUN_MIN AssocGrpMemRunMinutes
87 WAIT_ASSOC_MAX_MEM_PER_JOB AssocMaxMemPerJob
88 WAIT_ASSOC_MAX_MEM_PER_NODE AssocMaxMemPerNode
89 WAIT_ASSOC_MAX_MEM_MINS_PER_JOB AssocMaxMemMinutesPerJob
90 WAIT_ASSOC_GRP_NODE_MIN AssocGrpNodeMinutes
91 WAIT_ASSOC_GRP_NODE_RUN_MIN AssocGrpNodeRunMinutes
92 WAIT_ASSOC_MAX_NODE_MINS_PER_JOB AssocMaxNodeMinutesPerJob
93 WAIT_ASSOC_GRP_ENERGY AssocGrpEnergy
94 WAIT_ASSOC_GRP_ENERGY_MIN AssocGrpEnergyMinutes
95 WAIT_ASSOC_GRP_ENERGY_RUN_MIN AssocGrpEnergyRunMinutes
96 WAIT_ASSOC_MAX_ENERGY_PER_JOB AssocMaxEnergyPerJob
97 WAIT_ASSOC_MAX_ENERGY_PER_NODE AssocMaxEnergyPerNode
98 WAIT_ASSOC_MAX_ENERGY_MINS_PER_JOB AssocMaxEnergyMinutesPerJob
99 WAIT_ASSOC_GRP_GRES AssocGrpGRES
100 WAIT_ASSOC_GRP_GRES_MIN AssocGrpGRESMinutes
101 WAIT_ASSOC_GRP_GRES_RUN_MIN AssocGrpGRESRunMinutes
102 WAIT_ASSOC_MAX_GRES_PER_JOB AssocMaxGRESPerJob
103 WAIT_ASSOC_MAX_GRES_PER_NODE AssocMaxGRESPerNode
104 WAIT_ASSOC_MAX_GRES_MINS_PER_JOB AssocMaxGRESMinutesPerJob
105 WAIT_ASSOC_GRP_LIC AssocGrpLicense
106 WAIT_ASSOC_GRP_LIC_MIN AssocGrpLicenseMinutes
107 WAIT_ASSOC_GRP_LIC_RUN_MIN AssocGrpLicenseRunMinutes
108 WAIT_ASSOC_MAX_LIC_PER_JOB AssocMaxLicensePerJob
109 WAIT_ASSOC_MAX_LIC_MINS_PER_JOB AssocMaxLicenseMinutesPerJob
110 WAIT_ASSOC_GRP_BB AssocGrpBB
111 WAIT_ASSOC_GRP_BB_MIN AssocGrpBBMinutes
112 WAIT_ASSOC_GRP_BB_RUN_MIN AssocGrpBBRunMinutes
113 WAIT_ASSOC_MAX_BB_PER_JOB AssocMaxBBPerJob
114 WAIT_ASSOC_MAX_BB_PER_NODE AssocMaxBBPerNode
115 WAIT_ASSOC_MAX_BB_MINS_PER_JOB AssocMaxBBMinutesPerJob
116 WAIT_QOS_GRP_UNK QOSGrpUnknown
117 WAIT_QOS_GRP_UNK_MIN QOSGrpUnknownMinutes
118 WAIT_QOS_GRP_UNK_RUN_MIN QOSGrpUnknownRunMinutes
119 WAIT_QOS_MAX_UNK_PER_JOB QOSMaxUnknownPerJob
120 WAIT_QOS_MAX_UNK_PER_NODE QOSMaxUnknownPerNode
121 WAIT_QOS_MAX_UNK_PER_USER QOSMaxUnknownPerUser
122 WAIT_QOS_MAX_UNK_MINS_PER_JOB QOSMaxUnknownMinutesPerJob
123 WAIT_QOS_MIN_UNK QOSMinUnknown
124 WAIT_QOS_MAX_CPU_PER_NODE QOSMaxCpuPerNode
125 WAIT_QOS_GRP_MEM_MIN QOSGrpMemoryMinutes
126 WAIT_QOS_GRP_MEM_RUN_MIN QOSGrpMemoryRunMinutes
127 WAIT_QOS_MAX_MEM_MINS_PER_JOB QOSMaxMemoryMinutesPerJob
128 WAIT_QOS_MAX_MEM_PER_JOB QOSMaxMemoryPerJob
129 WAIT_QOS_MAX_MEM_PER_NODE QOSMaxMemoryPerNode
130 WAIT_QOS_MAX_MEM_PER_USER QOSMaxMemoryPerUser
131 WAIT_QOS_MIN_MEM QOSMinMemory
132 WAIT_QOS_GRP_ENERGY QOSGrpEnergy
133 WAIT_QOS_GRP_ENERGY_MIN QOSGrpEnergyMinutes
134 WAIT_QOS_GRP_ENERGY_RUN_MIN QOSGrpEnergyRunMinutes
135 WAIT_QOS_MAX_ENERGY_PER_JOB QOSMaxEnergyPerJob
136 WAIT_QOS_MAX_ENERGY_PER_NODE QOSMaxEnergyPerNode
137 WAIT_QOS_MAX_ENERGY_PER_USER QOSMaxEnergyPerUser
138 WAIT_QOS_MAX_ENERGY_MINS_PER_JOB QOSMaxEnergyMinutesPerJob
139 WAIT_QOS_MIN_ENERGY QOSMinEnergy
140 WAIT_QOS_GRP_NODE_MIN QOSGrpNodeMinutes
141 WAIT_QOS_GRP_NODE_RUN_MIN QOSGrpNodeRunMinutes
142 WAIT_QOS_MAX_NODE_MINS_PER_JOB QOSMaxNodeMinutesPerJob
143 WAIT_QOS_MIN_NODE QOSMinNode
144 WAIT_QOS_GRP_GRES QOSGrpGRES
145 WAIT_QOS_GRP_GRES_MIN QOSGrpGRESMinutes
146 WAIT_QOS_GRP_GRES_RUN_MIN QOSGrpGRESRunMinutes
147 WAIT_QOS_MAX_GRES_PER_JOB QOSMaxGRESPerJob
148 WAIT_QOS_MAX_GRES_PER_NODE QOSMaxGRESPerNode
149 WAIT_QOS_MAX_GRES_PER_USER QOSMaxGRESPerUser
150 WAIT_QOS_MAX_GRES_MINS_PER_JOB QOSMaxGRESMinutesPerJob
151 WAIT_QOS_MIN_GRES QOSMinGRES
152 WAIT_QOS_GRP_LIC QOSGrpLicense
153 WAIT_QOS_GRP_LIC_MIN QOSGrpLicenseMinutes
154 WAIT_QOS_GRP_LIC_RUN_MIN QOSGrpLicenseRunMinutes
155 WAIT_QOS_MAX_LIC_PER_JOB QOSMaxLicensePerJob
156 WAIT_QOS_MAX_LIC_PER_USER QOSMaxLicensePerUser
157 WAIT_QOS_MAX_LIC_MINS_PER_JOB QOSMaxLicenseMinutesPerJob
158 WAIT_QOS_MIN_LIC QOSMinLicense
159 WAIT_QOS_GRP_BB QOSGrpBB
160 WAIT_QOS_GRP_BB_MIN QOSGrpBBMinutes
161 WAIT_QOS_GRP_BB_RUN_MIN QOSGrpBBRunMinutes
162 WAIT_QOS_MAX_BB_PER_JOB QOSMaxBBPerJob
163 WAIT_QOS_MAX_BB_PER_NODE QOSMaxBBPerNode
164 WAIT_QOS_MAX_BB_PER_USER QOSMaxBBPerUser
165 WAIT_QOS_MAX_BB_MINS_PER_JOB AssocMaxBBMinutesPerJob
166 WAIT_QOS_MIN_BB QOSMinBB
167 FAIL_DEADLINE DeadLine
168 WAIT_QOS_MAX_BB_PER_ACCT MaxBBPerAccount
169 WAIT_QOS_MAX_CPU_PER_ACCT MaxCpuPerAccount
170 WAIT_QOS_MAX_ENERGY_PER_ACCT MaxEnergyPerAccount
171 WAIT_QOS_MAX_GRES_PER_ACCT MaxGRESPerAccount
172 WAIT_QOS_MAX_NODE_PER_ACCT MaxNodePerAccount
173 WAIT_QOS_MAX_LIC_PER_ACCT MaxLicensePerAccount
174 WAIT_QOS_MAX_MEM_PER_ACCT MaxMemoryPerAccount
175 WAIT_QOS_MAX_UNK_PER_ACCT MaxUnknownPerAccount
176 WAIT_QOS_MAX_JOB_PER_ACCT MaxJobsPerAccount
177 WAIT_QOS_MAX_SUB_JOB_PER_ACCT MaxSubmitJobsPerAccount
178 WAIT_PART_CONFIG PartitionConfig
179 WAIT_ACCOUNT_POLICY AccountingPolicy
180 WAIT_FED_JOB_LOCK FedJobLock
181 FAIL_OOM OutOfMemory
182 WAIT_PN_MEM_LIMIT MaxMemPerLimit
183 WAIT_ASSOC_GRP_BILLING AssocGrpBilling
184 WAIT_ASSOC_GRP_BILLING_MIN AssocGrpBillingMinutes
185 WAIT_ASSOC_GRP_BILLING_RUN_MIN AssocGrpBillingRunMinutes
186 WAIT_ASSOC_MAX_BILLING_PER_JOB AssocMaxBillingPerJob
187 WAIT_ASSOC_MAX_BILLING_PER_NODE AssocMaxBillingPerNode
188 WAIT_ASSOC_MAX_BILLING_MINS_PER_JOB AssocMaxBillingMinutesPerJob
189 WAIT_QOS_GRP_BILLING QOSGrpBilling
190 WAIT_QOS_GRP_BILLING_MIN QOSGrpBillingMinutes
191 WAIT_QOS_GRP_BILLING_RUN_MIN QOSGrpBillingRunMinutes
192 WAIT_QOS_MAX_BILLING_PER_JOB QOSMaxBillingPerJob
193 WAIT_QOS_MAX_BILLING_PER_NODE QOSMaxBillingPerNode
194 WAIT_QOS_MAX_BILLING_PER_USER QOSMaxBillingPerUser
195 WAIT_QOS_MAX_BILLING_MINS_PER_JOB QOSMaxBillingMinutesPerJob
196 WAIT_QOS_MAX_BILLING_PER_ACCT MaxBillingPerAccount
197 WAIT_QOS_MIN_BILLING QOSMinBilling
198 WAIT_RESV_DELETED ReservationDeleted
"""


def _parse_reasons(text: str) -> dict[int, tuple[str, str]]:
    table: dict[int, tuple[str, str]] = {}
    for line in text.strip().splitlines():
        number, enum_name, string = line.split()
        table[int(number)] = (enum_name, string)
    return table


#: ``state_reason_prev`` -> (enum name, sacct string), Slurm 22.05 numbering.
REASONS_2205: dict[int, tuple[str, str]] = _parse_reasons(_REASON_LINES)

#: TRES ids every slurmdbd creates with these fixed ids (``tres_table``); sacct prints them
#: by these names. Other ids (gres/..., license/..., bb/...) need the site's tres_table.
TRES_NAMES: dict[int, str] = {
    1: "cpu",
    2: "mem",
    3: "energy",
    4: "node",
    5: "billing",
    6: "fs/disk",
    7: "vmem",
    8: "pages",
}
TRES_CPU, TRES_MEM, TRES_ENERGY, TRES_NODE = 1, 2, 3, 4
TRES_FS_DISK, TRES_VMEM, TRES_PAGES = 6, 7, 8
#: Slurm's CPU usage in TRES usage strings is in milliseconds (``CPU_TIME_ADJ``).
CPU_TIME_ADJ = 1000

#: slurmdb job ``flags``: the scheduler that started the job, and the start-RPC bit
#: (``slurmdb_job_flags_str``; "Recieved" is Slurm's spelling).
_FLAG_NOTSET, _FLAG_SUBMIT, _FLAG_SCHED, _FLAG_BACKFILL, _FLAG_START_R = 1, 2, 4, 8, 16
_FLAG_KNOWN = 0x1F


def state_name(value: int) -> tuple[str, int]:
    """The state name sacct prints for a stored ``state``, and the flag bits it ignored.

    Raises:
        ValueError: for a base state beyond OUT_OF_MEMORY.
    """
    base = value & _JOB_STATE_BASE
    if base >= len(JOB_STATE_NAMES):
        raise ValueError(f"unknown state {value}")
    flags = value & ~_JOB_STATE_BASE
    for bit, name in JOB_STATE_FLAGS:
        if flags & bit:
            return name, 0
    return JOB_STATE_NAMES[base], flags


def reason_text(value: int) -> str | None:
    """sacct's Reason for a ``state_reason_prev`` of Slurm 22.05: a number 22.05.8 does not
    name (a later release's reason) prints as the number, as real 22.05.8 sacct prints it."""
    entry = REASONS_2205.get(value)
    return entry[1] if entry else str(value)


def job_flags_text(flags: int) -> str | None:
    """sacct's Flags cell for a job's ``flags`` (``slurmdb_job_flags_str``).

    Returns None when ``flags`` has bits Slurm 22.05 does not name.
    """
    if flags & ~_FLAG_KNOWN:
        return None
    if flags == 0:
        # real 22.05.8 sacct prints an empty Flags cell for 0 (tests/test_oracle.py)
        return None
    parts: list[str] = []
    if flags & _FLAG_NOTSET:
        parts.append("SchedNotSet")
    elif flags & _FLAG_SUBMIT:
        parts.append("SchedSubmit")
    elif flags & _FLAG_SCHED:
        parts.append("SchedMain")
    elif flags & _FLAG_BACKFILL:
        parts.append("SchedBackfill")
    if flags & _FLAG_START_R:
        parts.append("StartRecieved")
    return ",".join(parts)


_TRES_STRING = re.compile(r"[0-9]+=[0-9]+(?:,[0-9]+=[0-9]+)*")


@functools.lru_cache(maxsize=2048)
def _tres_items(simple: str | None) -> tuple[tuple[int, int], ...]:
    # Cached: a step's usage strings repeat across its columns (ave/max/min/tot of one task)
    # and node/task id strings repeat across steps (the import profile's hottest spot).
    if not simple:
        return ()
    if not (simple.isascii() and _TRES_STRING.fullmatch(simple)):
        raise ValueError(f"bad TRES string '{simple}'")
    numbers = list(map(int, _TRES_SPLIT.split(simple)))
    return tuple(zip(numbers[::2], numbers[1::2], strict=True))


_TRES_SPLIT = re.compile("[,=]")


def tres_count(simple: str | None, tres_id: int) -> int | None:
    """The count of one TRES in an ``id=count`` string; None if absent or NO_VAL/INFINITE.

    Raises:
        ValueError: the string is not ``id=count[,id=count...]``.
    """
    count = _tres_map(simple).get(tres_id)
    return None if count in (NO_VAL64, INFINITE64) else count


def _tres_raw(simple: str | None, tres_id: int) -> int | None:
    """The count of one TRES as stored (NO_VAL64/INFINITE64 included); None if absent."""
    return _tres_map(simple).get(tres_id)


@functools.lru_cache(maxsize=2048)
def _tres_map(simple: str | None) -> dict[int, int]:
    # The first count of an id wins, as a scan of the string finds it.
    return {ident: count for ident, count in reversed(_tres_items(simple))}


def _size_text(count: int) -> str:
    """``units.format_size(count)`` for a whole count >= 0, without its general checks.

    Same steps and float arithmetic (``convert_num_unit2`` with the exact flag, divisor
    1024, no base unit): the import formats a few values for every step.
    """
    num = float(count)
    if int(num) == 0:
        return "0"
    index = 0
    while num >= 1024 and int(num) % 512 == 0:
        num /= 1024
        index += 1
    suffix = _SIZE_UNITS[index] if index < len(_SIZE_UNITS) else "?"
    whole = int(num)
    if float(whole) == num:
        return f"{whole}{suffix}"
    return f"{num:.2f}{suffix}"


_SIZE_UNITS = ("", "K", "M", "G", "T", "P")


def format_tres_usage(
    simple: str | None,
    names: Mapping[int, str] | None = None,
    *,
    nodes: list[str] | None = None,
    tasks: bool = False,
) -> tuple[str | None, list[int]]:
    """sacct's TRESUsageIn*/Out* text for a step's usage string, and the ids it cannot name.

    Values (``slurmdb_make_tres_string_from_simple`` with the bytes flag): CPU is milliseconds,
    printed as an elapsed time of whole seconds; every other TRES is unit-converted with no
    base unit (``mem=3300K``, ``fs/disk=15319``). With ``nodes`` (the step's expanded node
    list) the values are node indexes, printed as node names; with ``tasks`` they are task
    ids, printed as they are. NO_VAL64 counts are left out, INFINITE64 prints ``NONE``; the
    items are sorted like sacct's. An empty result is None.

    Raises:
        ValueError: the string is not ``id=count[,id=count...]``.
    """
    table = names if names is not None else TRES_NAMES
    items: list[str] = []
    unknown: list[int] = []
    for ident, count in _tres_items(simple):
        if count == NO_VAL64:
            continue
        name = table.get(ident)
        if name is None:
            unknown.append(ident)
            continue
        if count == INFINITE64:
            value = "NONE"
        elif nodes is not None:
            # Slurm prints a missing host with %s of NULL.
            value = nodes[count] if count < len(nodes) else "(null)"
        elif tasks:
            value = str(count)
        elif ident == TRES_CPU:
            value = format_elapsed(count // CPU_TIME_ADJ)
        else:
            value = _size_text(count)
        items.append(f"{name}={value}")
    items.sort()
    return (",".join(items) or None), unknown


#: ``task_dist_states`` base values of ``slurm.h`` with ``slurm_step_layout_type_name``'s
#: names, as real 22.05.8 sacct prints them.
_LAYOUTS_2 = {
    0x0001: "Cyclic",
    0x0002: "Block",
    # real 22.05.8 sacct's text for SLURM_DIST_ARBITRARY (tests/test_oracle.py)
    0x0003: "arbitrary task distribution",
    0x0004: "Plane",
    0x0011: "CCyclic",
    0x0021: "CBlock",
    0x0012: "BCyclic",
    0x0022: "BBlock",
    0x0031: "CFCyclic",
    0x0032: "BFCyclic",
}
_LAYOUTS_3 = {
    0x0111: "CCyclicCyclic",
    0x0211: "CCyclicBlock",
    0x0311: "CCyclicFCyclic",
    0x0121: "CBlockCyclic",
    0x0221: "CBlockBlock",
    # Slurm's own table names CYCLIC_BLOCK_CFULL like CYCLIC_CYCLIC_CFULL.
    0x0321: "CCyclicFCyclic",
    0x0131: "CFCyclicCyclic",
    0x0231: "CFCyclicBlock",
    0x0331: "CFCyclicFCyclic",
    0x0112: "BCyclicCyclic",
    0x0212: "BCyclicBlock",
    0x0312: "BCyclicFCyclic",
    0x0122: "BBlockCyclic",
    0x0222: "BBlockBlock",
    0x0322: "BBlockFCyclic",
    0x0132: "BFCyclicCyclic",
    0x0232: "BFCyclicBlock",
    0x0332: "BFCyclicFCyclic",
}
_DIST_STATE_BASE = 0xFFFF
_DIST_PACK_NODES = 0x800000
_DIST_NO_PACK_NODES = 0x400000


def task_layout_name(task_dist: int) -> str:
    """sacct's Layout for a step's ``task_dist`` (``slurm_step_layout_type_name``)."""
    base = task_dist & _DIST_STATE_BASE
    # three-level names take the Pack/NoPack suffixes too (real 22.05.8: CCyclicCyclic,Pack)
    parts = [_LAYOUTS_3.get(base) or _LAYOUTS_2.get(base, "Unknown")]
    if task_dist & _DIST_PACK_NODES:
        parts.append("Pack")
    if task_dist & _DIST_NO_PACK_NODES:
        parts.append("NoPack")
    return ",".join(parts)


def format_tres(
    simple: str | None, names: Mapping[int, str] | None = None
) -> tuple[str | None, list[int]]:
    """sacct's AllocTRES/ReqTRES text for an ``id=count`` string, and the ids it cannot name.

    Counts of NO_VAL64/INFINITE64 are left out (the unknown energy of most jobs); memory is in
    MB and unit-converted (``16000M``, ``4G``, ``0``); the items are sorted as sacct sorts them
    (by the whole ``name=value`` text). An empty result is None.

    Raises:
        ValueError: the string is not ``id=count[,id=count...]``.
    """
    table = names if names is not None else TRES_NAMES
    items: list[str] = []
    unknown: list[int] = []
    for ident, count in _tres_items(simple):
        if count in (NO_VAL64, INFINITE64):
            continue
        name = table.get(ident)
        if name is None:
            unknown.append(ident)
            continue
        value = format_size(count, "M") if ident == TRES_MEM else str(count)
        items.append(f"{name}={value}")
    items.sort()
    return (",".join(items) or None), unknown


def _array_tasks(hex_mask: str, max_tasks: int) -> str:
    """``array_task_str`` as sacct shows it in ``123_[...]``: ``0x1E`` -> ``1-4``, plus ``%N``.

    A value that is not a hex mask is kept as it is (sacct does the same).
    """
    if len(hex_mask) < 3 or hex_mask[1] not in "xX":
        return hex_mask
    bits = int(hex_mask[2:], 16)
    ranges: list[str] = []
    task = 0
    while bits >> task:
        if bits >> task & 1:
            first = task
            while bits >> (task + 1) & 1:
                task += 1
            ranges.append(str(first) if first == task else f"{first}-{task}")
        task += 1
    text = ",".join(ranges)
    if max_tasks:
        text += f"%{max_tasks}"
    return text


# ---------------------------------------------------------------- reading rows

#: The columns of Slurm 22.05's ``<cluster>_job_table`` and ``<cluster>_step_table``
#: (golden/slurmdbd_schema.sql). A dump column outside them is refused: a renamed column was
#: ignored and left every JobName blank (tracker issue 14).
JOB_TABLE_COLUMNS = frozenset(
    {
        "job_db_inx",
        "mod_time",
        "deleted",
        "account",
        "admin_comment",
        "array_task_str",
        "array_max_tasks",
        "array_task_pending",
        "constraints",
        "container",
        "cpus_req",
        "derived_ec",
        "derived_es",
        "env_hash_inx",
        "exit_code",
        "flags",
        "job_name",
        "id_assoc",
        "id_array_job",
        "id_array_task",
        "id_block",
        "id_job",
        "id_qos",
        "id_resv",
        "id_wckey",
        "id_user",
        "id_group",
        "het_job_id",
        "het_job_offset",
        "kill_requid",
        "state_reason_prev",
        "mcs_label",
        "mem_req",
        "nodelist",
        "nodes_alloc",
        "node_inx",
        "partition",
        "priority",
        "script_hash_inx",
        "state",
        "timelimit",
        "time_submit",
        "time_eligible",
        "time_start",
        "time_end",
        "time_suspended",
        "gres_used",
        "wckey",
        "work_dir",
        "submit_line",
        "system_comment",
        "tres_alloc",
        "tres_req",
    }
)
STEP_TABLE_COLUMNS = frozenset(
    {
        "job_db_inx",
        "deleted",
        "exit_code",
        "id_step",
        "step_het_comp",
        "kill_requid",
        "nodelist",
        "nodes_alloc",
        "node_inx",
        "state",
        "step_name",
        "task_cnt",
        "task_dist",
        "time_start",
        "time_end",
        "time_suspended",
        "user_sec",
        "user_usec",
        "sys_sec",
        "sys_usec",
        "act_cpufreq",
        "consumed_energy",
        "container",
        "req_cpufreq_min",
        "req_cpufreq",
        "req_cpufreq_gov",
        "submit_line",
        "tres_alloc",
        "tres_usage_in_ave",
        "tres_usage_in_max",
        "tres_usage_in_max_taskid",
        "tres_usage_in_max_nodeid",
        "tres_usage_in_min",
        "tres_usage_in_min_taskid",
        "tres_usage_in_min_nodeid",
        "tres_usage_in_tot",
        "tres_usage_out_ave",
        "tres_usage_out_max",
        "tres_usage_out_max_taskid",
        "tres_usage_out_max_nodeid",
        "tres_usage_out_min",
        "tres_usage_out_min_taskid",
        "tres_usage_out_min_nodeid",
        "tres_usage_out_tot",
    }
)

_JOB_REQUIRED = ("job_db_inx", "id_job", "time_submit", "id_user", "state")
_STEP_REQUIRED = ("job_db_inx", "id_step", "state")


class _Cells:
    """Typed access to one dump row (``None`` or ``"NULL"`` is SQL NULL)."""

    def __init__(self, row: Mapping[str, str | None]) -> None:
        self.row = row

    def has(self, name: str) -> bool:
        return name in self.row

    def raw(self, name: str) -> str | None:
        value = self.row[name]
        if value is None or value == "NULL":
            return None
        if "\0" in value or len(value) > MAX_TEXT:
            # PostgreSQL cannot store NUL; a megabyte job name is no job name (issue 14).
            what = "holds a NUL byte" if "\0" in value else f"is over {MAX_TEXT} characters"
            raise ValueError(f"{name} {what}")
        return value

    def num(self, name: str, *, signed: bool = False) -> int | None:
        text = self.row[name]
        if text is None or text == "NULL":
            return None
        if text.isdigit() and text.isascii() and len(text) < 20:
            value = int(text)
        else:
            body = text[1:] if signed and text.startswith("-") else text
            if not (body.isascii() and body.isdigit()):
                raise ValueError(f"{name} '{text}' is not {'an' if signed else 'a whole'} integer")
            value = int(text)
        if not -(2**63) <= value <= MAX_UINT64:
            raise ValueError(f"{name} '{text}' is out of range")
        return value

    def req_num(self, name: str, *, signed: bool = False) -> int:
        value = self.num(name, signed=signed)
        if value is None:
            raise ValueError(f"{name} is NULL")
        return value

    def text(self, name: str) -> str | None:
        """A nullable text column: NULL and '' are None."""
        return self.raw(name) or None

    def text_not_null(self, name: str) -> str:
        """A NOT NULL text column: ``NULL`` in a dump can only be the string 'NULL'."""
        value = self.row[name]
        if value is None:
            return "NULL"
        self.raw(name)  # refuses NUL and over-long text
        return value

    def time(self, name: str) -> int | None:
        value = self.num(name)
        if value is not None and value > MAX_EPOCH:
            # Slurm's times are 32-bit (1970..2106): a larger one breaks every date reader.
            raise ValueError(f"{name} '{value}' is not a time (after 2106)")
        return None if value in (None, 0) else value

    def id32(self, name: str) -> int | None:
        """A uint32 that sacct prints blank when NO_VAL or INFINITE."""
        value = self.num(name)
        return None if value in (None, NO_VAL, INFINITE) else value

    def real(self, name: str) -> float | None:
        """A DOUBLE column."""
        text = self.raw(name)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{name} '{text}' is not a number") from None
        if not (value >= 0 and value != float("inf")):
            raise ValueError(f"{name} '{text}' is not a non-negative number")
        return value


def _opt(cells: _Cells, name: str, values: dict[str, Any], column: str, conv: Any) -> None:
    if cells.has(name):
        values[column] = conv(name)


def _nodelist(text: str | None) -> str | None:
    return None if text in (None, "", "None assigned") else text


def _kill_requid(cells: _Cells) -> int | None:
    value = cells.num("kill_requid", signed=True)
    return None if value in (None, -1, INFINITE) else value


@dataclass
class _StepRec:
    line: int
    step_id: int
    step_het_component: int | None
    values: dict[str, Any]


@dataclass
class _JobRec:
    line: int
    db_inx: int
    job_id_raw: int
    time_submit: int
    values: dict[str, Any]
    derived: ExitCode | None
    cpu_from_tres: int
    steps: list[_StepRec] = field(default_factory=list)


@dataclass
class SlurmdbdImportResult(ImportResult):
    """What :func:`import_slurmdbd` did; ``warnings`` lists values it could not map exactly."""

    warnings: list[str] = field(default_factory=list)


@dataclass
class _Context:
    user_names: Mapping[int, str]
    group_names: Mapping[int, str]
    qos_names: Mapping[int, str] | None
    tres_names: Mapping[int, str]
    warnings: list[str]

    @classmethod
    def of(
        cls,
        user_names: Mapping[int, str],
        group_names: Mapping[int, str],
        qos_names: Mapping[int, str] | None,
        tres_names: Mapping[int, str] | None,
    ) -> _Context:
        """The readers' context; TRES ids are named by :data:`TRES_NAMES` unless given."""
        return cls(
            user_names=user_names,
            group_names=group_names,
            qos_names=qos_names,
            tres_names=dict(tres_names) if tres_names is not None else TRES_NAMES,
            warnings=[],
        )


def tres_name(kind: str, name: str | None) -> str:
    """sacct's name of a ``tres_table`` row: ``type/name`` when it has a name, else ``type``
    (``slurmdb_make_tres_string``): ``cpu``, ``gres/gpu``, ``license/matlab``."""
    return f"{kind}/{name}" if name else kind


def _read_job(cells: _Cells, where: str, ctx: _Context) -> _JobRec:
    missing = [c for c in _JOB_REQUIRED if not cells.has(c)]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}")
    job_id = cells.req_num("id_job")
    if not 1 <= job_id <= MAX_JOB_ID:
        raise ValueError(f"id_job '{job_id}' is not a job id (1..{MAX_JOB_ID})")
    v: dict[str, Any] = {}
    state_value = cells.req_num("state")
    v["state"], ignored_flags = state_name(state_value)
    if ignored_flags:
        ctx.warnings.append(
            f"{where}: job {job_id}: state {state_value} has flags 0x{ignored_flags:x} that"
            f" slurmdbd does not store; kept {v['state']}"
        )
    v["kill_requid"] = _kill_requid(cells) if cells.has("kill_requid") else None
    uid = cells.req_num("id_user")
    v["uid"] = uid
    v["user_name"] = ctx.user_names.get(uid)
    if cells.has("id_group"):
        gid = cells.num("id_group")
        v["gid"] = gid
        v["group_name"] = None if gid is None else ctx.group_names.get(gid)
    if cells.has("exit_code"):
        raw = cells.num("exit_code")
        code = None if raw in (None, NO_VAL) else ExitCode.from_wait_status(raw)
        v["exit_code"] = None if code is None else code.code
        v["exit_signal"] = None if code is None else code.signal
    derived: ExitCode | None = None
    if cells.has("derived_ec"):
        raw = cells.num("derived_ec")
        # print.c prints a NO_VAL derived_ec as 0:0.
        derived = ZERO if raw in (None, NO_VAL) else ExitCode.from_wait_status(raw)
    if cells.has("id_array_job"):
        array_job = cells.num("id_array_job")
        v["array_job_id"] = array_job or None
    if cells.has("id_array_task"):
        task = cells.num("id_array_task")
        v["array_task_id"] = None if task in (None, NO_VAL, INFINITE) else task
    max_tasks = cells.num("array_max_tasks") if cells.has("array_max_tasks") else None
    if cells.has("array_max_tasks"):
        v["array_max_tasks"] = max_tasks or None
    if cells.has("array_task_str"):
        mask = cells.text("array_task_str")
        v["array_task_str"] = None if mask is None else _array_tasks(mask, max_tasks or 0)
    if cells.has("het_job_id"):
        v["het_job_id"] = cells.num("het_job_id") or None
    if cells.has("het_job_offset"):
        offset = cells.num("het_job_offset")
        v["het_job_offset"] = None if offset in (None, NO_VAL, INFINITE) else offset
    _opt(cells, "job_name", v, "job_name", cells.text_not_null)
    _opt(cells, "account", v, "account", cells.text)
    _opt(cells, "partition", v, "partition", cells.text)
    _opt(cells, "wckey", v, "wckey", cells.text)
    _opt(cells, "constraints", v, "constraints", cells.text)
    _opt(cells, "work_dir", v, "work_dir", cells.text)
    _opt(cells, "submit_line", v, "submit_line", cells.text)
    _opt(cells, "derived_es", v, "comment", cells.text)
    _opt(cells, "admin_comment", v, "admin_comment", cells.text)
    _opt(cells, "system_comment", v, "system_comment", cells.text)
    _opt(cells, "priority", v, "priority", cells.num)
    _opt(cells, "cpus_req", v, "req_cpus", cells.num)
    _opt(cells, "timelimit", v, "timelimit", cells.num)
    _opt(cells, "id_assoc", v, "assoc_id", cells.id32)
    _opt(cells, "id_qos", v, "qos_id", cells.id32)
    _opt(cells, "id_wckey", v, "wckey_id", cells.id32)
    # print.c: ReservationId 0 is no reservation (a blank cell).
    _opt(cells, "id_resv", v, "resv_id", lambda name: cells.id32(name) or None)
    _opt(cells, "mcs_label", v, "mcs_label", cells.text)
    _opt(cells, "id_block", v, "block_id", cells.text)
    _opt(cells, "container", v, "container", cells.text)
    v["db_index"] = cells.req_num("job_db_inx")
    if cells.has("nodelist"):
        v["nodelist"] = _nodelist(cells.raw("nodelist"))
    for name in ("time_eligible", "time_start", "time_end"):
        _opt(cells, name, v, name, cells.time)
    if cells.has("time_suspended"):
        v["time_suspended"] = cells.num("time_suspended") or 0
    if ctx.qos_names is not None and cells.has("id_qos"):
        qos_id = cells.num("id_qos")
        v["qos"] = None if qos_id is None else ctx.qos_names.get(qos_id)
    if cells.has("state_reason_prev"):
        reason_id = cells.num("state_reason_prev")
        v["reason"] = None if reason_id is None else reason_text(reason_id)
        if reason_id is not None and reason_id not in REASONS_2205:
            ctx.warnings.append(
                f"{where}: job {job_id}: state_reason_prev {reason_id} is not a Slurm 22.05"
                " reason; Reason is the number, as 22.05.8 sacct prints it"
            )
    if cells.has("flags"):
        flags = cells.num("flags")
        text = None if flags is None else job_flags_text(flags)
        if text is not None:
            v["flags"] = text
        elif flags:  # 0 is an empty Flags cell
            ctx.warnings.append(
                f"{where}: job {job_id}: flags {flags} has bits Slurm 22.05 does not name;"
                " Flags left unset"
            )
    tres_alloc = cells.raw("tres_alloc") if cells.has("tres_alloc") else None
    tres_req = cells.raw("tres_req") if cells.has("tres_req") else None
    for column, simple, name in (
        ("alloc_tres", tres_alloc, "tres_alloc"),
        ("req_tres", tres_req, "tres_req"),
    ):
        if cells.has(name):
            text, unknown = format_tres(simple, ctx.tres_names)
            v[column] = text
            if unknown:
                ctx.warnings.append(
                    f"{where}: job {job_id}: {name} TRES id(s) {unknown} have no known name;"
                    " left out"
                )
    if cells.has("tres_req"):
        v["req_nodes"] = tres_count(tres_req, TRES_NODE)
    if cells.has("tres_alloc"):
        # print.c: a job's energy is its tres_alloc count; NO_VAL64 is unknown (blank), an
        # absent count is 0 (slurmctld leaves zero counts out).
        energy = _tres_raw(tres_alloc, TRES_ENERGY)
        v["consumed_energy"] = (
            None if energy == NO_VAL64 else 0 if energy in (None, INFINITE64) else energy
        )
    # print.c: AllocCPUS and NNodes count from tres_alloc, or from tres_req if it is empty.
    counted = tres_alloc or tres_req
    cpus = tres_count(counted, TRES_CPU) or 0
    v["ncpus"] = cpus
    if cells.has("nodes_alloc"):
        nnodes = cells.num("nodes_alloc") or 0
        v["nnodes"] = nnodes or tres_count(counted, TRES_NODE) or 0
    v["req_mem"] = _req_mem(cells, tres_req)
    _check_storable(v)
    return _JobRec(
        line=0,
        db_inx=cells.req_num("job_db_inx"),
        job_id_raw=job_id,
        time_submit=cells.req_num("time_submit"),
        values=v,
        derived=derived,
        cpu_from_tres=cpus,
    )


def _req_mem(cells: _Cells, tres_req: str | None) -> int | None:
    # Slurm >= 21.08 prints ReqMem from the requested TRES (MB), with no per-cpu/per-node
    # suffix; mem_req (flag bit stripped) only stands in when tres_req has no memory.
    mem = tres_count(tres_req, TRES_MEM)
    if mem is not None:
        return mem
    if not cells.has("mem_req"):
        return None
    raw = cells.num("mem_req")
    if raw in (None, 0, NO_VAL64, INFINITE64):
        return None
    return raw & ~MEM_PER_CPU


def _signed32(value: int) -> int:
    if not -(2**31) <= value < 2**32:
        raise ValueError(f"{value} is not a 32-bit value")
    return value - (1 << 32) if value >= 0x80000000 else value


def _check_storable(values: Mapping[str, Any]) -> None:
    """Every number fits the store's signed 64-bit integer columns (SQLite raised
    OverflowError past them; slurmdbd's unsigned counts that mean NO_VAL64 or INFINITE64 are
    mapped to NULL before this)."""
    for column, value in values.items():
        if type(value) is int and not -(2**63) <= value < 2**63:
            raise ValueError(f"{column} '{value}' is out of range")


def _read_step(cells: _Cells, where: str, ctx: _Context) -> tuple[int, _StepRec]:
    missing = [c for c in _STEP_REQUIRED if not cells.has(c)]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}")
    db_inx = cells.req_num("job_db_inx")
    step_id = _signed32(cells.req_num("id_step", signed=True))
    comp = cells.num("step_het_comp") if cells.has("step_het_comp") else None
    comp = None if comp in (None, NO_VAL, INFINITE) else comp
    v: dict[str, Any] = {}
    state_value = cells.req_num("state")
    v["state"], ignored_flags = state_name(state_value)
    if ignored_flags:
        ctx.warnings.append(
            f"{where}: step {step_id}: state {state_value} has flags 0x{ignored_flags:x};"
            f" kept {v['state']}"
        )
    v["kill_requid"] = _kill_requid(cells) if cells.has("kill_requid") else None
    if cells.has("exit_code"):
        raw = cells.num("exit_code", signed=True)
        # A step still open when its job ended keeps NO_VAL, written signed as -2 (§1.6).
        if raw is None or raw in (-2, NO_VAL):
            v["exit_code"] = v["exit_signal"] = None
        else:
            code = ExitCode.from_wait_status(raw)
            v["exit_code"], v["exit_signal"] = code.code, code.signal
    _opt(cells, "step_name", v, "step_name", cells.text_not_null)
    if cells.has("nodelist"):
        v["nodelist"] = _nodelist(cells.raw("nodelist"))
    if cells.has("nodes_alloc"):
        v["nnodes"] = cells.num("nodes_alloc") or 0
    if cells.has("task_cnt"):
        v["ntasks"] = cells.num("task_cnt") or 0
    for name in ("time_start", "time_end"):
        _opt(cells, name, v, name, cells.time)
    if cells.has("time_suspended"):
        v["time_suspended"] = cells.num("time_suspended") or 0
    user = system = None
    if cells.has("user_sec"):
        user = (cells.num("user_sec") or 0) * 1_000_000 + (
            (cells.num("user_usec") or 0) if cells.has("user_usec") else 0
        )
        v["user_cpu_usec"] = user
    if cells.has("sys_sec"):
        system = (cells.num("sys_sec") or 0) * 1_000_000 + (
            (cells.num("sys_usec") or 0) if cells.has("sys_usec") else 0
        )
        v["system_cpu_usec"] = system
    if user is not None or system is not None:
        v["total_cpu_usec"] = (user or 0) + (system or 0)
    if cells.has("tres_alloc"):
        simple = cells.raw("tres_alloc")
        text, unknown = format_tres(simple, ctx.tres_names)
        v["alloc_tres"] = text
        if unknown:
            ctx.warnings.append(
                f"{where}: step {step_id}: TRES id(s) {unknown} have no known name; left out"
            )
        cpus = tres_count(simple, TRES_CPU)
        if cpus is not None:
            v["ncpus"] = cpus
    _opt(cells, "submit_line", v, "submit_line", cells.text)
    _opt(cells, "container", v, "container", cells.text)
    if cells.has("task_dist"):
        dist = cells.num("task_dist", signed=True)
        v["layout"] = None if dist is None else task_layout_name(dist & 0xFFFFFFFF)
    _opt(cells, "req_cpufreq_min", v, "req_cpufreq_min", cells.num)
    _opt(cells, "req_cpufreq", v, "req_cpufreq_max", cells.num)
    _opt(cells, "req_cpufreq_gov", v, "req_cpufreq_gov", cells.num)
    if cells.has("act_cpufreq"):
        khz = cells.real("act_cpufreq")
        v["ave_cpufreq"] = None if khz is None or khz == NO_VAL else round(khz)
    if cells.has("consumed_energy"):
        energy = cells.num("consumed_energy")
        v["consumed_energy"] = None if energy in (NO_VAL64, INFINITE64) else energy
    _read_usage(cells, v, ctx, f"{where}: step {step_id}")
    _check_storable(v)
    return db_inx, _StepRec(0, step_id, comp, v)


#: Typed usage statistics: (usage column, TRES id, what, step column). ``what`` is how the
#: count is kept: "count" as it is, "cpu" milliseconds as whole seconds, "node" as the node's
#: name, "task" as a task id.
_USAGE_STATS: tuple[tuple[str, int, str, str], ...] = (
    ("tres_usage_in_max", TRES_MEM, "count", "max_rss"),
    ("tres_usage_in_max_nodeid", TRES_MEM, "node", "max_rss_node"),
    ("tres_usage_in_max_taskid", TRES_MEM, "task", "max_rss_task"),
    ("tres_usage_in_ave", TRES_MEM, "count", "ave_rss"),
    ("tres_usage_in_max", TRES_VMEM, "count", "max_vmsize"),
    ("tres_usage_in_max_nodeid", TRES_VMEM, "node", "max_vmsize_node"),
    ("tres_usage_in_max_taskid", TRES_VMEM, "task", "max_vmsize_task"),
    ("tres_usage_in_ave", TRES_VMEM, "count", "ave_vmsize"),
    ("tres_usage_in_max", TRES_PAGES, "count", "max_pages"),
    ("tres_usage_in_max_nodeid", TRES_PAGES, "node", "max_pages_node"),
    ("tres_usage_in_max_taskid", TRES_PAGES, "task", "max_pages_task"),
    ("tres_usage_in_ave", TRES_PAGES, "count", "ave_pages"),
    ("tres_usage_in_min", TRES_CPU, "cpu", "min_cpu"),
    ("tres_usage_in_min_nodeid", TRES_CPU, "node", "min_cpu_node"),
    ("tres_usage_in_min_taskid", TRES_CPU, "task", "min_cpu_task"),
    ("tres_usage_in_ave", TRES_CPU, "cpu", "ave_cpu"),
    ("tres_usage_in_max", TRES_FS_DISK, "count", "max_disk_read"),
    ("tres_usage_in_max_nodeid", TRES_FS_DISK, "node", "max_disk_read_node"),
    ("tres_usage_in_max_taskid", TRES_FS_DISK, "task", "max_disk_read_task"),
    ("tres_usage_in_ave", TRES_FS_DISK, "count", "ave_disk_read"),
    ("tres_usage_out_max", TRES_FS_DISK, "count", "max_disk_write"),
    ("tres_usage_out_max_nodeid", TRES_FS_DISK, "node", "max_disk_write_node"),
    ("tres_usage_out_max_taskid", TRES_FS_DISK, "task", "max_disk_write_task"),
    ("tres_usage_out_ave", TRES_FS_DISK, "count", "ave_disk_write"),
)
#: slurmdbd usage columns and the step columns holding their sacct text.
_USAGE_TEXT: tuple[tuple[str, str], ...] = tuple(
    (f"tres_usage_{way}_{what}", f"tres_usage_{way}_{column}")
    for way in ("in", "out")
    for what, column in (
        ("ave", "ave"),
        ("max", "max"),
        ("max_nodeid", "max_node"),
        ("max_taskid", "max_task"),
        ("min", "min"),
        ("min_nodeid", "min_node"),
        ("min_taskid", "min_task"),
        ("tot", "tot"),
    )
)


def step_usage(
    usage: Mapping[str, str | None],
    nodelist: str | None,
    names: Mapping[int, str] | None = None,
) -> tuple[dict[str, Any], list[int]]:
    """The step columns for a step's slurmdbd TRES usage strings, and the ids it cannot name.

    ``usage`` maps slurmdbd's column names (``tres_usage_in_max``, ``tres_usage_out_ave``,
    ``tres_usage_in_max_nodeid``...) to their ``id=count`` strings; only the columns given are
    set. ``nodelist`` is the step's, which node indexes refer to. The result holds sacct's
    TRESUsage* text and the typed statistics derived from the same counts (MaxRSS, AveVMSize,
    MaxDiskRead, MinCPU and their node names and task ids).

    Raises:
        ValueError: a string is not ``id=count[,id=count...]``, or the node list is not a
            host list.
    """
    values: dict[str, Any] = {}
    nodes = _expand_nodes(nodelist) if nodelist else ()
    table = names if names is not None else TRES_NAMES
    cache = _usage_cache(table)
    unknown: set[int] = set()
    for name, column, kind, stats in _USAGE_COLUMNS:
        if name not in usage:
            continue
        simple = usage[name]
        # Node indexes name nodes of this step's list; counts and task ids mean the same
        # in every step (the ave/max/min/tot strings of one step are often the same).
        key = (simple, kind, nodelist) if kind == "node" else (simple, kind)
        found = cache.get(key)
        if found is None:
            if len(cache) > _USAGE_CACHE_SIZE:
                cache.clear()
            text, missing = format_tres_usage(
                simple, table, nodes=list(nodes) if kind == "node" else None, tasks=kind == "task"
            )
            found = cache[key] = (text, tuple(missing), _tres_map(simple))
        values[column] = found[0]
        if found[1]:
            unknown.update(found[1])
        counts = found[2]
        for tres_id, what, stat_column in stats:
            count = counts.get(tres_id)
            if count is None or count in (NO_VAL64, INFINITE64):
                values[stat_column] = None  # as tres_count
            elif what == "cpu":
                values[stat_column] = count // CPU_TIME_ADJ
            elif what == "node":
                values[stat_column] = nodes[count] if count < len(nodes) else None
            elif what == "task":
                values[stat_column] = None if count in (NO_VAL, INFINITE) else count
            else:
                values[stat_column] = count
    return values, sorted(unknown)


#: How each usage column's values print: counts, node indexes or task ids.
_USAGE_KIND = {
    name: "node" if name.endswith("_nodeid") else "task" if name.endswith("_taskid") else "count"
    for name, _ in _USAGE_TEXT
}
_USAGE_CACHE_SIZE = 4_000
#: Per usage column: its step text column, its kind and the typed statistics it holds.
_USAGE_COLUMNS: tuple[tuple[str, str, str, tuple[tuple[int, str, str], ...]], ...] = tuple(
    (
        name,
        column,
        _USAGE_KIND[name],
        tuple((tres_id, what, stat) for src, tres_id, what, stat in _USAGE_STATS if src == name),
    )
    for name, column in _USAGE_TEXT
)
#: Formatted usage strings per TRES name table (held here, so its id stays its own).
_USAGE_CACHES: dict[int, tuple[Mapping[int, str], dict[Any, Any]]] = {}


def _usage_cache(table: Mapping[int, str]) -> dict[Any, Any]:
    entry = _USAGE_CACHES.get(id(table))
    if entry is None or entry[0] is not table:
        if len(_USAGE_CACHES) > 16:
            _USAGE_CACHES.clear()
        entry = _USAGE_CACHES[id(table)] = (table, {})
    return entry[1]


@functools.lru_cache(maxsize=4096)
def _expand_nodes(nodelist: str) -> tuple[str, ...]:
    try:
        return tuple(hostlist.expand_hostlist(nodelist))
    except hostlist.BadHostlist:
        raise ValueError(f"nodelist '{nodelist}' is not a host list") from None


_USAGE_NAMES = tuple(name for name, _ in _USAGE_TEXT)


def _read_usage(cells: _Cells, v: dict[str, Any], ctx: _Context, where: str) -> None:
    row = cells.row
    # cells.raw of each usage column the row has, without a call per column.
    usage = {
        name: None if value == "NULL" else value
        for name in _USAGE_NAMES
        if name in row
        for value in (row[name],)
    }
    if not usage:
        return
    nodelist = cells.raw("nodelist") if cells.has("nodelist") else None
    values, unknown = step_usage(usage, nodelist, ctx.tres_names)
    v.update(values)
    if unknown:
        ctx.warnings.append(f"{where}: TRES usage id(s) {unknown} have no known name; left out")


def _read_all(
    job_rows: Iterable[Mapping[str, str | None]],
    step_rows: Iterable[Mapping[str, str | None]],
    ctx: _Context,
    job_source: str,
    step_source: str,
) -> list[_JobRec]:
    errors: list[str] = []
    jobs: list[_JobRec] = []
    by_inx: dict[int, _JobRec] = {}
    by_key: dict[tuple[int, int], _JobRec] = {}
    bad_inx: set[str] = set()  # job rows already reported: their steps are not reported again
    for number, row in enumerate(job_rows, start=2):
        where = f"{job_source}:{number}"
        try:
            rec = _read_job(_Cells(row), where, ctx)
        except (ValueError, KeyError) as exc:
            errors.append(f"{where}: {exc}")
            bad_inx.add(str(row.get("job_db_inx")))
            continue
        rec.line = number
        key = (rec.job_id_raw, rec.time_submit)
        if rec.db_inx in by_inx:
            errors.append(
                f"{where}: job_db_inx {rec.db_inx} repeats line {by_inx[rec.db_inx].line}"
            )
            continue
        if key in by_key:
            errors.append(
                f"{where}: job {key[0]} submitted at {key[1]} repeats line {by_key[key].line}"
            )
            continue
        by_inx[rec.db_inx] = by_key[key] = rec
        jobs.append(rec)
    seen_steps: dict[tuple[int, int, int | None], int] = {}
    for number, row in enumerate(step_rows, start=2):
        where = f"{step_source}:{number}"
        try:
            db_inx, step = _read_step(_Cells(row), where, ctx)
        except (ValueError, KeyError) as exc:
            errors.append(f"{where}: {exc}")
            continue
        step.line = number
        job = by_inx.get(db_inx)
        if job is None:
            if str(db_inx) not in bad_inx:
                errors.append(f"{where}: job_db_inx {db_inx} is not in the job table")
            continue
        step_key = (db_inx, step.step_id, step.step_het_component)
        if step_key in seen_steps:
            errors.append(f"{where}: step repeats line {seen_steps[step_key]}")
            continue
        seen_steps[step_key] = number
        if "ncpus" not in step.values:
            # print.c: a step without a CPU count in its tres_alloc shows its job's.
            step.values["ncpus"] = job.cpu_from_tres
        _end_open_step(step, job)
        job.steps.append(step)
    if errors:
        _raise(f"{job_source}, {step_source}", errors)
    for job in jobs:
        _sum_cpu(job)
    return jobs


def _end_open_step(step: _StepRec, job: _JobRec) -> None:
    """A step row with no end, of a job that ended, ends with the job and in its state.

    That is how slurmdbd reads it for sacct (as_mysql_jobacct_process.c, ``_cluster_get_jobs``:
    "if the job has ended end the step also", ``step->end = job->end; step->state =
    job->state``): a step a crashed controller never closed prints the job's End and State.
    """
    job_end = job.values.get("time_end")
    if step.values.get("time_end") is None and job_end is not None:
        step.values["time_end"] = job_end
        step.values["state"] = job.values.get("state", step.values.get("state"))


#: Steps count toward the job's CPU times once finished (state >= COMPLETED, §4.1).
_UNFINISHED = {"PENDING", "RUNNING", "SUSPENDED"}


def _sum_cpu(job: _JobRec) -> None:
    totals = {"user_cpu_usec": 0, "system_cpu_usec": 0, "total_cpu_usec": 0}
    for step in job.steps:
        if step.values.get("state") in _UNFINISHED:
            continue
        for column in totals:
            totals[column] += step.values.get(column) or 0
    job.values.update(totals)


# ---------------------------------------------------------------- writing

_JOB_DEFAULTS = {"state": "PENDING"}
_STEP_DEFAULTS = {"state": "PENDING"}


def import_slurmdbd(
    session: Session,
    job_rows: Iterable[Mapping[str, str | None]],
    step_rows: Iterable[Mapping[str, str | None]],
    cluster: str,
    user_names: Mapping[int, str],
    group_names: Mapping[int, str],
    source: str = "slurmdbd",
    *,
    qos_names: Mapping[int, str] | None = None,
    tres_names: Mapping[int, str] | None = None,
    job_source: str | None = None,
    step_source: str | None = None,
) -> SlurmdbdImportResult:
    """Import rows of a Slurm 22.05 slurmdbd's job and step tables, inside the caller's
    transaction.

    ``job_rows`` / ``step_rows`` map column names to the dump's text (``None`` or ``"NULL"``
    for SQL NULL), in file order: row *k* is reported as line *k* + 2 (see
    :func:`read_mysql_tsv`). Step rows join their job by ``job_db_inx``. ``user_names`` and
    ``group_names`` name uids and gids (unknown ones stay NULL); ``qos_names`` names
    ``id_qos`` (QOS is left unset without it); ``tres_names`` replaces :data:`TRES_NAMES`.
    Errors and warnings name ``job_source`` / ``step_source``, by default ``source`` plus
    "job table" / "step table".

    Raises:
        ImportFormatError: listing every unreadable row (bad number, unknown state, step of a
            job not in the job table, repeated key...). Nothing is written then.
    """
    job_where = job_source or f"{source} job table"
    step_where = step_source or f"{source} step table"
    ctx = _Context.of(user_names, group_names, qos_names, tres_names)
    warnings = ctx.warnings
    jobs = _read_all(job_rows, step_rows, ctx, job_where, step_where)
    result = SlurmdbdImportResult(warnings=warnings)
    for rec in jobs:
        job, changed = store.upsert_job(
            session, cluster, rec.job_id_raw, rec.time_submit, rec.values, _JOB_DEFAULTS
        )
        result.jobs_seen += 1
        steps_changed = _store_steps(session, job, rec.steps, result)
        before = (job.derived_exit_code, job.derived_exit_signal, job.derived_annotated)
        if rec.derived is not None:
            store.set_derived_from_record(session, job, rec.derived)
        elif steps_changed:
            store.refresh_derived(session, job)
        after = (job.derived_exit_code, job.derived_exit_signal, job.derived_annotated)
        if changed or before != after:
            result.jobs_changed += 1
    return result


def _store_steps(session: Session, job: Job, steps: list[_StepRec], result: ImportResult) -> bool:
    seen, changed, _counted = store.store_steps(session, job, steps, _STEP_DEFAULTS)
    result.steps_seen += seen
    result.steps_changed += changed
    return changed > 0
