"""Sigmoid or tanh units stuck at their flat ends, where the slope (and so the gradient) is nearly zero."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import activation_means, late

WARNING = 0.5
INFO = 0.2


@DETECTORS.register("saturation")
def saturation(record: Record) -> list[Finding]:
    saturated = {name: frac for name, (kind, frac) in activation_means(late(record.samples), "saturated").items()
                 if kind in ("sigmoid", "tanh", "hardtanh") and frac >= INFO}
    if not saturated:
        return []
    worst = max(saturated, key=saturated.get)
    return [Finding(
        "saturation", "warning" if saturated[worst] >= WARNING else "info",
        f"Saturated activations: {saturated[worst]:.0%} of the outputs of {worst} sit at the flat ends",
        "Sigmoid and tanh flatten out for large inputs; there their slope is almost zero, so almost no gradient "
        "passes back and the layers before them stop learning.",
        {"saturated_fraction_by_layer": {n: round(f, 3) for n, f in saturated.items()}},
        ["replace sigmoid/tanh with relu in the hidden layers", "normalise the inputs",
         "add batch normalisation before the activation", "lower the learning rate"], layer=worst)]
