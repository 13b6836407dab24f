"""Loaded by Python at start-up when this directory is on PYTHONPATH (tests only).

Makes the modules named in ``$JOBACCT_TEST_BLOCK`` (comma list) impossible to import, as if
their optional extra were not installed: how the tests run a command without psycopg,
PyMySQL or matplotlib while the test venv has them all.
"""

import os
import sys
from importlib.abc import MetaPathFinder

_BLOCKED = {n for n in os.environ.get("JOBACCT_TEST_BLOCK", "").split(",") if n}


class _Blocker(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        if name.split(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


if _BLOCKED:
    sys.meta_path.insert(0, _Blocker())
