"""Learning rate too low (updates a millionth of the weights, loss hardly moves) or too high (loss jumps up,
updates a large fraction of the weights)."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.detectors.divergence import diverged
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import healthy_samples, initial_loss, layer_medians, median
from deepscope.formats import message_number

# update / weight per step: about 1e-3 is healthy (Karpathy, "A Recipe for Training Neural Networks")
TOO_SMALL = 1e-5
TOO_LARGE = 1e-1
HARDLY_MOVED = 0.9  # final training loss still this fraction of the initial loss
NEAR_PEAK = 0.1  # judge "too low" only on steps whose scheduled rate was at least this share of the configured one


@DETECTORS.register("learning_rate")
def learning_rate(record: Record) -> list[Finding]:
    samples = healthy_samples(record)
    lr = record.task.get("lr")
    # a schedule anneals the rate towards 0 (one-cycle ends at 1e-4 of its peak): small updates there are by design
    at_rate = [s for s in samples if not lr or (s.get("lr") or 0) >= NEAR_PEAK * lr]
    # the layer that moves most: when gradients vanish the early layers stand still whatever the rate
    per_layer = layer_medians(at_rate, "update_ratio")
    ratio = max(per_layer.values()) if per_layer else None
    train = record.series("train.loss")
    start = initial_loss(record)
    if not ratio or not train or not start:  # 0: no layer moves at all, so no gradient reaches them (dead units)
        return []
    if ratio < TOO_SMALL and train[-1] >= HARDLY_MOVED * start:
        return [_too_low(ratio, lr, start, train[-1])]
    early = median([layer["update_ratio"] for s in samples[: max(3, len(samples) // 10)] for layer in s["layers"]
                    if layer.get("update_ratio")])
    if early is not None and early > TOO_LARGE and (diverged(record) or train[-1] >= start):
        return [_too_high(early, lr, start, train)]
    return []


def _too_low(ratio: float, lr: float | None, start: float, last: float) -> Finding:
    suggested = min(lr * 1000, 1e-3) if lr else 1e-3
    return Finding(
        "lr_too_low", "warning",
        f"Learning rate too low: each step changes even the fastest-moving layer by only {message_number(ratio)} "
        "of its size",
        "The learning rate sets how far each step moves the weights. Healthy training moves them by about a "
        "thousandth of their size per step; here it is far less, so the loss hardly moves "
        f"({message_number(start)} → {message_number(last)}) and training would need thousands of times longer.",
        {"lr": lr, "largest_update_ratio": ratio, "healthy_update_ratio": 1e-3, "initial_loss": start,
         "final_train_loss": last},
        [f"raise the learning rate to about {message_number(suggested)} "
         f"(train.optimizer.lr={message_number(suggested)})",
         "or let `deepscope lr-find CONFIG` suggest one"])


def _too_high(ratio: float, lr: float | None, start: float, train: list[float]) -> Finding:
    suggested = lr / 10 if lr else None
    return Finding(
        "lr_too_high", "warning",
        f"Learning rate too high: early steps changed the weights by {ratio:.0%} of their size",
        "Each step moved the weights by a large fraction of their size (about a thousandth is healthy), so "
        "training overshoots: the loss jumps up instead of settling down.",
        {"lr": lr, "early_update_ratio": ratio, "healthy_update_ratio": 1e-3, "initial_loss": start,
         "final_train_loss": train[-1]},
        [f"lower the learning rate to about {message_number(suggested)} "
         f"(train.optimizer.lr={message_number(suggested)})" if suggested else
         "lower the learning rate about 10x", "or let `deepscope lr-find CONFIG` suggest one",
         "use a warm-up (train.schedule: onecycle warms up by default)"])
