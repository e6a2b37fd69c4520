"""Gradients that shrink layer by layer towards the input, so the early layers barely learn."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import fmt, healthy_samples, layer_medians

RATIO_WARNING = 1e-3  # input-side layer's gradient RMS against the largest layer's
RATIO_ERROR = 1e-6


@DETECTORS.register("vanishing_gradients")
def vanishing_gradients(record: Record) -> list[Finding]:
    rms = {name: value for name, value in layer_medians(healthy_samples(record), "grad_rms").items()}
    if len(rms) < 3 or max(rms.values()) <= 0:
        return []
    names = list(rms)
    first, largest = names[0], max(rms, key=rms.get)
    ratio = rms[first] / rms[largest]
    if ratio >= RATIO_WARNING or largest == first or rms[first] == 0 and _all_dead(record):
        return []
    per_layer = ratio ** (1 / max(names.index(largest), 1))
    depth = len(names)
    return [Finding(
        "vanishing_gradients", "error" if ratio < RATIO_ERROR else "warning",
        f"Vanishing gradients: the first layer gets {fmt(ratio)}x the gradient of {largest}",
        "Backpropagation multiplies the gradient by each layer's derivative on its way to the input. Here it "
        f"shrinks by about {fmt(per_layer)}x per layer over {depth} layers, so the layers near the input hardly "
        "change and the network learns like a much shallower one. Sigmoid and tanh (whose slopes are at most 0.25 "
        "and 1) in deep stacks are the classic cause.",
        {"first_layer": first, "first_layer_grad_rms": rms[first], "largest_layer": largest,
         "largest_grad_rms": rms[largest], "ratio": ratio, "shrink_per_layer": per_layer, "layers": depth,
         "grad_rms_by_layer": {n: float(f"{v:.3g}") for n, v in rms.items()}},
        ["replace sigmoid/tanh with relu (or gelu) in the hidden layers",
         "add batch normalisation between layers (batchnorm in a layer list)",
         "use fewer layers, or residual connections (encoder: resnet)",
         "use Kaiming initialisation for ReLU networks"],
        layer=first)]


def _all_dead(record: Record) -> bool:
    """Zero gradients everywhere before the head are dead ReLUs, which the dead-units detector reports."""
    acts = [a for s in record.samples[-3:] for a in s["activations"] if a["kind"].startswith("relu")]
    return bool(acts) and all(a["dead"] >= 0.99 for a in acts)
