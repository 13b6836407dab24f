"""SQLAlchemy models of job and step records. Columns only: no I/O and no rules here.

Column meanings follow slurmdbd's ``<cluster>_job_table`` / ``<cluster>_step_table``
(slurm-semantics.md §1.1, golden/README.md "How exit codes are stored"), with three changes:
exit codes are two columns (code, signal) instead of a raw wait status, so both halves can be
queried and indexed; "unknown" times are NULL instead of 0; absent array/het ids are NULL
instead of 0 / NO_VAL. All times are epoch seconds UTC; memory is in bytes unless named
otherwise; CPU times are microseconds (the steps' MinCPU/AveCPU: whole seconds).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; elsewhere ids are 64-bit.
PrimaryKey = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention, so Alembic can name constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {str: String(255)}


class Job(Base):
    """One job record: a job, an array task, an array meta record or a het component.

    Unique on (cluster, JobIDRaw, Submit), as slurmdbd's ``(id_job, time_submit)`` index, so a
    requeued or reused job id keeps one record per run.
    """

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(PrimaryKey, primary_key=True, autoincrement=True)
    cluster: Mapped[str] = mapped_column(String(64))
    job_id_raw: Mapped[int] = mapped_column(BigInteger)
    array_job_id: Mapped[int | None] = mapped_column(BigInteger)
    array_task_id: Mapped[int | None] = mapped_column(Integer)
    #: Pending tasks still inside an array meta record (``1-5``), printed ``123_[1-5%2]``.
    array_task_str: Mapped[str | None] = mapped_column(Text)
    array_max_tasks: Mapped[int | None] = mapped_column(Integer)
    het_job_id: Mapped[int | None] = mapped_column(BigInteger)
    het_job_offset: Mapped[int | None] = mapped_column(Integer)

    job_name: Mapped[str] = mapped_column(Text, default="")
    user_name: Mapped[str | None] = mapped_column(String(64))
    uid: Mapped[int] = mapped_column(BigInteger)
    group_name: Mapped[str | None] = mapped_column(String(64))
    gid: Mapped[int | None] = mapped_column(BigInteger)
    account: Mapped[str | None]
    partition: Mapped[str | None]
    qos: Mapped[str | None] = mapped_column(String(64))
    reservation: Mapped[str | None]
    wckey: Mapped[str | None]
    constraints: Mapped[str | None] = mapped_column(Text)
    work_dir: Mapped[str | None] = mapped_column(Text)
    submit_line: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[str | None] = mapped_column(String(128))
    priority: Mapped[int | None] = mapped_column(BigInteger)

    nodelist: Mapped[str | None] = mapped_column(Text)
    nnodes: Mapped[int] = mapped_column(Integer, default=0)
    ncpus: Mapped[int] = mapped_column(Integer, default=0)
    req_cpus: Mapped[int | None] = mapped_column(Integer)
    #: Requested memory in MiB (sacct's ReqMem has an MB base, §4.1).
    req_mem: Mapped[int | None] = mapped_column(BigInteger)
    alloc_tres: Mapped[str | None] = mapped_column(Text)
    req_tres: Mapped[str | None] = mapped_column(Text)
    #: Minutes; Slurm's INFINITE (0xffffffff) is UNLIMITED, NO_VAL (0xfffffffe) Partition_Limit.
    timelimit: Mapped[int | None] = mapped_column(BigInteger)

    time_submit: Mapped[int] = mapped_column(BigInteger)
    time_eligible: Mapped[int | None] = mapped_column(BigInteger)
    time_start: Mapped[int | None] = mapped_column(BigInteger)
    time_end: Mapped[int | None] = mapped_column(BigInteger)
    #: Seconds spent suspended.
    time_suspended: Mapped[int] = mapped_column(BigInteger, default=0)

    #: Base state name as sacct spells it (COMPLETED, CANCELLED, OUT_OF_MEMORY, REQUEUED...).
    state: Mapped[str] = mapped_column(String(32))
    #: ``state_reason_prev`` as a string (§5.4: numbers shift between releases).
    reason: Mapped[str | None] = mapped_column(String(64))
    #: uid of whoever cancelled the job (slurmdbd ``kill_requid``); NULL if nobody did.
    kill_requid: Mapped[int | None] = mapped_column(BigInteger)
    # Cancellation provenance that Slurm throws away (tracker issue 5): when the cancel
    # request that ended the job arrived (epoch UTC), with which signal number, the job's base
    # state at that moment (PENDING, RUNNING, SUSPENDED), and the reason the requester gave.
    cancel_time: Mapped[int | None] = mapped_column(BigInteger)
    cancel_signal: Mapped[int | None] = mapped_column(SmallInteger)
    cancel_state: Mapped[str | None] = mapped_column(String(32))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    exit_code: Mapped[int | None] = mapped_column(SmallInteger)
    exit_signal: Mapped[int | None] = mapped_column(SmallInteger)
    derived_exit_code: Mapped[int] = mapped_column(SmallInteger, default=0)
    derived_exit_signal: Mapped[int] = mapped_column(SmallInteger, default=0)
    #: True once a user set DerivedExitCode; step updates no longer overwrite it.
    derived_annotated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A newer record of the same (cluster, JobIDRaw) exists and is not REVOKED (a requeue,
    #: a reused id): kept by every writer (jobacct/superseded.py) so that sacct's newest-record
    #: test (§4.8) runs only for these records.
    superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: DerivedExitCode as Slurm's rule computes it from the steps (§2.1), kept beside the
    #: user's value so both stay queryable.
    computed_exit_code: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    computed_exit_signal: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    #: The user's note: slurmdbd ``derived_es``, printed by sacct as Comment.
    comment: Mapped[str | None] = mapped_column(Text)
    admin_comment: Mapped[str | None] = mapped_column(Text)
    system_comment: Mapped[str | None] = mapped_column(Text)

    user_cpu_usec: Mapped[int | None] = mapped_column(BigInteger)
    system_cpu_usec: Mapped[int | None] = mapped_column(BigInteger)
    #: Kept on its own: sacct sums microseconds before rounding, so TotalCPU is not always
    #: UserCPU + SystemCPU as printed.
    total_cpu_usec: Mapped[int | None] = mapped_column(BigInteger)

    #: slurmdbd's ``job_db_inx`` (sacct's DBIndex), when the record came from slurmdbd.
    db_index: Mapped[int | None] = mapped_column(BigInteger)
    #: slurmdbd ids: association (AssocID), QOS (QOSRAW), WCKey (WCKeyID), reservation
    #: (ReservationId; NULL when the job ran in none).
    assoc_id: Mapped[int | None] = mapped_column(BigInteger)
    qos_id: Mapped[int | None] = mapped_column(BigInteger)
    wckey_id: Mapped[int | None] = mapped_column(BigInteger)
    resv_id: Mapped[int | None] = mapped_column(BigInteger)
    #: Requested node count (ReqNodes: the node count of the requested TRES).
    req_nodes: Mapped[int | None] = mapped_column(Integer)
    #: Joules (ConsumedEnergy): the energy count of the job's allocated TRES; NULL when Slurm
    #: recorded it as unknown (NO_VAL).
    consumed_energy: Mapped[int | None] = mapped_column(BigInteger)
    mcs_label: Mapped[str | None] = mapped_column(Text)
    block_id: Mapped[str | None] = mapped_column(Text)
    container: Mapped[str | None] = mapped_column(Text)

    steps: Mapped[list[Step]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        order_by="(Step.step_id, Step.step_het_component)",
        lazy="raise",
    )

    __table_args__ = (
        UniqueConstraint("cluster", "job_id_raw", "time_submit"),
        Index(None, "job_id_raw"),
        Index(None, "array_job_id", "array_task_id"),
        # The sacct window shapes (§4.7; performance.md "Query-plan trap"): eligible/end for
        # plain listings, user + start/end for one user's jobs, state + end for -s.
        Index(None, "time_eligible", "time_end"),
        Index(None, "time_end"),
        Index(None, "uid", "time_start", "time_end"),
        # -u NAME: a user's jobs by name, the window tested on the index (migration 0009).
        Index(None, "user_name", "time_eligible", "time_end"),
        Index(None, "account", "time_end"),
        Index(None, "state", "time_end"),
        Index(None, "exit_code", "exit_signal"),
        Index(None, "derived_exit_code", "derived_exit_signal"),
        # -j 123+1 (het components) and -M with a window (plan checks, tracker issue 3).
        Index(None, "het_job_id", "het_job_offset"),
        Index(None, "cluster", "time_eligible", "time_end"),
        # Not declared here: SQLite's ix_job_span on (time_end - time_eligible), made by
        # migration 0006 (SQLAlchemy cannot reflect expression indexes on SQLite).
    )


class Step(Base):
    """One step of a job: ``batch``, ``extern``, ``interactive``, ``TBD`` or a numbered srun step.

    ``step_id`` uses slurmdbd's signed encoding (batch -5, extern -4, TBD -3, interactive -6).
    """

    __tablename__ = "step"

    id: Mapped[int] = mapped_column(PrimaryKey, primary_key=True, autoincrement=True)
    job_pk: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(BigInteger)
    step_het_component: Mapped[int | None] = mapped_column(Integer)
    step_name: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(32))
    kill_requid: Mapped[int | None] = mapped_column(BigInteger)
    exit_code: Mapped[int | None] = mapped_column(SmallInteger)
    exit_signal: Mapped[int | None] = mapped_column(SmallInteger)

    nodelist: Mapped[str | None] = mapped_column(Text)
    nnodes: Mapped[int] = mapped_column(Integer, default=0)
    ntasks: Mapped[int] = mapped_column(Integer, default=0)
    ncpus: Mapped[int] = mapped_column(Integer, default=0)
    alloc_tres: Mapped[str | None] = mapped_column(Text)

    time_start: Mapped[int | None] = mapped_column(BigInteger)
    time_end: Mapped[int | None] = mapped_column(BigInteger)
    time_suspended: Mapped[int] = mapped_column(BigInteger, default=0)
    user_cpu_usec: Mapped[int | None] = mapped_column(BigInteger)
    system_cpu_usec: Mapped[int | None] = mapped_column(BigInteger)
    total_cpu_usec: Mapped[int | None] = mapped_column(BigInteger)
    #: Bytes.
    max_rss: Mapped[int | None] = mapped_column(BigInteger)

    submit_line: Mapped[str | None] = mapped_column(Text)
    container: Mapped[str | None] = mapped_column(Text)

    # Checkpoint accounting (the slurm_checkpoint_* API, slurm-semantics.md §9): whether the
    # step may be checkpointed (NULL: never said, treated as able), and the highest error code
    # any completion reported with the message that came with that code.
    checkpointable: Mapped[bool | None] = mapped_column(Boolean)
    checkpoint_error_code: Mapped[int | None] = mapped_column(BigInteger)
    checkpoint_error_msg: Mapped[str | None] = mapped_column(Text)
    #: Epoch UTC of the last checkpoint request or completion.
    checkpoint_time: Mapped[int | None] = mapped_column(BigInteger)
    #: Task distribution as sacct names it (Layout): Block, Cyclic, Plane, Unknown...
    layout: Mapped[str | None] = mapped_column(String(64))
    #: Requested CPU frequencies, Slurm's raw uint32 values: kHz, or a CPU_FREQ_* flag value
    #: (Low, High, a governor...); NO_VAL when not requested.
    req_cpufreq_min: Mapped[int | None] = mapped_column(BigInteger)
    req_cpufreq_max: Mapped[int | None] = mapped_column(BigInteger)
    req_cpufreq_gov: Mapped[int | None] = mapped_column(BigInteger)
    #: Average CPU frequency in kHz (AveCPUFreq).
    ave_cpufreq: Mapped[int | None] = mapped_column(BigInteger)
    #: Joules (ConsumedEnergy).
    consumed_energy: Mapped[int | None] = mapped_column(BigInteger)

    # Usage statistics: memory and disk in bytes, pages as counts, CPU in whole seconds
    # (sacct truncates Slurm's milliseconds); *_node is the node's name, *_task the task id.
    max_rss_node: Mapped[str | None] = mapped_column(String(255))
    max_rss_task: Mapped[int | None] = mapped_column(BigInteger)
    ave_rss: Mapped[int | None] = mapped_column(BigInteger)
    max_vmsize: Mapped[int | None] = mapped_column(BigInteger)
    max_vmsize_node: Mapped[str | None] = mapped_column(String(255))
    max_vmsize_task: Mapped[int | None] = mapped_column(BigInteger)
    ave_vmsize: Mapped[int | None] = mapped_column(BigInteger)
    max_pages: Mapped[int | None] = mapped_column(BigInteger)
    max_pages_node: Mapped[str | None] = mapped_column(String(255))
    max_pages_task: Mapped[int | None] = mapped_column(BigInteger)
    ave_pages: Mapped[int | None] = mapped_column(BigInteger)
    min_cpu: Mapped[int | None] = mapped_column(BigInteger)
    min_cpu_node: Mapped[str | None] = mapped_column(String(255))
    min_cpu_task: Mapped[int | None] = mapped_column(BigInteger)
    ave_cpu: Mapped[int | None] = mapped_column(BigInteger)
    max_disk_read: Mapped[int | None] = mapped_column(BigInteger)
    max_disk_read_node: Mapped[str | None] = mapped_column(String(255))
    max_disk_read_task: Mapped[int | None] = mapped_column(BigInteger)
    ave_disk_read: Mapped[int | None] = mapped_column(BigInteger)
    max_disk_write: Mapped[int | None] = mapped_column(BigInteger)
    max_disk_write_node: Mapped[str | None] = mapped_column(String(255))
    max_disk_write_task: Mapped[int | None] = mapped_column(BigInteger)
    ave_disk_write: Mapped[int | None] = mapped_column(BigInteger)

    # The TRES usage of the step as sacct prints it (TRESUsageIn*/TRESUsageOut*): names,
    # unit-converted values, node names for *_node and task ids for *_task.
    tres_usage_in_ave: Mapped[str | None] = mapped_column(Text)
    tres_usage_in_max: Mapped[str | None] = mapped_column(Text)
    tres_usage_in_max_node: Mapped[str | None] = mapped_column(Text)
    tres_usage_in_max_task: Mapped[str | None] = mapped_column(Text)
    tres_usage_in_min: Mapped[str | None] = mapped_column(Text)
    tres_usage_in_min_node: Mapped[str | None] = mapped_column(Text)
    tres_usage_in_min_task: Mapped[str | None] = mapped_column(Text)
    tres_usage_in_tot: Mapped[str | None] = mapped_column(Text)
    tres_usage_out_ave: Mapped[str | None] = mapped_column(Text)
    tres_usage_out_max: Mapped[str | None] = mapped_column(Text)
    tres_usage_out_max_node: Mapped[str | None] = mapped_column(Text)
    tres_usage_out_max_task: Mapped[str | None] = mapped_column(Text)
    tres_usage_out_min: Mapped[str | None] = mapped_column(Text)
    tres_usage_out_min_node: Mapped[str | None] = mapped_column(Text)
    tres_usage_out_min_task: Mapped[str | None] = mapped_column(Text)
    tres_usage_out_tot: Mapped[str | None] = mapped_column(Text)

    job: Mapped[Job] = relationship(back_populates="steps", lazy="raise")

    __table_args__ = (
        UniqueConstraint("job_pk", "step_id", "step_het_component"),
        Index(None, "exit_code", "exit_signal"),
    )


class UserPrivilege(Base):
    """A user's AdminLevel (sacctmgr's None / Operator / Administrator), keyed by uid."""

    __tablename__ = "user_privilege"

    uid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_name: Mapped[str | None] = mapped_column(String(64))
    admin_level: Mapped[str] = mapped_column(String(16))


class Coordinator(Base):
    """An account coordinator. Coordinators get no annotation rights (§2.3); kept for scancel."""

    __tablename__ = "coordinator"

    uid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(255), primary_key=True)


class Annotation(Base):
    """One change of an annotated field (append-only history): who, when, from what, to what."""

    __tablename__ = "annotation"

    id: Mapped[int] = mapped_column(PrimaryKey, primary_key=True, autoincrement=True)
    job_pk: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    #: DerivedExitCode, Comment, AdminComment or SystemComment.
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    uid: Mapped[int] = mapped_column(BigInteger)
    #: Epoch seconds UTC.
    time: Mapped[int] = mapped_column(BigInteger)
    #: The command that made the change: sjobexitmod, modify-job, import.
    command: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index(None, "job_pk", "id"),)


class Event(Base):
    """The shim's append-only journal: every applied controller event, once.

    Unique on the idempotency key (cluster, JobIDRaw, Submit, controller sequence), so an event
    delivered twice is recognised and skipped (tracker issue 5).
    """

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(PrimaryKey, primary_key=True, autoincrement=True)
    cluster: Mapped[str] = mapped_column(String(64))
    job_id_raw: Mapped[int] = mapped_column(BigInteger)
    time_submit: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    #: The event's type (job_submit, job_start, step_start, step_end, job_end, signal, ...).
    kind: Mapped[str] = mapped_column(String(32))
    #: The event as received, JSON text.
    payload: Mapped[str] = mapped_column(Text)
    #: Epoch UTC (seconds, fractional) when the store accepted it.
    received: Mapped[float] = mapped_column(Double)
    #: SUCCESS or the ESLURM_* name the event's rule answered with (e.g. ESLURM_ALREADY_DONE).
    result: Mapped[str] = mapped_column(String(64), default="SUCCESS")

    __table_args__ = (UniqueConstraint("cluster", "job_id_raw", "time_submit", "seq"),)


class SignalRequest(Base):
    """Provenance of every signal or cancel request applied to a job or step (append-only).

    Slurm keeps only ``kill_requid``; this keeps who asked, when, which signal, with which
    flags and reason, what the job's state was, and what the request answered.
    """

    __tablename__ = "signal_request"

    id: Mapped[int] = mapped_column(PrimaryKey, primary_key=True, autoincrement=True)
    job_pk: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    #: The step's signed id (slurmdbd encoding) when one step was addressed, else NULL.
    step_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The JobID the request addressed on this record, as sacct prints it (``123_7`` for a
    #: task still inside its array's meta record, ``123+1``, ``123``).
    target: Mapped[str | None] = mapped_column(String(255))
    #: The API the request came through: slurm_kill_job, slurm_kill_job_step, scancel, ...
    api: Mapped[str] = mapped_column(String(32))
    uid: Mapped[int] = mapped_column(BigInteger)
    signal: Mapped[int] = mapped_column(SmallInteger)
    #: KILL_* flag bits (slurm.h: KILL_JOB_BATCH 1, KILL_STEPS_ONLY 4, KILL_FULL_JOB 8, ...).
    flags: Mapped[int] = mapped_column(Integer, default=0)
    #: Epoch UTC of the request.
    time: Mapped[int] = mapped_column(BigInteger)
    #: The job's base state when the request arrived.
    state_before: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    admin_comment: Mapped[str | None] = mapped_column(Text)
    #: SUCCESS or the ESLURM_* name answered.
    result: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index(None, "job_pk", "id"), Index(None, "time"))


class ImportWatermark(Base):
    """How far ``jobacct import slurmdbd --from`` has read one source (incremental imports).

    ``source`` names the slurmdbd database and cluster (``host/db/cluster``, no password);
    the next incremental run reads the job rows with a larger ``job_db_inx`` or a
    ``mod_time`` at or after ``last_mod_time`` (epoch seconds UTC), with their steps.
    """

    __tablename__ = "import_watermark"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    last_job_db_inx: Mapped[int] = mapped_column(BigInteger)
    last_mod_time: Mapped[int] = mapped_column(BigInteger)
    #: Epoch UTC of the last run that moved the marks.
    updated: Mapped[int] = mapped_column(BigInteger)
