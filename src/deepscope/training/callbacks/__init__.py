"""Callbacks, one per file: `deepscope.callbacks.EarlyStopping(patience=3)`."""

from deepscope.training.callbacks.base import Callback, CallbackList
from deepscope.training.callbacks.checkpoint import ModelCheckpoint
from deepscope.training.callbacks.early_stopping import EarlyStopping
from deepscope.training.callbacks.ema import ExponentialMovingAverage
from deepscope.training.callbacks.lr_finder import LRFinder
from deepscope.training.callbacks.metrics_logger import MetricsLogger
from deepscope.training.callbacks.progress import ProgressBar
from deepscope.training.callbacks.store_logger import StoreLogger
from deepscope.training.callbacks.tensorboard import TensorBoard
from deepscope.training.callbacks.trial_pruning import TrialPruning

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ExponentialMovingAverage", "LRFinder", "MetricsLogger",
           "ModelCheckpoint", "ProgressBar", "StoreLogger", "TensorBoard", "TrialPruning"]
