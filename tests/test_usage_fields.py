"""Step usage statistics and the other fields sacct derives: rendering, import inverses, rules.

The golden views (03 --format=ALL, 08 -l) check the cells the golden cluster produced; these
tests cover the values it never produced (big disk counts, named CPU frequencies, layouts with
flags, unknown node indexes, jobs still pending...).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobacct.config import make_engine
from jobacct.fields import (
    DEFAULT_FORMAT,
    FIELDS,
    FIELDS_BY_NAME,
    LONG_FORMAT,
    NO_VAL,
    USAGE_STEP_COLUMNS,
    Ctx,
    format_cpu_freq,
    resolve_format,
    usage_step_columns,
)
from jobacct.importer import _cpu_freq, _disk, import_sacct
from jobacct.model import Job, Step
from jobacct.slurmdbd_import import (
    INFINITE64,
    NO_VAL64,
    format_tres_usage,
    step_usage,
    task_layout_name,
)

MIB = 1 << 20


def _step_cell(name: str, **columns: Any) -> str:
    row = SimpleNamespace(**{"s_" + key: value for key, value in columns.items()})
    return FIELDS_BY_NAME[name.lower()].step(row, Ctx(now=0))


def _job_cell(name: str, now: int = 0, **columns: Any) -> str:
    getter = FIELDS_BY_NAME[name.lower()].job
    assert getter is not None
    return getter(SimpleNamespace(**columns), Ctx(now=now))


def test_every_slurm_22_05_field_is_stored() -> None:
    assert all(f.supported for f in FIELDS)
    assert [c.field.name for c in resolve_format("ALL")] == [f.name for f in FIELDS]
    assert len(resolve_format(LONG_FORMAT)) == 54


def test_usage_columns_a_query_may_leave_out() -> None:
    assert USAGE_STEP_COLUMNS.issubset(c.name for c in Step.__table__.columns)
    assert "tres_usage_out_tot" in USAGE_STEP_COLUMNS and "ncpus" not in USAGE_STEP_COLUMNS
    assert usage_step_columns(resolve_format(DEFAULT_FORMAT)) == set()
    assert usage_step_columns(resolve_format("JobID,MaxRSS,TRESUsageInTot")) == {
        "max_rss",
        "tres_usage_in_tot",
    }
    assert usage_step_columns(resolve_format("ALL")) == set(USAGE_STEP_COLUMNS)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (0, "0"),
        (1, "0.00M"),
        (15319, "0.01M"),
        (MIB, "1.00M"),  # up to 1 MB: %.2fM, not converted
        (MIB + MIB // 2, "1.50M"),
        (12 * MIB, "12M"),
        (3 * MIB // 2 * 1024, "1.50G"),
        (4000 * MIB, "4000M"),
    ],
)
def test_disk_cells_and_their_inverse(value: int | None, text: str) -> None:
    assert _step_cell("MaxDiskRead", max_disk_read=value) == text
    assert _step_cell("AveDiskWrite", ave_disk_write=value) == text
    # The importer's inverse gives bytes that print the same.
    back = _disk(text)
    assert _step_cell("MaxDiskRead", max_disk_read=back) == text
    assert (back == 0) == (value == 0)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "Unknown"),  # a job line: NO_VAL
        (NO_VAL, "Unknown"),
        (0, "0"),
        (2_600_000, "2.60G"),
        (1_200_000, "1.20G"),
        (800, "800K"),
        (0x80000001, "Low"),
        (0x80000004, "Highm1"),
        (0x80000003, "High"),
        (0x82000000, "Performance"),
        (0x84000000, "OnDemand"),
        (0x80400000, "Unknown"),  # SchedUtil: 22.05 has no name for it
    ],
)
def test_requested_cpu_frequency(value: int | None, text: str) -> None:
    assert format_cpu_freq(value) == text
    back = _cpu_freq(text)
    assert format_cpu_freq(back) == text


def test_statistics_cells() -> None:
    assert _step_cell("AveCPUFreq", ave_cpufreq=2596) == "2.60M"
    assert _step_cell("AveCPUFreq", ave_cpufreq=None) == ""
    assert _step_cell("MinCPU", min_cpu=3725) == "01:02:05"
    assert _step_cell("AveCPU", ave_cpu=0) == "00:00:00"
    assert _step_cell("AveCPU", ave_cpu=90061) == "1-01:01:01"
    assert _step_cell("ConsumedEnergy", consumed_energy=1500) == "1.50K"
    assert _step_cell("ConsumedEnergyRaw", consumed_energy=1500) == "1500"
    assert _step_cell("MaxRSSTask", max_rss_task=NO_VAL) == ""
    assert _step_cell("MaxVMSize", max_vmsize=78278656) == "76444K"
    # Job lines leave the statistics blank.
    assert _job_cell("MaxVMSize") == "" and _job_cell("TRESUsageInTot") == ""


def test_job_energy_blank_when_unknown() -> None:
    assert _job_cell("ConsumedEnergy", consumed_energy=None) == ""
    assert _job_cell("ConsumedEnergy", consumed_energy=0) == "0"
    assert _job_cell("ConsumedEnergy", consumed_energy=2_500_000) == "2.50M"


@pytest.mark.parametrize(
    ("eligible", "start", "end", "now", "reserved", "cpus"),
    [
        (100, 160, 200, 999, "00:01:00", "00:04:00"),  # eligible -> start, x ReqCPUS
        # ended without starting: start is NO_VAL for print.c, and NO_VAL - eligible wraps
        # negative in its int (real 22.05.8; see test_oracle_findings.py for real numbers)
        (100, None, 130, 999, "INVALID", "INVALID"),
        (100, None, None, 3700, "01:00:00", "04:00:00"),  # still pending: -> now
        (None, None, None, 999, "00:00:00", "00:00:00"),  # never eligible
        (500, None, 130, 999, "INVALID", "INVALID"),  # cancelled before its --begin
    ],
)
def test_reserved(
    eligible: int | None, start: int | None, end: int | None, now: int, reserved: str, cpus: str
) -> None:
    row = dict(time_eligible=eligible, time_start=start, time_end=end, req_cpus=4)
    assert _job_cell("Reserved", now, **row) == reserved
    assert _job_cell("ResvCPU", now, **row) == cpus


def test_ids_blank_when_unset() -> None:
    assert _job_cell("ReservationId", resv_id=None) == ""
    assert _job_cell("QOSRAW", qos_id=NO_VAL) == ""
    assert _job_cell("WCKeyID", wckey_id=0) == "0"
    assert _job_cell("ReqNodes", req_nodes=2048) == "2K"
    assert _job_cell("ReqNodes", req_nodes=None) == "0"


@pytest.mark.parametrize(
    ("dist", "name"),
    [
        (0, "Unknown"),
        (1, "Cyclic"),
        (2, "Block"),
        (3, "arbitrary task distribution"),  # real 22.05.8 (tests/test_oracle.py)
        (4, "Plane"),
        (0x21, "CBlock"),
        (0x32, "BFCyclic"),
        (0x800002, "Block,Pack"),
        (0x400001, "Cyclic,NoPack"),
        (0x2000, "Unknown"),
        (0x0222, "BBlockBlock"),
        (0x800222, "BBlockBlock,Pack"),  # real 22.05.8 prints CCyclicCyclic,Pack
    ],
)
def test_task_layout_names(dist: int, name: str) -> None:
    assert task_layout_name(dist) == name


def test_tres_usage_text() -> None:
    usage = "1=61000,2=3379200,3=0,6=15319,7=78278656,8=0"
    assert format_tres_usage(usage) == (
        "cpu=00:01:01,energy=0,fs/disk=15319,mem=3300K,pages=0,vmem=76444K",
        [],
    )
    nodes = ["n1", "n2"]
    assert format_tres_usage("1=1,2=0,6=5", nodes=nodes) == ("cpu=n2,fs/disk=(null),mem=n1", [])
    assert format_tres_usage("1=7,2=3", tasks=True) == ("cpu=7,mem=3", [])
    assert format_tres_usage(f"2={NO_VAL64},6={INFINITE64},99=1") == ("fs/disk=NONE", [99])
    assert format_tres_usage("") == (None, [])


def test_step_usage_derives_the_statistics() -> None:
    values, unknown = step_usage(
        {
            "tres_usage_in_max": "1=5000,2=2048,6=3,7=4096,8=2",
            "tres_usage_in_max_nodeid": "2=1,7=9",
            "tres_usage_in_max_taskid": f"2=3,7={NO_VAL}",
            "tres_usage_in_min": "1=1999",
            "tres_usage_out_ave": "3=0,6=1",
        },
        "tux[001-002]",
    )
    assert unknown == []
    assert values["max_rss"] == 2048 and values["max_vmsize"] == 4096
    assert values["max_pages"] == 2 and values["max_disk_read"] == 3
    assert values["max_rss_node"] == "tux002" and values["max_vmsize_node"] is None
    assert values["max_rss_task"] == 3 and values["max_vmsize_task"] is None
    assert values["min_cpu"] == 1  # milliseconds, truncated to seconds
    assert values["ave_disk_write"] == 1
    assert values["tres_usage_in_max_node"] == "mem=tux002,vmem=(null)"
    assert "ave_rss" not in values  # tres_usage_in_ave was not given


def test_sacct_import_prefers_the_raw_energy(sqlite_url: str) -> None:
    lines = [
        "JobID|JobIDRaw|UID|Submit|ConsumedEnergyRaw|ConsumedEnergy|ReqCPUFreq|ReqCPUFreqMax",
        "7|7|0|2026-01-01T00:00:00|1234567|1.23M|Unknown|Unknown",
        "7.0|7.0||2026-01-01T00:00:01|1234567|1.23M|Low|High",
    ]
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        result = import_sacct(session, lines, "c")
        assert result.ignored_fields == []
    with Session(engine) as session:
        job = session.scalars(select(Job)).one()
        step = session.scalars(select(Step)).one()
        assert job.consumed_energy == step.consumed_energy == 1234567
        assert step.req_cpufreq_max == 0x80000003  # ReqCPUFreqMax wins over ReqCPUFreq
    engine.dispose()
