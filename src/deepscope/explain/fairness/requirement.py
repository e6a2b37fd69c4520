"""fairlearn (and the pandas it pulls in) is an optional extra: only the fairness audit needs it."""

from __future__ import annotations

import importlib.util

from deepscope.errors import UserError

INSTALL = "pip install 'deepscope[fairness]'"
PACKAGE = "fairlearn"  # looked up, not imported: importing it costs pandas, a second


def require_fairlearn() -> None:
    """Refuse, naming the extra to install, when fairlearn is not installed."""
    if importlib.util.find_spec(PACKAGE) is None:
        raise UserError(f"the fairness audit needs fairlearn, which is not installed: {INSTALL}")
