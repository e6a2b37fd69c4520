"""ReLU units that output zero for every example: no gradient reaches them, so they never learn again."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import activation_means, late

WARNING = 0.5  # half the units of a layer dead
INFO = 0.25


@DETECTORS.register("dead_units")
def dead_units(record: Record) -> list[Finding]:
    dead = {name: frac for name, (kind, frac) in activation_means(late(record.samples), "dead").items()
            if kind.startswith("relu") and frac >= INFO}
    if not dead:
        return []
    worst = max(dead, key=dead.get)
    severity = "warning" if dead[worst] >= WARNING else "info"
    negative_bias = {n: m for n, m in record.init.get("bias_means", {}).items() if m < -0.5}
    cause = (" The layers started with negative biases, which switch units off from the first step."
             if negative_bias else " A learning rate that is too high often knocks units into this state.")
    return [Finding(
        "dead_units", severity, f"Dead units: {dead[worst]:.0%} of the units after {worst} never activate",
        "A ReLU unit outputs zero for negative inputs, and then passes back no gradient. A unit that is negative "
        "for every example is 'dead': it can never recover, and the network has lost that much capacity." + cause,
        {"dead_fraction_by_layer": {n: round(f, 3) for n, f in dead.items()},
         **({"negative_initial_biases": negative_bias} if negative_bias else {})},
        ["use leaky_relu (or gelu) instead of relu", "lower the learning rate",
         "initialise biases at zero (or a small positive value)", "add batch normalisation before the activation"],
        layer=worst)]
