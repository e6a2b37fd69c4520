"""Chronological splits of a series and the sliding windows cut from each.

A forecasting sample is a window: `lookback` past steps in, the next `horizon` steps of the target out. The
splits are chronological: the last `holdout` steps are the test period, the `val` steps before them the
validation period, and everything earlier the training period. A window belongs to the split its first
target step falls in; its inputs may reach back into earlier periods (that is what the model will see when
it forecasts), its targets never reach into a later one.

    periods = split_periods(len(series), lookback=24, horizon=12, holdout=24, val=12)
    periods   # {"train": (0, 108), "val": (108, 120), "test": (120, 144)}
    windows = SeriesWindows.for_period(series, *periods["test"], lookback=24, horizon=12)
    len(windows)   # 13 complete test windows (origins 120 ... 132)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from deepscope.data.timeseries import Series
from deepscope.errors import ConfigError, DataError


def split_periods(n: int, *, lookback: int, horizon: int, holdout: float, val: float) -> dict[str, tuple[int, int]]:
    """Row ranges [start, stop) of the targets of each split: train, (val,) test, in time order.

    Args:
        n: steps in the series.
        holdout: the test period: the last `holdout` steps (>= 1), or a fraction (< 1) of the series.
        val: steps (>= 1) or a fraction (< 1) of the steps before the test period; 0 means no validation period.

    >>> split_periods(144, lookback=24, horizon=12, holdout=24, val=12)
    {'train': (0, 108), 'val': (108, 120), 'test': (120, 144)}
    """
    if n < lookback + horizon:
        raise DataError(f"the series has {n} steps, fewer than lookback + horizon = {lookback} + {horizon}: "
                        "one window does not fit; lower data.series.lookback or horizon, or use a longer series")
    holdout = _steps(holdout, n)
    if holdout < horizon:
        raise ConfigError(f"data.series.holdout: {holdout} steps are fewer than the horizon ({horizon}); the test "
                          "period must hold at least one whole forecast")
    test_start = n - holdout
    val_steps = _steps(val, test_start)
    if 0 < val_steps < horizon:
        raise ConfigError(f"data.series.val: {val_steps} steps are fewer than the horizon ({horizon}); give at "
                          f"least {horizon} steps or 0 for no validation period")
    train_stop = test_start - val_steps
    if train_stop < lookback + horizon:
        raise DataError(
            f"the series has {n} steps: after the test period ({holdout}) and the validation period ({val_steps}) "
            f"{max(train_stop, 0)} are left for training, fewer than one window needs (lookback + horizon = "
            f"{lookback + horizon}); lower data.series.holdout, val or lookback"
        )
    periods = {"train": (0, train_stop)}
    if val_steps:
        periods["val"] = (train_stop, test_start)
    periods["test"] = (test_start, n)
    return periods


def _steps(amount: float, total: int) -> int:
    """A whole number of steps as is; a fraction of `total`."""
    return int(amount) if amount >= 1 else int(round(amount * total))


@dataclass
class SeriesWindows:
    """Windows of one series: `series` is what is visible (it ends where the split's period ends) and
    `origins` are the first target steps (row numbers). Window i reads rows [origin - lookback, origin) and
    forecasts rows [origin, origin + horizon).

    It stands for a "column" of raw values in `RawData`: features fit on it (the training split's series is
    the training period only) and encode it to (N, ...) tensors, and `len` / slicing act on the windows.
    """

    series: Series
    origins: np.ndarray
    lookback: int
    horizon: int
    start: int = 0  # the period [start, stop) whose steps are the targets
    stop: int = 0

    @classmethod
    def for_period(cls, series: Series, start: int, stop: int, *, lookback: int, horizon: int,
                   stride: int = 1) -> SeriesWindows:
        """Every window whose targets lie in [start, stop), the first one starting at max(start, lookback)."""
        origins = np.arange(max(start, lookback), stop - horizon + 1, stride, dtype=np.int64)
        return cls(series.head(stop), origins, lookback, horizon, start, stop)

    @classmethod
    def at_end(cls, series: Series, *, lookback: int, horizon: int) -> SeriesWindows:
        """The one window that forecasts the steps after the series' last row."""
        n = len(series)
        return cls(series, np.array([n], dtype=np.int64), lookback, horizon, n, n)

    def __len__(self) -> int:
        return len(self.origins)

    def __getitem__(self, index: slice) -> SeriesWindows:
        return replace(self, origins=self.origins[index])

    def with_origins(self, origins: np.ndarray) -> SeriesWindows:
        return replace(self, origins=np.asarray(origins, dtype=np.int64))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """(N, lookback + horizon, V) raw values of each window, for code that reads columns as arrays
        (the data profile of the diagnostics: missing values, constant columns)."""
        horizon = self.horizon if len(self.origins) == 0 or self.origins.max() + self.horizon <= len(self.series) else 0
        windows = sliding(self.series.values, self.origins, self.lookback + horizon, -self.lookback)
        return windows.astype(dtype) if dtype is not None else windows


def sliding(steps: np.ndarray, origins: np.ndarray, length: int, offset: int) -> np.ndarray:
    """(n, C) per-step rows -> (N, length, C): for each origin the rows [origin + offset, origin + offset + length).

    >>> sliding(np.arange(6.0)[:, None], np.array([3, 4]), 2, -2)[..., 0]
    array([[1., 2.],
           [2., 3.]])
    """
    view = np.lib.stride_tricks.sliding_window_view(steps, length, axis=0)  # (n - length + 1, C, length)
    return view[origins + offset].transpose(0, 2, 1)
