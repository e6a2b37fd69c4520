"""Which group each example belongs to: one column's values, numbers binned by quantiles, or the intersection of
several columns.

    group_labels({"sex": ["F", "M"], "age": ["23", "61"]}, ["sex", "age"])   # ["F & [17, 28)", "M & [48, 90]"]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from deepscope.errors import DataError

BINS = 4  # numeric columns: quartiles, enough groups to see a trend, few enough to keep each group large
MISSING = "(missing)"
NUMERIC_DISTINCT = 10  # a numeric column with more distinct values than this is binned; fewer are groups as they are
JOIN = " & "  # between the parts of an intersection: "Female & Black"


def group_labels(columns: Mapping[str, Any], by: Sequence[str], *, bins: int = BINS) -> np.ndarray:
    """One text label per row: the value of the `by` column(s), a bin such as "[17, 28)" for a numeric column with
    many values; several columns give their intersection, "Female & [17, 28)"."""
    check_columns(list(columns), by)
    parts = [column_groups(np.asarray(columns[name], dtype=object), name, bins=bins) for name in by]
    if len(parts) == 1:
        return parts[0]
    return np.array([JOIN.join(row) for row in zip(*parts)], dtype=object)


def check_columns(columns: Sequence[str], by: Sequence[str]) -> None:
    """Every `by` column is one of the data's `columns`; the message lists them."""
    if not by:
        raise DataError("--by: name at least one column to group the examples by")
    for name in by:
        if name not in columns:
            raise DataError(f"--by {name}: no column {name!r} in the data; columns are: {', '.join(columns)}")


def column_groups(values: np.ndarray, name: str, *, bins: int = BINS) -> np.ndarray:
    if values.ndim != 1:
        raise DataError(f"--by {name}: the column holds arrays of shape {values.shape[1:]} per row (an image or a "
                        "series); group by a column with one value per row")
    numbers = _as_numbers(values)
    if numbers is not None and len(np.unique(numbers[~np.isnan(numbers)])) > NUMERIC_DISTINCT:
        return quantile_bins(numbers, bins)
    return np.array([MISSING if _missing(v) else _text(v) for v in values], dtype=object)


def quantile_bins(numbers: np.ndarray, bins: int) -> np.ndarray:
    """Labels "[lo, hi)" of `bins` quantile bins (the last one closed, "[lo, hi]"); NaN is its own group."""
    present = numbers[~np.isnan(numbers)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))
    # a bin holds [edge_i, edge_i+1): searchsorted on the inner edges gives its index
    which = np.searchsorted(edges[1:-1], numbers, side="right")
    names = [f"[{_edge(lo)}, {_edge(hi)}{']' if i == len(edges) - 2 else ')'}"
             for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))]
    return np.array([MISSING if np.isnan(x) else names[w] for x, w in zip(numbers, which)], dtype=object)


def _as_numbers(values: np.ndarray) -> np.ndarray | None:
    """The column as floats (NaN where missing), or None when a value is not a number."""
    out = np.empty(len(values), dtype=float)
    for i, value in enumerate(values):
        if _missing(value):
            out[i] = np.nan
            continue
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            return None
    return out if not np.isnan(out).all() else None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _text(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def _edge(value: float) -> str:
    return f"{value:g}"
