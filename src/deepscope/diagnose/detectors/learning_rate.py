"""Learning rate too low (updates a millionth of the weights, loss hardly moves) or too high (the first steps move
the weights by a large fraction of their size, and the loss blows up, stalls above its start, or kills units).

Advice is always relative to the rate in use: "too low" is never said of a rate already at or above the usual
one for its optimizer (tiny updates there come from tiny gradients, which the gradient detectors report), and
"too high" always suggests a lower rate than the one that ran.
"""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.detectors.dead_units import died_during_training
from deepscope.diagnose.detectors.divergence import diverged
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import (
    UPDATE_TOO_LARGE,
    early_update_ratio,
    healthy_samples,
    initial_loss,
    layer_medians,
    lower_rate,
    usual_rate,
)
from deepscope.formats import message_number

TOO_SMALL = 1e-5  # update / weight per step; about 1e-3 is healthy
HARDLY_MOVED = 0.9  # final training loss still this fraction of the initial loss
NEAR_PEAK = 0.1  # judge "too low" only on steps whose scheduled rate was at least this share of the configured one


@DETECTORS.register("learning_rate")
def learning_rate(record: Record) -> list[Finding]:
    samples = healthy_samples(record)
    lr = record.task.get("lr")
    train, start = record.series("train.loss"), initial_loss(record)
    too_high = _too_high(record, samples, lr, start, train)
    if too_high:
        return too_high
    # a schedule anneals the rate towards 0 (one-cycle ends at 1e-4 of its peak): small updates there are by design
    at_rate = [s for s in samples if not lr or (s.get("lr") or 0) >= NEAR_PEAK * lr]
    # the layer that moves most: when gradients vanish the early layers stand still whatever the rate
    per_layer = layer_medians(at_rate, "update_ratio")
    ratio = max(per_layer.values()) if per_layer else None
    if not ratio or not train or not start:  # 0: no layer moves at all, so no gradient reaches them (dead units)
        return []
    suggested = min(lr * 1000, usual_rate(record.task.get("optimizer"))) if lr else 1e-3
    if ratio < TOO_SMALL and train[-1] >= HARDLY_MOVED * start and (not lr or suggested > lr):
        return [_too_low(ratio, lr, suggested, start, train[-1])]
    return []


def _too_low(ratio: float, lr: float | None, suggested: float, start: float, last: float) -> Finding:
    return Finding(
        "lr_too_low", "warning",
        f"Learning rate too low: each step changes even the fastest-moving layer by only {message_number(ratio)} "
        "of its size",
        "The learning rate sets how far each step moves the weights. Healthy training moves them by about a "
        "thousandth of their size per step; here it is far less, so the loss hardly moves "
        f"({message_number(start)} → {message_number(last)}) and training would need thousands of times longer.",
        {"lr": lr, "suggested_lr": suggested, "largest_update_ratio": ratio, "healthy_update_ratio": 1e-3,
         "initial_loss": start, "final_train_loss": last},
        [f"raise the learning rate to about {message_number(suggested)} "
         f"(train.optimizer.lr={message_number(suggested)})",
         "or let `deepscope lr-find CONFIG` suggest one"])


def _too_high(record: Record, samples: list[dict], lr: float | None, start: float | None,
              train: list[float]) -> list[Finding]:
    """Early steps that move the weights by over a tenth of their size, and what such steps do: a blow-up, a loss
    that ends no lower than it began, or ReLU units that were alive at initialisation and died."""
    early = early_update_ratio(record)
    if early is None or early <= UPDATE_TOO_LARGE:
        return []
    blew_up = diverged(record)
    stalled = bool(train and start and train[-1] >= start)
    killed = died_during_training(record)
    if not (blew_up or stalled or killed):
        return []
    suggested = lower_rate(record)
    harm = ("the loss blew up" if blew_up else f"the loss ended no lower than it began ({message_number(start)})"
            if stalled else f"it killed the ReLU units after {', '.join(killed)} (alive at initialisation)")
    return [Finding(
        "lr_too_high", "warning",
        f"Learning rate too high: the first steps changed the weights by {early:.0%} of their size",
        "Each step moved the weights by a large fraction of their size (about a thousandth is healthy), so "
        f"training overshoots: {harm}. What a rate too high causes (a blow-up, dead units, loss spikes), where "
        "found, is listed after this: fix the rate first.",
        {"lr": lr, "suggested_lr": suggested, "early_update_ratio": early, "healthy_update_ratio": 1e-3,
         "initial_loss": start, "final_train_loss": train[-1] if train else None, "diverged": blew_up,
         "units_died_by_step": killed},
        [f"lower the learning rate from {message_number(lr)} to about {message_number(suggested)} "
         f"(train.optimizer.lr={message_number(suggested)})" if suggested else
         "lower the learning rate about 10x", "or let `deepscope lr-find CONFIG` suggest one",
         "use a warm-up (train.schedule: onecycle warms up by default)"])]
