"""What every command shares: :class:`jobacct.appcontext.AppContext` (kept importable here).

It lives outside :mod:`jobacct.cli` so that ``sacct``'s Typer-free path
(:mod:`jobacct.sacct_fastpath`) can use it without importing Typer.
"""

from __future__ import annotations

from jobacct.appcontext import AppContext

__all__ = ["AppContext"]
