"""Job and step identifiers: parsing ``-j`` selectors and printing JobID / JobIDRaw.

Forms follow ``unfmt_job_id_string`` and ``slurmdb_get_job_id_str`` (slurm-semantics.md §4.9):
``123``, ``123.4``, ``123.batch``, ``123.extern``, ``123.interactive``, ``123.TBD``,
``123_7``, ``123_7.0``, ``123+1``, ``123+1.0``, ``123.0+1``.
"""

from __future__ import annotations

import re
from collections import namedtuple

#: Special step ids as slurmdbd stores them in ``id_step`` (signed; §0 of the reference).
PENDING_STEP = -3
EXTERN_STEP = -4
BATCH_STEP = -5
INTERACTIVE_STEP = -6

#: How sacct prints the special steps. The pending step is "TDB" in Slurm 22.05's sacct
#: (``log_build_step_id_str``'s spelling; real 22.05.8 prints ``3000.TDB``, found by the oracle
#: test), while ``-j`` takes ``TBD`` (``_STEP_BY_NAME``).
STEP_NAMES: dict[int, str] = {
    BATCH_STEP: "batch",
    EXTERN_STEP: "extern",
    INTERACTIVE_STEP: "interactive",
    PENDING_STEP: "TDB",
}
_STEP_BY_NAME = {
    "batch": BATCH_STEP,
    "extern": EXTERN_STEP,
    "interactive": INTERACTIVE_STEP,
    "tbd": PENDING_STEP,
}

#: Largest job id Slurm hands out (``MAX_JOB_ID`` 0x03FFFFFF is the default; the wire type is
#: uint32 and the DB column ``int unsigned``).
MAX_JOB_ID = 0xFFFFFFFF - 3

_SELECTOR = re.compile(
    r"(?P<job>\d+)"
    r"(?:_(?P<task>\d+)|\+(?P<het>\d+))?"
    r"(?:\.(?P<step>[A-Za-z]+|\d+)(?:\+(?P<stepcomp>\d+))?)?",
    re.ASCII,  # full-width or other scripts' digits are not a job id (issue 14)
)


#: The job table's ``cluster`` column (String(64)); slurmdbd's cluster names are shorter.
MAX_CLUSTER_NAME = 64


def check_cluster_name(text: str) -> str:
    """A cluster name as given to an import or the shim.

    Raises:
        ValueError: empty, longer than :data:`MAX_CLUSTER_NAME`, or holding a character that
            is not a letter, digit, ``-``, ``_`` or ``.`` (slurm.conf's ClusterName).
    """
    if not text or len(text) > MAX_CLUSTER_NAME or not re.fullmatch(r"[A-Za-z0-9_.-]+", text):
        raise ValueError(
            f"invalid cluster name '{text}': 1-{MAX_CLUSTER_NAME} letters, digits, '-', '_', '.'"
        )
    return text


class JobIdError(ValueError):
    """A job or step id that cannot be parsed; the message names the bad token."""


def step_name(step_id: int) -> str:
    """The step part of a JobID as sacct prints it: ``batch``, ``extern``, ``0``, ..."""
    return STEP_NAMES.get(step_id, str(step_id))


def parse_step(text: str) -> int:
    """Parse the step part of an id: a number or a (case-insensitive prefix of a) step name.

    Raises:
        JobIdError: for anything else, e.g. ``x`` in ``3.x`` (sacct: "Bad step specified").
    """
    if text.isascii() and text.isdigit():
        value = int(text)
        if value > 0xFFFFFFF0:
            raise JobIdError(f"invalid step id '{text}'")
        return value
    lowered = text.lower()
    matches = [step for name, step in _STEP_BY_NAME.items() if name.startswith(lowered)]
    if len(matches) != 1:
        raise JobIdError(f"invalid step id '{text}'")
    return matches[0]


class JobSelector(
    namedtuple(
        "JobSelector",
        ["job_id", "array_task", "het_offset", "step_id", "step_het_component"],
        defaults=[None, None, None, None],
    )
):
    """One ``-j`` item: a job (or array task, or het component), optionally one step of it.

    ``job_id`` is the number before ``_``/``+``/``.``: an array job id when ``array_task`` is
    given, a het leader id when ``het_offset`` is given, otherwise matched against JobIDRaw,
    array job ids and het job ids alike, as sacct does (§4.9 "Matching"). The others default
    to None.

    The immutable value types on ``sacct``'s path are ``collections.namedtuple`` classes,
    typed by the annotations below: frozen dataclasses (dataclasses imports inspect) and
    ``typing.NamedTuple`` (typing) cost ``sacct -j`` about 15 ms of start-up (tracker
    issue 16).
    """

    __slots__ = ()
    job_id: int
    array_task: int | None
    het_offset: int | None
    step_id: int | None
    step_het_component: int | None

    def __str__(self) -> str:
        text = str(self.job_id)
        if self.array_task is not None:
            text += f"_{self.array_task}"
        if self.het_offset is not None:
            text += f"+{self.het_offset}"
        if self.step_id is not None:
            text += f".{step_name(self.step_id)}"
            if self.step_het_component is not None:
                text += f"+{self.step_het_component}"
        return text


