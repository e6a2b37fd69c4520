"""Filling the gaps of a series (`data.series.fill`): `fill_series` decides which method each channel gets and
says what it did; the methods are pure functions that take a column and a mask of its missing rows.

    values = np.array([1.0, np.nan, 3.0])
    interpolate(values, np.isnan(values), positions=np.arange(3.0))   # array([1., 2., 3.])
    forward_fill(values, np.isnan(values))                            # array([1., 1., 3.])
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from deepscope.errors import ConfigError, DataError

if TYPE_CHECKING:  # timeseries imports this module; the type is only named here
    from deepscope.data.timeseries import Series

log = logging.getLogger("deepscope")

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


def fill_series(series: Series, fill: str | dict[str, str] | None) -> Series:
    """Fill or drop the missing values of every channel as `fill` says; a gap it does not cover is an error
    naming the first lines. Rows are dropped first, so that interpolation reads only the rows that stay."""
    missing = {name: ~np.isfinite(series.column(name)) for name in series.columns}
    missing |= {name: np.array([v is None for v in labels], dtype=bool) for name, labels in series.categories.items()}
    methods = _fill_methods(series, fill)
    for name, gaps in missing.items():
        if gaps.any():
            _check_fillable(series, name, gaps, methods.get(name))
            log.info("data.series.fill: %s: %d missing value(s) %s", name, int(gaps.sum()), FILLED[methods[name]])
    dropped = np.zeros(len(series), dtype=bool)
    for name, gaps in missing.items():
        if methods.get(name) == "drop":
            dropped |= gaps
    kept, missing = series.rows(~dropped), {name: gaps[~dropped] for name, gaps in missing.items()}
    values, categories = kept.values.copy(), dict(kept.categories)
    for name, gaps in missing.items():
        if not gaps.any():
            continue
        if name in categories:
            categories[name] = forward_fill(categories[name], gaps)
            continue
        index = kept.columns.index(name)
        if methods[name] == "interpolate":
            values[:, index] = interpolate(values[:, index], gaps, time_positions(kept.times))
        else:
            values[:, index] = forward_fill(values[:, index], gaps)
    return replace(kept, values=values, categories=categories)


def _fill_methods(series: Series, fill: str | dict[str, str] | None) -> dict[str, str]:
    channels = [*series.columns, *series.categories]
    if fill is None:
        return {}
    if isinstance(fill, str):
        return {name: fill for name in channels}
    for name in fill:
        if name not in channels:
            raise DataError(f"data.series.fill: {name!r} is not a value column of {series.source}; value columns "
                            f"are: {', '.join(channels)}")
    return dict(fill)


def _check_fillable(series: Series, name: str, gaps: np.ndarray, method: str | None) -> None:
    rows = np.flatnonzero(gaps)
    if method is None:
        shown = ", ".join(series.where(row) for row in rows[:3])
        more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
        raise DataError(
            f"{series.source}: {name} is missing at {shown}{more}; a series needs a value at every step: fill the "
            f"gaps with data.series.fill: interpolate (or ffill, or drop the rows; per column: "
            f"{{{name}: interpolate}}), or cut the series before them"
        )
    if len(rows) == len(series):
        raise DataError(f"{series.source}: {name} has no values at all; remove it from data.series.values")
    if method == "interpolate" and name in series.categories:
        raise ConfigError(f"data.series.fill: {name} is categorical, and categories cannot be interpolated; give it "
                          f"ffill or drop: fill: {{{name}: ffill, ...}}")
