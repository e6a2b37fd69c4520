"""Shared by the benchmarks: what they ran on, and medians with spread."""

from __future__ import annotations

import os
import platform
import statistics

import torch


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"
    return f"{os.cpu_count()} CPU cores ({cpu}), torch {torch.__version__} with {torch.get_num_threads()} threads{gpu}"


def summary(values: list[float], unit: str = "", digits: int = 2) -> str:
    """median [min - max] over n"""
    median = statistics.median(values)
    return f"{median:.{digits}f}{unit} [{min(values):.{digits}f} - {max(values):.{digits}f}] over {len(values)}"


def mnist_tensors():
    """MNIST as normalised float tensors (N, 1, 28, 28), via deepscope's own IDX reader."""
    from deepscope.data.sources.builtin import BUILTIN_DATASETS

    raw = BUILTIN_DATASETS.get("mnist").load()
    def prepare(split):
        x = torch.from_numpy(raw.splits[split]["image"].copy()).float().div(255).unsqueeze(1)
        return x, torch.from_numpy(raw.splits[split]["label"].astype("int64"))
    (x_train, y_train), (x_test, y_test) = prepare("train"), prepare("test")
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test
