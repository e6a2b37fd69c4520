"""Numbers as text, one function per audience: every table, message and page of deepscope formats through here.

    table_number(0.98765), table_number(60000.0), table_number(1.2e-5)   # '0.9877', '60,000', '1.2e-05'
    message_number(0.000123)            # '0.000123': 3 significant digits inside a sentence (diagnostics' advice)
    evidence_number(1.23e-5)            # '1.23e-5': 3 significant digits, compact (diagnostics' evidence)
    count_in_words(2488320)             # '2.49 M': sizes at a glance (parameters, FLOPs)
    short_time("2026-11-30T10:00:00+0000")   # '2026-11-30 10:00'
"""

from __future__ import annotations

import math
from typing import Any


def table_number(value: Any) -> str:
    """A metric or a count in a table for people (console, report, dashboard): whole numbers with thousands
    separators (a float that is a whole number above 1000 is a count that went through SQLite or JSON), scores
    in [-1, 1] with four decimals so that a column of them lines up, others to four significant digits, tiny and
    huge ones in scientific notation; NaN and infinities as they are (a diverged loss must say so)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # nan, inf, -inf
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.3g}"
    if abs(value) <= 1:
        return f"{value:.4f}"
    return f"{value:,.4g}" if abs(value) >= 1000 else f"{value:.4g}"


def message_number(value: float) -> str:
    """A number inside a sentence a learner reads: 3 significant digits (0.000123, 2.5, 1.23e+06)."""
    return f"{value:.3g}"


def evidence_number(value: float) -> str:
    """3 significant digits, plain where that reads naturally (0.31, 1230), else 1.23e-5 rather than 1.23e-05."""
    if not math.isfinite(value):
        return str(value)  # nan, inf, -inf: the evidence of a blown-up run must say so plainly
    rounded = float(f"{value:.3g}")
    if rounded == 0 or 1e-3 <= abs(rounded) < 1e6:
        return f"{rounded:.0f}" if rounded.is_integer() else repr(rounded)
    mantissa, exponent = f"{rounded:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def count_in_words(value: float) -> str:
    """Large counts in words a person reads at a glance: 2488320 -> '2.49 M'."""
    for size, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:g}"


def short_time(started: str | None) -> str:
    """'2026-11-30T10:00:00+0000' as '2026-11-30 10:00'."""
    return (started or "")[:16].replace("T", " ")
