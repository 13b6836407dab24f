"""``python -m jobacct``."""

from jobacct.client import entry

entry()
