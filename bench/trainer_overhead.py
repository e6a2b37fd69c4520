"""Claim: `Trainer.fit` adds no measurable overhead over a hand-written PyTorch loop
(steps/s ratio >= 0.97) on the same model, data and steps.

Both train the MNIST CNN (channels-last, as the trainer sets it up on any device), Adam + one-cycle, batch
256, on MNIST tensors, for the same number of steps; runs alternate so both see the same machine load.

    DEEPSCOPE_DATA=../shared/data python bench/trainer_overhead.py [--repeats 5 --steps 120]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, mnist_tensors, summary  # noqa: E402
from mnist_time_to_accuracy import reference_net  # noqa: E402

from deepscope.training.trainer import Trainer  # noqa: E402


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return reference_net().to(memory_format=torch.channels_last)


def hand_written(x, y, steps: int, batch: int) -> float:
    net = model()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2, betas=(0.7, 0.9))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=steps)
    shuffle = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    order = torch.randperm(len(x), generator=shuffle)
    for i in range(steps):
        index = order[i * batch : (i + 1) * batch]
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(net(x[index]), y[index]).backward()
        optimizer.step()
        schedule.step()
    return steps / (time.perf_counter() - started)


def with_trainer(x, y, steps: int, batch: int) -> float:
    trainer = Trainer(epochs=1, batch_size=batch, optimizer={"name": "adam", "betas": (0.7, 0.9)}, lr=1e-2,
                      schedule="onecycle", loss="cross_entropy", device="cpu", log_every=50)
    started = time.perf_counter()
    trainer.fit(model(), (x, y))
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=120)
    args = parser.parse_args()
    batch = 256
    x, y, _, _ = mnist_tensors()
    x, y = x[: args.steps * batch], y[: args.steps * batch]  # exactly `steps` batches in one epoch
    print(f"machine: {machine()}; {args.steps} steps of batch {batch}, {args.repeats} alternating repeats")
    hand_written(x, y, 10, batch), with_trainer(x[: 10 * batch], y[: 10 * batch], 10, batch)  # warm-up
    reference, trainer = [], []
    for _ in range(args.repeats):
        reference.append(hand_written(x, y, args.steps, batch))
        trainer.append(with_trainer(x, y, args.steps, batch))
    ratios = [t / r for t, r in zip(trainer, reference)]
    print(f"hand-written loop: {summary(reference, ' steps/s')}")
    print(f"Trainer.fit      : {summary(trainer, ' steps/s')}")
    print(f"steps/s ratio Trainer / hand-written: {summary(ratios, '', 3)}; "
          f"ratio of medians {statistics.median(trainer) / statistics.median(reference):.3f}  (target >= 0.97)")


if __name__ == "__main__":
    main()
