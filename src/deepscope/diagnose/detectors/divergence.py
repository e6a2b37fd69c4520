"""The loss blew up: it became NaN/Inf, or rose far above where it started."""

from __future__ import annotations

import math

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import initial_loss, lower_rate
from deepscope.formats import message_number

BLOW_UP = 5.0  # a loss this many times the initial one is not noise


@DETECTORS.register("divergence")
def divergence(record: Record) -> list[Finding]:
    lr, lower = record.task.get("lr"), lower_rate(record)
    advice = [f"lower the learning rate from {message_number(lr)} to about {message_number(lower)} "
              f"(train.optimizer.lr={message_number(lower)})" if lr and lower else
              "lower the learning rate about 10x", "clip gradients: train.grad_clip: 1.0",
              "normalise the inputs, or add batch normalisation", "find a safe rate with `deepscope lr-find CONFIG`"]
    if record.nonfinite:
        initial = record.init.get("loss")
        if isinstance(initial, float) and not math.isfinite(initial):  # bad before any update: the data, not the rate
            advice = ["find and fix the NaN/Inf values in the inputs (the loss was already NaN before the first step)",
                      *advice[1:]]
        return [_nonfinite(record, advice)]
    start = initial_loss(record)
    if not start or start <= 0:
        return []
    peak = max(record.samples, key=lambda s: s["loss"], default=None)
    epoch_peak = max(record.history, key=lambda h: h.get("train.loss", 0.0), default=None)
    if peak is not None and peak["loss"] >= BLOW_UP * start:
        step, value, epoch = peak["step"], peak["loss"], peak["epoch"]
    elif epoch_peak is not None and epoch_peak.get("train.loss", 0.0) >= BLOW_UP * start:
        step, value, epoch = None, epoch_peak["train.loss"], epoch_peak["epoch"]
    else:
        return []
    where = f"step {step}" if step is not None else f"epoch {epoch}"
    return [Finding(
        "divergence", "error",
        f"Training diverged: the loss jumped from {message_number(start)} to {message_number(value)} at {where}",
        "Each update overshot so far that the network got worse instead of better. The usual cause is a learning "
        "rate too high for this model and data; unnormalised inputs and missing gradient clipping make it worse.",
        {"initial_loss": start, "peak_loss": value, "step": step, "epoch": epoch, "lr": lr,
         "final_train_loss": record.series("train.loss")[-1] if record.series("train.loss") else None},
        advice, epoch=epoch, step=step)]


def _nonfinite(record: Record, advice: list[str]) -> Finding:
    bad = record.nonfinite or {}
    layer, where, step = bad.get("layer"), bad.get("where", "loss"), bad.get("step")
    since = bad.get("last_finite_step")
    place = f" ({where} of {layer} first)" if layer else ""
    window = f" (last finite at step {since})" if since is not None else ""
    return Finding(
        "divergence", "error", f"The loss became NaN/Inf by step {step}{place}",
        "Numbers in the network overflowed to infinity or became NaN (not a number), and from then on nothing "
        f"can be learned. It was first seen at step {step}{window}; "
        f"{('the first layer affected is ' + layer) if layer else 'the loss itself was affected first'}. "
        "Overflow is almost always a learning rate that is too high, exploding gradients, or NaN/extreme input values.",
        {**bad, "lr": record.task.get("lr")}, advice, epoch=bad.get("epoch"), step=step, layer=layer)


def diverged(record: Record) -> bool:
    """Whether the divergence detector fires (other detectors defer to it)."""
    return bool(record.nonfinite) or bool(divergence(record))


