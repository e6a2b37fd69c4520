"""TrialPruning: the monitored metric goes to `report` after each epoch, and training stops when it says so."""

from __future__ import annotations

import torch
from torch import nn

from deepscope.callbacks import TrialPruning
from deepscope.training.trainer import Trainer


def make_data(n: int = 256):
    x = torch.randn(n, 10, generator=torch.Generator().manual_seed(0))
    return x, (x[:, 0] > 0).long()


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 2))


def test_each_epoch_reports_the_monitored_value_and_a_true_answer_stops_after_that_epoch():
    seen = []

    def report(epoch: int, value: float) -> bool:
        seen.append((epoch, value))
        return epoch == 2

    pruning = TrialPruning(report)
    x, y = make_data()
    trainer = Trainer(epochs=5, batch_size=32, loss="cross_entropy", callbacks=[pruning], device="cpu")
    history = trainer.fit(make_model(), (x[:200], y[:200]), (x[200:], y[200:]))
    assert [epoch for epoch, _ in seen] == [1, 2]
    assert [value for _, value in seen] == [row["val.loss"] for row in history]  # the trainer's monitor
    assert len(history) == 2 and pruning.pruned_epoch == 2


def test_without_a_true_answer_training_runs_to_its_end():
    pruning = TrialPruning(lambda epoch, value: False, monitor="train.loss")
    x, y = make_data()
    history = Trainer(epochs=3, batch_size=32, loss="cross_entropy", callbacks=[pruning], device="cpu").fit(
        make_model(), (x, y))
    assert len(history) == 3 and pruning.pruned_epoch is None
