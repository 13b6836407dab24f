"""The golden sacct views again, through the real entry point, at the recorded clock and uid.

Each recorded command runs as a subprocess under libfaketime (Debian's ``faketime``) at the
time written in its file, with ``TZ=UTC``, and as the recorded user: root's as uid 0, alice's
as uid 1001 (the uid her jobs carry in the golden records). The in-process replay in
test_golden_sacct.py covers the same views with a patched clock; this one proves the real
clock and the real ``getuid()`` give the same bytes.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import (
    FAKETIME,
    FAKETIME_ENV,
    GOLDEN,
    build_golden_store,
    frozen_clock,
    parse_case,
)
from tests.test_annotation import OTHER_UID_PYTHON, readable_pythonpath
from tests.test_golden_sacct import EXACT

UIDS = {"root": 0, "alice": 1001}
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

pytestmark = pytest.mark.skipif(
    FAKETIME is None and not IN_CI,
    reason="faketime is not installed (apt-get install faketime); CI installs it",
)


@pytest.fixture(scope="module")
def shared_store() -> str:
    """The golden store in a directory every uid may read."""
    directory = Path(tempfile.mkdtemp(prefix="jobacct-golden-"))
    directory.chmod(0o755)
    path = directory / "golden.sqlite"
    build_golden_store(path)
    path.chmod(0o644)
    return str(path)


def _run(command: str, user: str, when: str, db: str) -> subprocess.CompletedProcess[str]:
    assert FAKETIME is not None, "CI=true: faketime must be installed (see .ci/run)"
    argv = shlex.split(command)
    if argv[:2] == ["runuser", "-u"]:
        user, argv = argv[2], argv[4:]
    assert argv[0] == "sacct"
    uid = UIDS[user]
    project = str(Path(__file__).parent.parent)
    env = {"TZ": "UTC", "PATH": "/usr/bin:/bin", "HOME": "/tmp", **FAKETIME_ENV}
    if uid == 0:
        python = sys.executable
        env["PYTHONPATH"] = project
    else:
        if os.getuid() != 0 or OTHER_UID_PYTHON is None:
            pytest.skip("running as another uid needs root and a Python that uid may execute")
        python = OTHER_UID_PYTHON
        env["PYTHONPATH"] = readable_pythonpath()
    return subprocess.run(
        [*frozen_clock(when), python, "-m", "jobacct", "--db", db, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd="/tmp",
        user=uid if uid != os.getuid() else None,
    )


@pytest.mark.parametrize("name", EXACT)
def test_view_at_recorded_clock_and_user(name: str, shared_store: str) -> None:
    for entry in parse_case(GOLDEN / "sacct" / name):
        result = _run(entry["command"], entry["user"], entry["time"], shared_store)
        assert result.stdout == entry["stdout"], (entry["command"], result.stderr)
        assert result.returncode == int(entry["status"])
