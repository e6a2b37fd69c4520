"""`deepscope.callbacks`: the training callbacks, importable from the top (`ds.callbacks.EarlyStopping`)."""

from deepscope.training.callbacks import (  # noqa: F401
    Callback,
    CallbackList,
    EarlyStopping,
    ExponentialMovingAverage,
    MetricsLogger,
    ModelCheckpoint,
    ProgressBar,
)

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ExponentialMovingAverage", "MetricsLogger", "ModelCheckpoint", "ProgressBar"]
