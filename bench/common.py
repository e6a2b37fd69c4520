"""Shared by the benchmarks: what they ran on, and medians with spread."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"
    return f"{os.cpu_count()} CPU cores ({cpu}), torch {torch.__version__} with {torch.get_num_threads()} threads{gpu}"


def summary(values: list[float], unit: str = "", digits: int = 2) -> str:
    """median [min - max] over n"""
    median = statistics.median(values)
    return f"{median:.{digits}f}{unit} [{min(values):.{digits}f} - {max(values):.{digits}f}] over {len(values)}"


def time_to_accuracy(points: list[tuple[float, float]], target: float) -> float | None:
    """The training seconds at the first (cumulative seconds, test accuracy) point at or above `target`; None if
    no point reaches it. Points are taken at epoch ends, so this is the time of the first epoch that gets there."""
    return next((seconds for seconds, accuracy in points if accuracy >= target), None)


MNIST_TARGET, QUICK_MNIST_TARGET = 0.99, 0.95  # --quick trains on 12,000 images: 99 % is out of reach there
COMMAND_TARGET = 2.0  # the whole `deepscope train` command, start to exit, over its training time
MAX_EPOCHS = 4  # the longest budget tried for a recipe that has not reached its target in fewer epochs


def shortest_budget(train: Callable[[int], dict], target: float, max_epochs: int = MAX_EPOCHS) -> dict:
    """`train(epochs)` with 1, 2, ... epochs until a run reaches `target` (each a fresh run whose schedule spans its
    own epochs, as a user would lengthen a one-cycle recipe); that run's result, with `epochs` and `tried`: every
    budget's (epochs, final test accuracy, training seconds). A recipe that never gets there returns its longest
    run, whose points then show it fell short."""
    tried = []
    for epochs in range(1, max_epochs + 1):
        result = train(epochs)
        tried.append((epochs, result["points"][-1][1], result["points"][-1][0]))
        if time_to_accuracy(result["points"], target) is not None:
            break
    return {**result, "epochs": epochs, "tried": tried}


def mnist_raw():
    """MNIST's uint8 images (N, 28, 28) and int64 labels per split, read by deepscope's own IDX reader (offline,
    from $DEEPSCOPE_DATA/mnist): the same arrays for every peer."""
    from deepscope.data.sources.builtin import BUILTIN_DATASETS

    return BUILTIN_DATASETS.get("mnist").load()


def mnist_tensors():
    """MNIST as normalised float tensors (N, 1, 28, 28), via deepscope's own IDX reader."""
    raw = mnist_raw()
    def prepare(split):
        x = torch.from_numpy(raw.splits[split]["image"].copy()).float().div(255).unsqueeze(1)
        return x, torch.from_numpy(raw.splits[split]["label"].astype("int64"))
    (x_train, y_train), (x_test, y_test) = prepare("train"), prepare("test")
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


def deepscope_points(config: str | Path, overrides: dict) -> dict:
    """Train a deepscope config (the Python API, the same path as `deepscope train`) with the test split measured
    after every epoch, outside the clock: {points: [(training seconds, test accuracy)], seconds: whole call}.

    The test tensors come from preparing the config's data once more (features are fitted on the training split
    alone, deterministically, so they encode exactly as the run's own); the seconds are the epochs' own `time`."""
    import deepscope as ds
    from deepscope.config.loading import load_config
    from deepscope.data.prepare import prepare_data
    from deepscope.training.callbacks.base import Callback

    test = prepare_data(load_config(config, overrides).data).splits["test"]

    class TestEachEpoch(Callback):
        def __init__(self):
            self.points, self.elapsed = [], 0.0

        def on_epoch_end(self, trainer, logs):
            self.elapsed += logs["time"]  # the epoch's training time, taken before any callback runs
            self.points.append((self.elapsed, trainer.evaluate(trainer.eval_model, test)["accuracy"]))

    timer = TestEachEpoch()
    started = time.perf_counter()
    ds.train(config, overrides, progress=False, callbacks=[timer])
    return {"points": timer.points, "seconds": time.perf_counter() - started}
