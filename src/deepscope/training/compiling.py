"""`train.compile: true`: the model trained through `torch.compile`, with the seconds spent compiling counted
apart from the seconds spent training (each epoch logs `compile_time`, and its `time` leaves it out).

Compilation is lazy: it happens inside the first steps (and again for a new batch shape), so it is timed by
torch's own compile start / end callbacks rather than guessed from slow steps.
"""

from __future__ import annotations

import threading
import time

import torch
from torch import nn


class CompileClock:
    """Seconds torch.compile has spent compiling in this process, while `start` ... `stop` hold."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began: float | None = None
        self._lock = threading.Lock()

    def _start(self, *_: object) -> None:
        with self._lock:
            self._began = time.perf_counter()

    def _end(self, *_: object) -> None:
        with self._lock:
            if self._began is not None:
                self.seconds += time.perf_counter() - self._began
                self._began = None

    def start(self) -> None:
        handler = _callback_handler()
        if handler is not None:
            handler.register_start_callback(self._start)
            handler.register_end_callback(self._end)

    def stop(self) -> None:
        handler = _callback_handler()
        if handler is not None:
            handler.remove_start_callback(self._start)
            handler.remove_end_callback(self._end)


def compiled(model: nn.Module) -> nn.Module:
    """`model` through torch.compile (the default inductor backend: Triton kernels on a GPU, C++ on a CPU)."""
    return torch.compile(model)


def _callback_handler():  # torch's compile callbacks (torch >= 2.4); without them compile time reads as 0
    try:
        from torch._dynamo.callback import callback_handler
    except ImportError:
        return None
    return callback_handler
