"""Training curves of short runs: the learning rate replayed from the schedule matches what the trainer set at
every sampled step; a one-epoch run draws its training mean as a level across the epoch, not a lone dot."""

from __future__ import annotations

import json

import pytest
import yaml

import deepscope as ds
from deepscope.report import curves
from deepscope.report.context import ReportContext


def digits_run(tmp_path, schedule, epochs=3, batch_size=64) -> ds.Run:
    config = {"data": {"source": "digits"}, "model": {"encoder": {"name": "mlp", "hidden": [32]}},
              "train": {"epochs": epochs, "batch_size": batch_size, "schedule": schedule},
              "run": {"root": str(tmp_path), "report": False}}
    return ds.train(config, progress=False)


@pytest.mark.parametrize("schedule", ["onecycle", {"name": "step", "step_size": 1, "gamma": 0.5},
                                      {"name": "cosine", "warmup": 0.2}])
def test_the_replayed_learning_rate_is_the_trainers_at_every_sampled_step(tmp_path, schedule):
    run = digits_run(tmp_path, schedule)
    record = json.loads((run.dir / "diagnosis.json").read_text())["record"]
    samples, steps_per_epoch = record["samples"], record["task"]["steps_per_epoch"]
    config = yaml.safe_load((run.dir / "config.yaml").read_text())
    replayed = curves.scheduled_lr(config, steps_per_epoch, 3 * steps_per_epoch)
    first_at = {}
    for step, lr in replayed:
        first_at.setdefault(step, lr)  # at an epoch's end a step schedule has two: before and after its drop
    assert len(replayed) > 3 * steps_per_epoch and len(samples) < steps_per_epoch  # every step, not ~4 an epoch
    for sample in samples:
        assert first_at[sample["step"]] == pytest.approx(sample["lr"], rel=1e-9), sample["step"]


def test_a_plateau_schedule_is_not_replayed():
    config = {"train": {"epochs": 3, "optimizer": {"lr": 0.01}, "schedule": {"name": "plateau"}}}
    assert curves.scheduled_lr(config, 10, 30) == []


def test_a_one_epoch_run_draws_the_epoch_mean_across_the_epoch_and_every_steps_rate(tmp_path, monkeypatch):
    run = digits_run(tmp_path, "onecycle", epochs=1, batch_size=32)
    levels, lr_lines = [], []
    from matplotlib.axes import Axes

    original_hlines = Axes.hlines
    monkeypatch.setattr(Axes, "hlines", lambda self, y, xmin, xmax, **kw: levels.append((y, xmin, xmax)) or
                        original_hlines(self, y, xmin, xmax, **kw))
    original_line = curves.line
    monkeypatch.setattr(curves, "line", lambda ax, xs, ys, **kw: lr_lines.append(len(xs)) or
                        original_line(ax, xs, ys, **kw))
    html = curves.render(ReportContext.gather(run.dir, load=False))
    epoch = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()][0]
    steps = json.loads((run.dir / "diagnosis.json").read_text())["record"]["task"]["steps_per_epoch"]
    (values, starts, ends), = levels
    assert list(values) == [pytest.approx(epoch["train.loss"])] and list(starts) == [0] and list(ends) == [steps]
    assert lr_lines[-1] == steps + 1  # the learning-rate curve: steps 0..N, not the four sampled ones
    assert "Metrics on the validation data" not in html  # one epoch: one dot per panel would say nothing
