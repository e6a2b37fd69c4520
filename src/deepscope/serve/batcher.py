"""Dynamic micro-batching: requests that arrive together share one forward pass.

    batcher = MicroBatcher(run_batch, max_batch=64, max_wait_s=0.005)
    await batcher.start()
    answers = await batcher.submit(encoded, n)          # a future, from each request handler, concurrently
    await batcher.stop()                                # after the last request in flight is answered

A batch closes when `max_batch` items are waiting, or the oldest has waited `max_wait_s`, or every request the
server holds has joined it (the others still being read or decoded are the only ones worth waiting for): a lone
request never waits, so with no concurrency batching costs no latency. The forward pass runs on one worker thread,
off the event loop, so requests keep arriving (and being decoded) while the model computes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import torch

Batch = dict[str, torch.Tensor]
POLL_S = 0.001  # how often a gathering batch looks again whether everyone in the server has joined it
RunBatch = Callable[[Batch], list[Any]]  # an encoded batch of n rows -> n answers, in order


@dataclass
class _Pending:
    batch: Batch
    n: int
    answer: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Queues encoded requests and runs them as batches with `run_batch`, one batch at a time.

    Args:
        run_batch: encoded batch -> one answer per row (runs on the worker thread).
        max_batch: rows per forward pass at most (a single request larger than this runs alone).
        max_wait_s: how long the first request of a batch may wait for others.
        executor: the worker thread shared with everything else that touches the model.
        on_batch: called with each batch's row count (metrics).
        in_flight: how many requests the server holds (read, decoding or waiting): when it is 1, the request
            being batched is alone and runs at once.
    """

    def __init__(self, run_batch: RunBatch, *, max_batch: int, max_wait_s: float, executor: ThreadPoolExecutor,
                 on_batch: Callable[[int], None] = lambda n: None, in_flight: Callable[[], int] = lambda: 1):
        self.run_batch, self.max_batch, self.max_wait_s = run_batch, max_batch, max_wait_s
        self.executor, self.on_batch, self.in_flight = executor, on_batch, in_flight
        self.queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._held: _Pending | None = None  # taken from the queue but too large for the batch being built

    @property
    def depth(self) -> int:
        """Requests waiting for a forward pass."""
        return self.queue.qsize() + (self._held is not None)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def submit(self, batch: Batch, n: int) -> asyncio.Future:
        """The future of the request's answers (a future, not a coroutine: waiting on it with a timeout costs no
        task of its own)."""
        loop = asyncio.get_running_loop()
        if self.queue.empty() and self._held is None and self.in_flight() <= 1:
            # alone in the server: straight to the model thread, without the queue's extra hand-over
            self.on_batch(n)
            return loop.run_in_executor(self.executor, self.run_batch, batch)
        pending = _Pending(batch, n, loop.create_future())
        self.queue.put_nowait(pending)  # unbounded: never waits
        return pending.answer

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            group = await self._collect()
            group = [p for p in group if not p.answer.done()]  # a request that timed out is not computed
            if not group:
                continue
            try:
                answers = await loop.run_in_executor(self.executor, self._run, group)
            except Exception as error:  # noqa: BLE001 (a bad batch fails its own requests, not the server)
                for p in group:
                    if not p.answer.done():
                        p.answer.set_exception(error)
                continue
            for p, answer in zip(group, answers):
                if not p.answer.done():
                    p.answer.set_result(answer)

    async def _collect(self) -> list[_Pending]:
        first = self._held or await self.queue.get()
        self._held = None
        group, rows = [first], first.n
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while rows < self.max_batch:
            if self.queue.empty() and self.in_flight() <= len(group):
                break  # every request in the server is in this batch: nobody else is coming, do not wait
            remaining = deadline - loop.time()
            if self.queue.empty() and remaining <= 0:
                break
            try:  # in slices, so that a batch closes as soon as the requests it waits for are all in
                item = self.queue.get_nowait() if not self.queue.empty() else \
                    await asyncio.wait_for(self.queue.get(), min(remaining, POLL_S))
            except asyncio.TimeoutError:
                continue
            if rows + item.n > self.max_batch:
                self._held = item
                break
            group.append(item)
            rows += item.n
        return group

    def _run(self, group: list[_Pending]) -> list[list[Any]]:
        """On the worker thread: one forward pass for the group, the answers split back per request."""
        names = group[0].batch.keys()
        batch = {name: torch.cat([p.batch[name] for p in group]) for name in names}
        self.on_batch(sum(p.n for p in group))
        answers = self.run_batch(batch)
        out, start = [], 0
        for p in group:
            out.append(answers[start : start + p.n])
            start += p.n
        return out
