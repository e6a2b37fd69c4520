"""`deepscope.callbacks`: the training callbacks, importable from the top (`ds.callbacks.EarlyStopping`)."""

from deepscope.diagnose.callback import Diagnostics  # noqa: F401
from deepscope.training.callbacks import (  # noqa: F401
    Callback,
    CallbackList,
    EarlyStopping,
    ExponentialMovingAverage,
    LRFinder,
    MetricsLogger,
    ModelCheckpoint,
    ProgressBar,
    StoreLogger,
    TensorBoard,
    TrialPruning,
)

__all__ = ["Callback", "CallbackList", "Diagnostics", "EarlyStopping", "ExponentialMovingAverage", "LRFinder",
           "MetricsLogger", "ModelCheckpoint", "ProgressBar", "StoreLogger", "TensorBoard", "TrialPruning"]