def parse_selector(text: str) -> JobSelector:
    """Parse one job/step id as ``sacct -j`` takes it.

    Raises:
        JobIdError: on an empty, malformed, zero or too large id (``12_``, ``1.2.3``, ``abc``).
    """
    token = text.strip()
    match = _SELECTOR.fullmatch(token)
    if match is None:
        raise JobIdError(f"invalid job id '{text}'")
    job_id = int(match.group("job"))
    if job_id == 0 or job_id > MAX_JOB_ID:
        raise JobIdError(f"invalid job id '{text}': must be 1..{MAX_JOB_ID}")
    step_text = match.group("step")
    step_id = parse_step(step_text) if step_text is not None else None
    comp = match.group("stepcomp")
    if comp is not None and int(comp) < 1:
        # §4.9: a het step component in "123.0+1" must be >= 1.
        raise JobIdError(f"invalid job id '{text}': het step component must be >= 1")
    return JobSelector(
        job_id=job_id,
        array_task=_opt_int(match.group("task")),
        het_offset=_opt_int(match.group("het")),
        step_id=step_id,
        step_het_component=_opt_int(comp),
    )


def parse_selectors(text: str) -> list[JobSelector]:
    """Parse a comma-separated ``-j`` list (no empty items).

    Raises:
        JobIdError: naming the first bad item.
    """
    items = text.split(",")
    if any(not item.strip() for item in items):
        raise JobIdError(f"invalid job list '{text}': empty item")
    return [parse_selector(item) for item in items]


def _opt_int(value: str | None) -> int | None:
    return None if value is None else int(value)


def format_job_id(
    job_id_raw: int,
    array_job_id: int | None,
    array_task_id: int | None,
    het_job_id: int | None,
    het_job_offset: int | None,
    array_task_str: str | None = None,
) -> str:
    """The JobID of a job row as sacct prints it (``slurmdb_get_job_id_str``, §4.9).

    ``123_4`` for an array task, ``123_[1-5%2]`` for an array meta record still holding
    pending tasks (``array_task_str`` is the bracketed part's content), ``123+0`` for a het
    component, else ``123``.
    """
    if array_job_id is not None:
        if array_task_str:
            return f"{array_job_id}_[{array_task_str}]"
        if array_task_id is not None:
            return f"{array_job_id}_{array_task_id}"
    if het_job_id is not None and het_job_offset is not None:
        return f"{het_job_id}+{het_job_offset}"
    return str(job_id_raw)


def format_step_suffix(step_id: int, step_het_component: int | None) -> str:
    """``.batch``, ``.0``, ``.0+1``: what a step row appends to its job's JobID."""
    suffix = f".{step_name(step_id)}"
    if step_het_component is not None:
        suffix += f"+{step_het_component}"
    return suffix


_DISPLAY = re.compile(
    r"(?P<job>\d+)"
    r"(?:_(?P<task>\d+)|_\[(?P<taskstr>[^\]]*)\]|\+(?P<het>\d+))?"
    r"(?:\.(?P<step>[A-Za-z]+|\d+)(?:\+(?P<stepcomp>\d+))?)?",
    re.ASCII,  # full-width or other scripts' digits are not a job id (issue 14)
)


class DisplayedId(
    namedtuple(
        "DisplayedId",
        ["job_id", "array_task", "array_task_str", "het_offset", "step_id", "step_het_component"],
    )
):
    """A JobID as printed by sacct, taken apart (for importing sacct output)."""

    __slots__ = ()
    job_id: int
    array_task: int | None
    array_task_str: str | None
    het_offset: int | None
    step_id: int | None
    step_het_component: int | None


def parse_displayed(text: str) -> DisplayedId:
    """Parse a JobID or JobIDRaw cell of sacct output, including ``123_[1-5%2]`` forms.

    Raises:
        JobIdError: if the cell is not a JobID sacct could have printed.
    """
    match = _DISPLAY.fullmatch(text.strip())
    if match is None or int(match.group("job")) == 0:
        raise JobIdError(f"invalid JobID '{text}'")
    step_text = match.group("step")
    return DisplayedId(
        job_id=int(match.group("job")),
        array_task=_opt_int(match.group("task")),
        array_task_str=match.group("taskstr"),
        het_offset=_opt_int(match.group("het")),
        step_id=parse_step(step_text) if step_text is not None else None,
        step_het_component=_opt_int(match.group("stepcomp")),
    )
