"""The shim's event schema, version 1: one pydantic model per event type (docs/events.md).

Every event is a JSON object with ``"schema": 1``, a ``"type"`` and the idempotency key
(``cluster``, ``job_id_raw``, ``submit``, ``seq``): the job record's key (cluster, JobIDRaw,
Submit; slurmdbd's ``(id_job, time_submit)``) plus the controller's sequence number of the
event within that job. Times are epoch seconds UTC; exit statuses are raw wait(2) values
(``exit``) or sacct's ``code:signal`` text (``exit_code``), exactly one of the two
(slurm-semantics.md §1.1, §1.2). Unknown fields, wrong types and unknown types are refused:
the models are strict, so ``"123"`` is not an integer.

The JSON Schema of the union is committed as docs/event-schema.json (see
:func:`json_schema`).
"""

from __future__ import annotations

import signal as _signal
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from jobacct.checkpoint import CheckpointAction
from jobacct.exitcode import NO_VAL, ExitCode, ExitCodeError
from jobacct.jobid import MAX_JOB_ID, JobIdError, parse_step

SCHEMA_VERSION = 1

#: Terminal job states a ``job_end`` may carry (slurm-semantics.md §1.4, §5.1). REQUEUED is
#: the end of one run of a requeued job: ``job_completion_logger`` runs for it and slurmdbd
#: stores the run as its own record with state JOB_REQUEUE (1024, §7.1); the next run comes
#: with a new Submit, so it is another record.
JobEndState = Literal[
    "REQUEUED",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
]
#: Terminal step states a ``step_end`` may carry when the controller already set one (§1.6).
StepEndState = Literal[
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
]
#: The client calls a signal event may come from (§6.1).
SignalApi = Literal[
    "slurm_kill_job",
    "slurm_kill_job_step",
    "slurm_signal_job",
    "slurm_signal_job_step",
    "slurm_terminate_job_step",
]
#: The legacy checkpoint calls (§9): jobacct.checkpoint.CheckpointAction.

Uint32 = Annotated[int, Field(ge=0, le=0xFFFFFFFF)]
#: A count kept in a signed 64-bit column (bytes, microseconds, MiB).
Int64 = Annotated[int, Field(ge=0, le=2**63 - 1)]
Epoch = Annotated[int, Field(ge=0, le=0xFFFFFFFF, description="epoch seconds UTC")]
#: A raw wait(2) status as the controller holds it (uint32; NO_VAL = never reported).
RawStatus = Annotated[int, Field(ge=0, le=0xFFFFFFFF, description="raw wait(2) status")]
ExitText = Annotated[str, Field(pattern=r"^\d{1,3}:\d{1,3}$", description="code:signal")]
#: A step as sacct writes it after the dot: ``batch``, ``extern``, ``interactive``, ``0``,
#: or ``0+1`` for a het step component.
StepText = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z]+$|^\d+(\+\d+)?$")]
ShortText = Annotated[str, Field(max_length=255)]
LongText = Annotated[str, Field(max_length=65535)]


class _Common(BaseModel):
    """Fields every event carries: the schema version, the type and the idempotency key."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, use_enum_values=True
    )

    schema_version: Literal[1] = Field(alias="schema", description="event schema version")
    cluster: Annotated[str, Field(min_length=1, max_length=64)]
    job_id_raw: Annotated[int, Field(ge=1, le=MAX_JOB_ID, description="JobIDRaw")]
    submit: Epoch
    seq: Annotated[
        int,
        Field(ge=0, le=2**63 - 1, description="the controller's sequence of the event in its job"),
    ]

    @model_validator(mode="after")
    def _not_before_submit(self) -> Any:
        # A start, an end or a request before the job's submission is a broken clock or a
        # forged event, and would print an End in 1970 (tracker issue 14).
        when = getattr(self, "time", None)
        if when is not None and when < self.submit:
            raise ValueError(f"time {when} is before the job's submit time {self.submit}")
        return self

    @property
    def key(self) -> tuple[str, int, int, int]:
        """The idempotency key: (cluster, JobIDRaw, Submit, seq)."""
        return (self.cluster, self.job_id_raw, self.submit, self.seq)

    @property
    def job_key(self) -> tuple[str, int, int]:
        """The job record's key: (cluster, JobIDRaw, Submit)."""
        return (self.cluster, self.job_id_raw, self.submit)


