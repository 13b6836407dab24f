"""Who is calling: the one place that reads the caller's identity.

Permission rules use the real OS user, never a command-line flag (issue 4 of the tracker).
"""

from __future__ import annotations

import os


def caller_uid() -> int:
    """The real uid of this process (``getuid(2)``)."""
    return os.getuid()
