"""``python -m jobacct``."""

from jobacct.cli import run

run()
