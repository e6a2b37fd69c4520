"""Sudden jumps of the training loss between otherwise steady steps."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.detectors.divergence import diverged
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import healthy_samples, median

SPIKE = 3.0  # a step's loss this many times the median of the steps before it
CONTEXT = 5
MANY = 3


@DETECTORS.register("loss_spikes")
def loss_spikes(record: Record) -> list[Finding]:
    samples = healthy_samples(record)
    spikes = []
    for i in range(CONTEXT, len(samples)):
        before = median([s["loss"] for s in samples[i - CONTEXT:i]])
        if before and before > 0 and samples[i]["loss"] > SPIKE * before and samples[i]["loss"] - before > 0.1:
            spikes.append({"step": samples[i]["step"], "loss": samples[i]["loss"], "typical": before})
    if not spikes or diverged(record):  # a divergence is reported on its own
        return []
    first = spikes[0]
    return [Finding(
        "loss_spikes", "warning" if len(spikes) >= MANY else "info",
        f"Loss spikes: {len(spikes)} sampled step(s) jumped to over {SPIKE:g}x the typical loss "
        f"(first at step {first['step']})",
        "Now and then one update throws the network off course. A few isolated spikes can come from unusual "
        "batches; repeated ones mean the learning rate is near the edge of stability.",
        {"spikes": spikes[:10], "count": len(spikes)},
        ["clip gradients: train.grad_clip: 1.0", "lower the peak learning rate a little",
         "look for mislabelled or extreme examples"], step=first["step"])]
