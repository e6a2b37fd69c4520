"""Callbacks, one per file: `deepscope.callbacks.EarlyStopping(patience=3)`."""

from deepscope.train.callbacks.base import Callback, CallbackList
from deepscope.train.callbacks.checkpoint import ModelCheckpoint
from deepscope.train.callbacks.early_stopping import EarlyStopping
from deepscope.train.callbacks.metrics_logger import MetricsLogger
from deepscope.train.callbacks.progress import ProgressBar

__all__ = ["Callback", "CallbackList", "EarlyStopping", "MetricsLogger", "ModelCheckpoint", "ProgressBar"]
