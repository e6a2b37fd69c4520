"""Filling the gaps of one column of a series (`data.series.fill`): pure functions over arrays.

Each takes the column, a mask of its missing rows, and returns the column without gaps. Which method a column
gets, and the messages about it, are decided in `deepscope.data.timeseries.fill_series`.

    values = np.array([1.0, np.nan, 3.0])
    interpolate(values, np.isnan(values), positions=np.arange(3.0))   # array([1., 2., 3.])
    forward_fill(values, np.isnan(values))                            # array([1., 1., 3.])
"""

from __future__ import annotations

import numpy as np

# what each method is called in the log line that counts the values it filled
FILLED = {"interpolate": "interpolated", "ffill": "filled forward", "drop": "dropped with their rows"}


def interpolate(values: np.ndarray, missing: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear between the known neighbours, by `positions` (the times, so an irregular step is weighed right);
    a gap at either end takes the nearest known value (np.interp holds the ends).

    >>> interpolate(np.array([np.nan, 2.0, np.nan, 6.0]), np.array([True, False, True, False]), np.arange(4.0))
    array([2., 2., 4., 6.])
    """
    out = values.astype(np.float64, copy=True)
    out[missing] = np.interp(positions[missing], positions[~missing], values[~missing])
    return out


def forward_fill(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """The last known value before each gap; a gap at the start takes the first known value (nothing is before it).
    Works for numbers and for categories (object arrays).

    >>> forward_fill(np.array([None, "NW", None, "SE"], dtype=object), np.array([True, False, True, False]))
    array(['NW', 'NW', 'NW', 'SE'], dtype=object)
    """
    index = np.where(missing, 0, np.arange(len(values)))
    np.maximum.accumulate(index, out=index)  # each row -> the last known row at or before it
    index[: int(np.argmax(~missing))] = int(np.argmax(~missing))
    return values[index]


def time_positions(times: np.ndarray) -> np.ndarray:
    """(n,) datetime64 or step numbers -> (n,) float64 positions in the times' own unit, for interpolation."""
    return times.astype(np.int64).astype(np.float64)
