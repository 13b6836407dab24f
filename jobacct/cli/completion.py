"""``jobacct completion SHELL``: print the shell completion script (bash, zsh, fish).

The script is Typer's (the one ``jobacct --show-completion`` prints for the current shell):
it calls ``jobacct`` back with ``$_JOBACCT_COMPLETE`` set, and Click answers from the same
command tree as ``--help`` (:func:`jobacct.cli.main` answers before any routing to a daemon,
and without opening the store). Install it with, e.g.::

    jobacct completion bash > ~/.local/share/bash-completion/completions/jobacct
    jobacct completion zsh > ~/.zfunc/_jobacct
    jobacct completion fish > ~/.config/fish/completions/jobacct.fish
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from jobacct.client import COMPLETE_VAR
from jobacct.errors import UsageError

SHELLS = ("bash", "zsh", "fish")


def completion(
    shell: Annotated[str, typer.Argument(metavar="SHELL", help="bash, zsh or fish.")],
) -> None:
    """Print the shell completion script for bash, zsh or fish."""
    # typer.completion's own import of the script builder (typer is bounded to 0.29).
    from typer.completion import get_completion_script  # type: ignore[attr-defined]

    if shell not in SHELLS:
        raise UsageError(f"invalid shell '{shell}': one of {', '.join(SHELLS)}")
    script = get_completion_script(prog_name="jobacct", complete_var=COMPLETE_VAR, shell=shell)
    sys.stdout.write(script + "\n")
