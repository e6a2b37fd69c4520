"""How many CPU threads the server's forward passes use, chosen per model at start-up by timing it.

Two kinds of forward pass share the cores with the event loop (which reads, validates and answers requests):
- a request alone in the server, computed with the threads the loop leaves (one on 2 cores; on the loop itself for
  a quick model, see app.py). Measured on 2 cores with the BreastMNIST CNN at 1 client, two threads there as well
  were slower, not faster: 274-294 req/s against 365-502 with one (two runs each, alternated). Two thread pools of
  two on two cores (the loop's and the model thread's) leave OpenMP more threads than cores, and it then puts
  its workers to sleep between layers instead of letting them spin;
- batches, on the model thread. A model that computes a batch faster than the loop can read its requests gains
  nothing from more threads and would take the loop's core (MNIST CNN: 0.17 ms an item against the loop's
  0.5 ms a request, 2,010 req/s at 64 clients with one thread). A heavier one is the bottleneck, and then every
  core of the worker's share is worth it (BreastMNIST CNN: 0.9 ms an item; 1,044 req/s at 64 clients with one
  thread, 1,231-1,434 with two).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

LOOP_S_PER_REQUEST = 0.0005  # the event loop's own time for one JSON request (measured, see above)
FASTER = 0.8  # all the threads must cut a batch's time by at least this much to be chosen


def spare(share: int) -> int:
    """The cores the event loop leaves of a worker's share: the threads of every forward pass but the batches of a
    heavy model."""
    return max(1, share - 1)


def batch_threads(predict: Callable[[dict[str, torch.Tensor]], Any], batch: dict[str, torch.Tensor],
                  share: int) -> int:
    """The intra-op threads for batches on this thread (the model thread), set and returned.

    Args:
        predict: the backend's forward pass.
        batch: a full batch (max_batch items) to time.
        share: the cores this worker may use, the event loop's included.
    """
    choice = spare(share)
    if share > choice:
        n = len(next(iter(batch.values())))
        spare_s, all_s = _timed(predict, batch, choice), _timed(predict, batch, share)
        if spare_s / n > LOOP_S_PER_REQUEST and all_s < FASTER * spare_s:
            choice = share
    torch.set_num_threads(choice)
    return choice


def _timed(predict: Callable[[dict[str, torch.Tensor]], Any], batch: dict[str, torch.Tensor], threads: int) -> float:
    """The median of 3 passes with `threads` intra-op threads, after one to warm up."""
    torch.set_num_threads(threads)
    predict(batch)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        predict(batch)
        times.append(time.perf_counter() - started)
    return sorted(times)[1]
