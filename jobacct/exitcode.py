"""ExitCode, the ``code:signal`` value type, and the DerivedExitCode rule.

Slurm stores every exit code as a raw wait(2) status and prints it as ``code:signal``
(slurm-semantics.md §1.1, §1.2). jobacct stores the two halves in their own columns so that
both can be queried and indexed, and converts to and from the raw status at the edges.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Slurm's ``SIG_OOM`` pseudo value, stored as a raw status and printed ``0:125``
#: (slurm-semantics.md §1.3).
SIG_OOM_RAW = 253
SIG_OOM_SIGNAL = SIG_OOM_RAW & 0x7F
NO_VAL = 0xFFFFFFFE
INFINITE = 0xFFFFFFFF

_TEXT = re.compile(r"(\d{1,10})(?::(\d{1,10}))?", re.ASCII)  # no other scripts' digits


class ExitCodeError(ValueError):
    """A string or number that is not an exit code; the message names the bad value."""


class ExitCode:
    """An exit code as sacct(1) prints it: ``code:signal`` (immutable, hashable).

    ``code`` is the 8-bit exit status of a normal exit, ``signal`` the number of the signal
    that ended the process; at most one of them is non-zero in anything Slurm records.

    Raises:
        ExitCodeError: on construction, if either half is outside 0..255.
    """

    # Written out rather than a frozen dataclass: dataclasses and its inspect import cost
    # every ``sacct`` about 10 ms of start-up (tracker issue 16).
    __slots__ = ("code", "signal")
    code: int
    signal: int

    def __init__(self, code: int = 0, signal: int = 0) -> None:
        for name, value in (("code", code), ("signal", signal)):
            if not 0 <= value <= 255:
                raise ExitCodeError(f"exit {name} {value} is outside 0..255")
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "signal", signal)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field '{name}' of an ExitCode")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field '{name}' of an ExitCode")

    def __eq__(self, other: object) -> bool:
        if type(other) is not ExitCode:
            return NotImplemented
        return self.code == other.code and self.signal == other.signal

    def __hash__(self) -> int:
        return hash((self.code, self.signal))

    def __reduce__(self) -> tuple[type[ExitCode], tuple[int, int]]:
        # Pickled by value (import workers send them): the default state restore would
        # assign the fields, which __setattr__ refuses.
        return ExitCode, (self.code, self.signal)

    def __repr__(self) -> str:
        return f"ExitCode(code={self.code!r}, signal={self.signal!r})"

    @classmethod
    def parse(cls, text: str) -> ExitCode:
        """Parse ``"3"``, ``"3:0"`` or ``"0:9"``.

        A bare number is an exit code (``"49"`` is ``49:0``), as sjobexitmod's ``-e`` means
        it (slurm-semantics.md §3), not a raw status as ``sacctmgr`` takes it (§2.3).

        Raises:
            ExitCodeError: for anything else (``"300"``, ``"-1"``, ``"1:2:3"``, ``"abc"``).
        """
        match = _TEXT.fullmatch(text.strip())
        if match is None:
            raise ExitCodeError(f"invalid exit code '{text}': expected CODE or CODE:SIGNAL")
        code = int(match.group(1))
        signal = int(match.group(2) or 0)
        if code > 255 or signal > 255:
            raise ExitCodeError(f"invalid exit code '{text}': code and signal are 0..255")
        return cls(code, signal)

    @classmethod
    def from_wait_status(cls, status: int) -> ExitCode:
        """Decode a raw wait(2) status exactly as sacct prints it (print.c, §1.2).

        Signalled (low 7 bits 1..126) gives ``0:sig`` (the core-dump bit 0x80 is dropped);
        exited (low 7 bits 0) gives ``(status >> 8) & 0xff : 0``; anything else, including
        ``INFINITE`` and stopped statuses (low 7 bits 0x7f), gives ``0:0``.
        """
        status &= 0xFFFFFFFF
        low = status & 0x7F
        if low == 0:
            return cls((status >> 8) & 0xFF, 0)
        if low != 0x7F:
            return cls(0, low)
        return cls(0, 0)

    def to_wait_status(self) -> int:
        """The raw wait(2) status Slurm would store for this value.

        ``0:125`` maps back to ``SIG_OOM`` (253), the only way Slurm produces it.
        """
        if self.signal:
            return SIG_OOM_RAW if self.signal == SIG_OOM_SIGNAL else self.signal
        return self.code << 8

    @property
    def ok(self) -> bool:
        """True for ``0:0``."""
        return self.code == 0 and self.signal == 0

    def __str__(self) -> str:
        return f"{self.code}:{self.signal}"


ZERO = ExitCode(0, 0)


def derive_exit_code(
    step_exit_codes: Iterable[ExitCode | None], start: ExitCode | None = None
) -> ExitCode:
    """DerivedExitCode from the exit codes of a job's steps, in completion order.

    The caller passes only the steps that count: not ``batch``, not ``extern``, not pending
    (``TBD``) steps; the ``interactive`` step does count. The rule is slurmctld's
    ``_internal_step_complete`` (stepmgr.c, slurm-semantics.md §2.1): starting at 0, a step
    replaces the value if its raw status is larger (so any non-zero exit beats any signal) or
    if it is the OOM pseudo status. Steps with no exit code yet (``None``; Slurm's NO_VAL) are
    skipped; Slurm lets NO_VAL win and then drops it, which jobacct does not copy.
    ``start`` is the value already held (e.g. what the controller reported at job end);
    steps that report later still replace it by the same rule.
    """
    best = start.to_wait_status() if start is not None else 0
    for exit_code in step_exit_codes:
        if exit_code is None:
            continue
        raw = exit_code.to_wait_status()
        if raw == SIG_OOM_RAW or raw > best:
            best = raw
    return ExitCode.from_wait_status(best)


def derived_exit_code_text(code: int | None, signal: int | None) -> str:
    """A DerivedExitCode (or any stored ``code:signal``) as sacct(1) prints it.

    sacct's ``PRINT_DERIVED_EC`` prints ``WEXITSTATUS:WTERMSIG`` of the raw status as they are
    (slurm-semantics.md §1.2): exit 137 prints ``137:0``. Both halves NULL (Slurm's NO_VAL,
    never reported) print as the empty string, as sacct prints an unknown ExitCode.
    """
    if code is None and signal is None:
        return ""
    return f"{code or 0}:{signal or 0}"


def sacct_exit_code_text(code: int | None, signal: int | None) -> str:
    """An ExitCode (job or step line) as sacct(1) prints it.

    sacct's ``PRINT_EXITCODE`` (src/sacct/print.c, slurm-semantics.md §1.2, corrected
    2026-12-05) takes 128 off an exit code of 128 or more, ``if (tmp_int >= 128) tmp_int -=
    128;``: a batch shell that exited 137 after its child was SIGKILLed (raw 35072) prints
    ``9:0``, exit 255 prints ``127:0``. The signal half is printed as it is. jobacct stores the
    recorded code (137) and applies the rule only here, so DerivedExitCode, ``--json`` and
    the computed DerivedExitCode keep the recorded value. NULL halves print as the empty
    string (NO_VAL: sacct prints an empty ExitCode).
    """
    if code is None and signal is None:
        return ""
    shown = code or 0
    if shown >= 128:
        shown -= 128
    return f"{shown}:{signal or 0}"
