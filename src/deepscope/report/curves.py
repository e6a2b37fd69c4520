"""Training curves: loss (training vs validation), the validation metrics, and the learning rate.

Epoch rows come from metrics.jsonl. A short run (MNIST trains in one epoch) has one point per epoch, so the
diagnostics' samples (the loss every few steps, in diagnosis.json) draw the loss by step where they exist. The
validation loss is marked at the step where its epoch ended; the training loss of an epoch is a mean over all its
steps, so it is drawn as a level across them (a dot at the epoch's end would sit above the last steps' losses and
read as an outlier). The learning rate is replayed step by step from the run's schedule (the diagnostics sample
only about 4 steps an epoch); a plateau schedule, which follows the validation metric, is drawn from the samples.
"""

from __future__ import annotations

from typing import Any

import torch

from deepscope.errors import ConfigError
from deepscope.report.context import ReportContext
from deepscope.report.html import figure, note, table
from deepscope.report.plots import COLOURS, WIDE, Plot, line, whole_numbers
from deepscope.training.optim import build_schedule

NOT_CURVES = {"epoch", "time", "lr", "n"}
MAX_TABLE_ROWS = 200  # epochs listed in the table: the first and last ones when there are more
MARKED_EPOCHS = 30  # up to this many epochs, each is drawn as a dot
MAX_METRIC_PANELS = 4
MAX_LR_POINTS = 2000  # points of the replayed learning-rate curve (every step up to this many)


def render(context: ReportContext) -> str:
    epochs = context.info.epochs
    samples = [s for s in context.record("samples", list)
               if isinstance(s, dict) and _finite(s.get("step"))]
    if not epochs and not samples:
        return note("No training progress was recorded (metrics.jsonl holds no epoch).")
    steps_per_epoch = context.record("task").get("steps_per_epoch")
    steps_per_epoch = steps_per_epoch if _finite(steps_per_epoch) else None
    has_val = any("val.loss" in row for row in epochs)
    by_step = bool(samples and steps_per_epoch)
    caption = ("Training loss" + (" by step (diagnostic samples) and its mean over each epoch (a level across the "
                                  "epoch's steps)" if by_step else ", the mean of each epoch")
               + (", beside the validation loss. Validation loss rising while training loss falls means overfitting."
                  if has_val else ". There was no validation split, so only the training loss is drawn."))
    parts = [figure(loss_plot(epochs, samples, steps_per_epoch), caption)]
    metrics = metric_names(epochs)
    if metrics and len(epochs) > 1:  # one epoch: a dot per panel says less than the table below
        parts.append(figure(metrics_plot(epochs, metrics), "Metrics on the validation data after each epoch."))
    lr = lr_plot(epochs, samples, scheduled_lr(context.info.config, steps_per_epoch, _steps_done(epochs, samples,
                                                                                                steps_per_epoch)))
    if lr:
        parts.append(figure(lr, "Learning rate over training (the schedule, step by step)."))
    if epochs:
        parts.append(epoch_table(epochs))
    return "\n".join(parts)


def metric_names(epochs: list[dict[str, Any]]) -> list[str]:
    """Validation metrics worth a curve ("val.accuracy", ...), the loss aside; at most MAX_METRIC_PANELS."""
    names: list[str] = []
    for row in epochs:
        for key, value in row.items():
            if key.startswith("val.") and key != "val.loss" and key.split(".")[-1] not in NOT_CURVES \
                    and isinstance(value, (int, float)) and key not in names:
                names.append(key)
    return names[:MAX_METRIC_PANELS]


def _epoch_x(epochs: list[dict[str, Any]], samples: list[dict[str, Any]], steps_per_epoch: int | None) -> list[float]:
    """Where each epoch row is drawn: at the step it ended when the plot is by step, else at its number."""
    numbers = [row["epoch"] if _finite(row.get("epoch")) else i + 1 for i, row in enumerate(epochs)]
    return [n * steps_per_epoch for n in numbers] if samples and steps_per_epoch else numbers


def loss_plot(epochs: list[dict[str, Any]], samples: list[dict[str, Any]], steps_per_epoch: int | None) -> str:
    by_step = bool(samples and steps_per_epoch) or not epochs
    plot = Plot(WIDE, 3.2)
    with plot as ax:
        if samples and by_step:
            points = [(s["step"], s["loss"]) for s in samples if _finite(s.get("loss"))]
            if points:
                line(ax, *zip(*points), color=COLOURS[0], linewidth=1, alpha=0.6, label="training (sampled steps)")
        x = _epoch_x(epochs, samples, steps_per_epoch if by_step else None)
        marker = "o" if len(epochs) <= MARKED_EPOCHS else None
        train = [(xi, r["train.loss"]) for xi, r in zip(x, epochs) if _finite(r.get("train.loss"))]
        if train and samples and by_step:  # a mean over the epoch's steps: a level across them
            ends, values = zip(*train)
            ax.hlines(values, [end - steps_per_epoch for end in ends], ends, color=COLOURS[0], linewidth=2.2,
                      label="training (mean of each epoch)")
        elif train:
            ax.plot(*zip(*train), marker=marker, markersize=4, color=COLOURS[0], label="training (epoch mean)")
        val = [(xi, r["val.loss"]) for xi, r in zip(x, epochs) if _finite(r.get("val.loss"))]
        if val:
            ax.plot(*zip(*val), marker=marker, markersize=4, color=COLOURS[1], label="validation")
        ax.set_xlabel("step" if by_step else "epoch")
        ax.set_ylabel("loss")
        whole_numbers(ax)
        ax.legend()
    return plot.svg


