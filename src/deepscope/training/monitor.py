"""Which metric decides what "better" means, and whether a new value is better: one rule for early stopping, the
best checkpoint and the plateau schedule.

    monitor = default_monitor(None, has_validation=True)       # "val.loss"
    improves(0.41, best=0.45, mode=direction(monitor))         # True: a loss goes down
    improves(0.9, best=None, mode="max")                      # True: the first value is the best so far
"""

from __future__ import annotations

import math

from deepscope.errors import ConfigError
from deepscope.metrics import direction


def default_monitor(monitor: str | None, *, has_validation: bool) -> str:
    """The metric to watch: the one asked for, else the validation loss, else (no validation data) the training loss."""
    return monitor or ("val.loss" if has_validation else "train.loss")


def mode_of(monitor: str) -> str:
    """"min" or "max" for a monitored metric; a value that is not a score (lr, time) cannot be monitored."""
    mode = direction(monitor)
    if mode is None:
        raise ConfigError(f"train.monitor: {monitor} is not a score that gets better or worse; monitor a loss or a "
                          "metric, e.g. val.loss or val.accuracy")
    return mode


def improves(value: float | None, best: float | None, mode: str, *, min_delta: float = 0.0,
             relative: float = 0.0) -> bool:
    """Whether `value` beats `best` in `mode` ("min" or "max").

    A value that is missing or not finite never improves; any finite value beats a `best` that is None or NaN
    (nothing seen yet). `min_delta` is an absolute margin (Keras' EarlyStopping), `relative` a fraction of `best`
    (torch's ReduceLROnPlateau threshold); a value must clear both.
    """
    if value is None or not math.isfinite(value):
        return False
    if best is None or math.isnan(best):
        return True
    if mode == "min":
        return value < best - min_delta and value < best - relative * abs(best)
    return value > best + min_delta and value > best + relative * abs(best)