@cache
def _check_step(value: str) -> str:
    head, _, comp = value.partition("+")
    try:
        parse_step(head)
    except JobIdError as exc:
        raise ValueError(str(exc)) from None
    if comp and int(comp) < 1:
        raise ValueError(f"invalid step '{value}': a het step component is >= 1")
    return value


@cache
def step_key(step: str) -> tuple[int, int | None]:
    """``"batch"`` -> (-5, None), ``"0+1"`` -> (0, 1): slurmdbd's signed step id and het part."""
    head, _, comp = step.partition("+")
    return parse_step(head), (int(comp) if comp else None)


class _WithExit(BaseModel):
    """Mixin validator: exactly one of ``exit`` (raw) and ``exit_code`` (``code:signal``)."""

    @model_validator(mode="after")
    def _one_exit(self) -> Any:
        has_raw = getattr(self, "exit", None) is not None
        has_text = getattr(self, "exit_code", None) is not None
        if has_raw == has_text:
            raise ValueError("give exactly one of 'exit' (raw wait status) and 'exit_code'")
        text = getattr(self, "exit_code", None)
        if text is not None:
            try:
                ExitCode.parse(text)
            except ExitCodeError as exc:
                raise ValueError(str(exc)) from None
        return self

    def exit_value(self) -> ExitCode | None:
        """The exit code as sacct prints it; None for NO_VAL (never reported, §1.6)."""
        raw: int | None = getattr(self, "exit", None)
        if raw is not None:
            return None if raw == NO_VAL else ExitCode.from_wait_status(raw)
        return ExitCode.parse(getattr(self, "exit_code"))  # noqa: B009

    def raw_exit(self) -> int | None:
        """The exit as a raw wait status (None for NO_VAL)."""
        raw: int | None = getattr(self, "exit", None)
        if raw is not None:
            return None if raw == NO_VAL else raw
        return ExitCode.parse(getattr(self, "exit_code")).to_wait_status()  # noqa: B009


class JobSubmit(_Common):
    """A job was submitted (or an array task / het component record created)."""

    type: Literal["job_submit"]
    uid: Uint32
    user_name: ShortText | None = None
    gid: Uint32 | None = None
    group_name: ShortText | None = None
    account: ShortText | None = None
    partition: ShortText | None = None
    qos: ShortText | None = None
    job_name: LongText | None = None
    array_job_id: Annotated[int, Field(ge=1, le=MAX_JOB_ID)] | None = None
    array_task_id: Annotated[int, Field(ge=0, le=0xFFFFFFFD)] | None = None
    array_task_str: LongText | None = None
    het_job_id: Annotated[int, Field(ge=1, le=MAX_JOB_ID)] | None = None
    het_job_offset: Annotated[int, Field(ge=0, le=0xFFFFFFFD)] | None = None
    timelimit: (
        Annotated[int, Field(ge=0, le=0xFFFFFFFF, description="minutes; INFINITE, NO_VAL as Slurm")]
        | None
    ) = None
    req_cpus: Uint32 | None = None
    req_nodes: Uint32 | None = None
    req_mem: Annotated[int, Field(ge=0, le=2**63 - 1, description="MiB")] | None = None
    nodelist: LongText | None = None
    work_dir: LongText | None = None
    eligible: Epoch | None = None
    comment: LongText | None = None
    wckey: ShortText | None = None
    reservation: ShortText | None = None
    flags: Annotated[str, Field(max_length=128)] | None = None
    constraints: LongText | None = None


class JobStart(_Common):
    """The job got its allocation and started."""

    type: Literal["job_start"]
    time: Epoch
    nodelist: LongText
    nnodes: Uint32
    ncpus: Uint32


class StepStart(_Common):
    """A step started (``batch``, ``extern``, ``interactive`` or a numbered srun step)."""

    type: Literal["step_start"]
    step: StepText
    time: Epoch
    nodelist: LongText | None = None
    nnodes: Uint32 | None = None
    ntasks: Uint32 | None = None
    ncpus: Uint32 | None = None
    step_name: LongText | None = None

    _step = field_validator("step")(_check_step)