def metrics_plot(epochs: list[dict[str, Any]], names: list[str]) -> str:
    plot = Plot(WIDE, 2.6, ncols=len(names)) if len(names) > 1 else Plot(WIDE / 2, 2.6)
    with plot as axes:
        axes = axes if isinstance(axes, list) else [axes]
        for ax, name, colour in zip(axes, names, COLOURS[1:]):
            points = [(x, r[name]) for x, r in zip(_epoch_x(epochs, [], None), epochs) if _finite(r.get(name))]
            if points:
                line(ax, *zip(*points), marker="o" if len(points) <= MARKED_EPOCHS else None, markersize=4,
                     color=colour)
            ax.set_title(name)
            ax.set_xlabel("epoch")
            whole_numbers(ax)
    return plot.svg


def lr_plot(epochs: list[dict[str, Any]], samples: list[dict[str, Any]],
            replayed: list[tuple[int, float]] | None = None) -> str:
    by_step = replayed or [(s["step"], s["lr"]) for s in samples if _finite(s.get("lr"))]
    by_epoch = [(x, r["lr"]) for x, r in zip(_epoch_x(epochs, [], None), epochs) if _finite(r.get("lr"))]
    points, label = (by_step, "step") if len(by_step) >= len(by_epoch) else (by_epoch, "epoch")
    if len(points) < 2:
        return ""
    plot = Plot(WIDE, 2.4)
    with plot as ax:
        line(ax, *zip(*points), color=COLOURS[3])
        ax.set_xlabel(label)
        whole_numbers(ax)
        ax.set_ylabel("learning rate")
    return plot.svg


def scheduled_lr(config: dict[str, Any], steps_per_epoch: int | None, steps: int) -> list[tuple[int, float]]:
    """[(step, lr)] for steps 0..`steps`, replayed from the config's optimizer lr and schedule exactly as the
    trainer steps it (step_batch after every step, step_epoch after every epoch); [] when it cannot be replayed
    (a plateau schedule follows the validation metric; a config without the numbers)."""
    train = config.get("train") if isinstance(config, dict) else None
    if not isinstance(train, dict) or not steps_per_epoch or steps < 1:
        return []
    spec = train.get("schedule") or {"name": "constant"}
    spec = {"name": spec} if isinstance(spec, str) else {k: v for k, v in spec.items() if v is not None}
    lr = (train.get("optimizer") or {}).get("lr")
    epochs = train.get("epochs")
    if spec.get("name") == "plateau" or not _finite(lr) or not _finite(epochs):
        return []
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=float(lr), momentum=0.9)
    try:
        schedule = build_schedule(optimizer, spec, total_steps=int(epochs) * steps_per_epoch,
                                  steps_per_epoch=steps_per_epoch)
    except ConfigError:  # a config from another version: fall back to the samples
        return []
    every = max(1, steps // MAX_LR_POINTS)
    points = [(0, schedule.current_lr())]
    for step in range(1, steps + 1):
        schedule.step_batch()
        if step % every == 0 or step == steps:
            points.append((step, schedule.current_lr()))
        if step % steps_per_epoch == 0:  # an epoch's end: a step schedule drops here, drawn as a vertical edge
            schedule.step_epoch()
            if schedule.current_lr() != points[-1][1]:
                points.append((step, schedule.current_lr()))
    return points


def _steps_done(epochs: list[dict[str, Any]], samples: list[dict[str, Any]], steps_per_epoch: int | None) -> int:
    finished = max((r["epoch"] for r in epochs if _finite(r.get("epoch"))), default=0)
    sampled = max((s["step"] for s in samples), default=0)
    return int(max(finished * (steps_per_epoch or 0), sampled))


def epoch_table(epochs: list[dict[str, Any]]) -> str:
    """Every epoch's numbers, folded away (a long run has hundreds of rows)."""
    keys = ["epoch"] + sorted({k for r in epochs for k, v in r.items() if k not in ("epoch", "time", "val.n")
                               and isinstance(v, (int, float))}, key=_order) + ["time"]
    half = MAX_TABLE_ROWS // 2
    rows = [[r.get(k, "") for k in keys] for r in epochs]
    if len(rows) > MAX_TABLE_ROWS:
        rows = rows[:half] + [[f"... {len(rows) - 2 * half} epochs"] + [""] * (len(keys) - 1)] + rows[-half:]
    header = [k if k != "time" else "time (s)" for k in keys]
    return (f"<details><summary>Every epoch ({len(epochs)})</summary>"
            + table(header, rows, numeric=[True] * len(header)) + "</details>")


def _order(key: str) -> tuple[int, str]:
    return ({"train.loss": 0, "val.loss": 1, "lr": 9}.get(key, 5), key)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < float("inf")