class StepEnd(_WithExit, _Common):
    """A step ended; its state is the controller's if already terminal, else derived (§1.6)."""

    type: Literal["step_end"]
    step: StepText
    time: Epoch
    exit: RawStatus | None = None
    exit_code: ExitText | None = None
    state: StepEndState | None = None
    kill_requid: Uint32 | None = None
    max_rss: Annotated[int, Field(ge=0, le=2**63 - 1, description="bytes")] | None = None
    user_cpu_usec: Int64 | None = None
    system_cpu_usec: Int64 | None = None

    _step = field_validator("step")(_check_step)


class JobEnd(_WithExit, _Common):
    """The job reached a terminal state (``job_completion_logger``, §7.1)."""

    type: Literal["job_end"]
    time: Epoch
    state: JobEndState
    exit: RawStatus | None = None
    exit_code: ExitText | None = None
    reason: ShortText | None = None
    kill_requid: Uint32 | None = None
    derived_exit_code: RawStatus | ExitText | None = None

    def derived_value(self) -> ExitCode | None:
        """The controller's DerivedExitCode, if it sent one (NO_VAL: not sent, §2.2)."""
        value = self.derived_exit_code
        if value is None:
            return None
        if isinstance(value, int):
            return None if value == NO_VAL else ExitCode.from_wait_status(value)
        return ExitCode.parse(value)

    @field_validator("derived_exit_code")
    @classmethod
    def _derived(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str):
            try:
                ExitCode.parse(value)
            except ExitCodeError as exc:
                raise ValueError(str(exc)) from None
        return value


def signal_number(value: int | str) -> int:
    """``9``, ``"9"``, ``"KILL"``, ``"SIGKILL"`` (any case) -> 9.

    Raises:
        ValueError: for a name Python's ``signal.Signals`` does not know.
    """
    if isinstance(value, int):
        return value
    text = value.strip().upper()
    if text.isdigit():
        return int(text)
    name = text if text.startswith("SIG") else "SIG" + text
    try:
        return int(_signal.Signals[name])
    except KeyError:
        raise ValueError(f"unknown signal '{value}'") from None


class Signal(_Common):
    """A signal or cancel request the controller took (slurm-semantics.md §6.1, §6.2)."""

    type: Literal["signal"]
    uid: Uint32
    #: A real signal, 1..64, as slurm_kill_job(3) callers send it (scancel's sig_name2num):
    #: Slurm's pseudo signals (SIG_OOM, 99x) never come from a request (§1.3).
    signal: Annotated[int, Field(ge=1, le=64)] | str
    flags: Annotated[int, Field(ge=0, le=0xFFFF, description="KILL_* bits")] = 0
    time: Epoch
    api: SignalApi
    target: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    reason: LongText | None = None
    admin_comment: LongText | None = None

    @field_validator("signal")
    @classmethod
    def _signal(cls, value: int | str) -> int | str:
        if isinstance(value, str) and not 1 <= signal_number(value) <= 64:
            raise ValueError(f"signal '{value}' is not a signal 1..64")
        return value

    @property
    def signal_value(self) -> int:
        """The signal as a number."""
        return signal_number(self.signal)

    @property
    def target_text(self) -> str:
        """The id as the caller wrote it; the event's JobIDRaw when not given."""
        return self.target or str(self.job_id_raw)


class Checkpoint(_Common):
    """A call of the legacy checkpoint API on a step (slurm-semantics.md §9)."""

    type: Literal["checkpoint"]
    uid: Uint32
    time: Epoch
    step: StepText
    action: CheckpointAction
    error_code: Uint32 | None = None
    error_msg: LongText | None = None
    task_id: Uint32 | None = None

    _step = field_validator("step")(_check_step)


ShimEvent = Annotated[
    JobSubmit | JobStart | StepStart | StepEnd | JobEnd | Signal | Checkpoint,
    Field(discriminator="type"),
]
#: The event types a lifecycle fold handles (everything but requests).
LIFECYCLE_TYPES = frozenset({"job_submit", "job_start", "step_start", "step_end", "job_end"})
EVENT_TYPES = (JobSubmit, JobStart, StepStart, StepEnd, JobEnd, Signal, Checkpoint)


@cache
def adapter() -> TypeAdapter[Any]:
    """The validator of one event (any type); built once."""
    return TypeAdapter(ShimEvent)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one event, as committed in docs/event-schema.json."""
    schema = adapter().json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://jobacct.invalid/event-schema/v1.json",
        "title": f"jobacct shim event, schema {SCHEMA_VERSION}",
        **schema,
    }
