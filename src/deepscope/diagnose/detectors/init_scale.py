"""Initial weights far from the scale that keeps signals steady through depth (std about 1/sqrt(fan_in)), and
large initial biases."""

from __future__ import annotations

import math
import re

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.formats import message_number

# gain = std * sqrt(fan_in): PyTorch's default init gives 0.58, Xavier/Kaiming 0.7-1.4
GAIN_RANGE = (0.1, 3.0)
BIAS_LIMIT = 1.0
RECURRENT_INPUT = re.compile(r"weight_ih_l(\d+(?:_reverse)?)$")  # nn.RNN/LSTM/GRU input-to-hidden weights


@DETECTORS.register("init_scale")
def init_scale(record: Record) -> list[Finding]:
    layers = record.init.get("layers", [])
    low, high = GAIN_RANGE
    gains = layer_gains(layers)
    off = {name: round(gain, 3) for name, gain in gains.items() if not low <= gain <= high}
    biased = {name: round(mean, 3) for name, mean in record.init.get("bias_means", {}).items()
              if abs(mean) > BIAS_LIMIT}
    findings = []
    if off:
        findings.append(Finding(
            "init_scale", "warning", f"{len(off)} layer(s) start with weights of an unusual scale",
            "Each layer's weights should start with a standard deviation near 1/sqrt(inputs to the layer) "
            f"(a 'gain' of about 0.6-1.4). Outside {low}-{high}, signals shrink or grow layer after layer, which "
            "leads to vanishing or exploding gradients.",
            {"gain_by_layer": off, "healthy_gain": "0.6-1.4"},
            ["in the config, model.init: kaiming for ReLU layers or xavier for tanh/sigmoid layers (or remove "
             "init for PyTorch's default); in Python, nn.init.kaiming_normal_ or nn.init.xavier_uniform_"],
            layer=next(iter(off))))
    if biased:
        findings.append(Finding(
            "bias_init", "warning",
            f"{len(biased)} layer(s) start with large biases "
            f"(mean up to {message_number(max(biased.values(), key=abs))})",
            "Biases usually start at or near zero. A large negative bias before a ReLU switches units off for every "
            "input from the start (they never learn); a large positive one saturates sigmoid and tanh units.",
            {"bias_mean_by_layer": biased}, ["initialise biases to zero (nn.init.zeros_)"], layer=next(iter(biased))))
    return findings


def layer_gains(layers: list[dict]) -> dict[str, float]:
    """{layer: gain} of the layers the gain rule applies to (not embedding tables), with an RNN's input weights
    measured against its hidden size.

    PyTorch draws every weight of nn.RNN/LSTM/GRU from U(-1/sqrt(hidden), 1/sqrt(hidden)), whatever the input
    size, so that the recurrent sum stays steady; an RNN reading one channel would otherwise look badly scaled.
    """
    fan_in = {layer["name"]: layer["fan_in"] for layer in layers}
    gains = {}
    for layer in layers:
        if layer.get("lookup"):  # embedding tables: no fan-in to keep steady
            continue
        match = RECURRENT_INPUT.search(layer["name"])
        hidden = fan_in.get(layer["name"][: match.start()] + f"weight_hh_l{match.group(1)}") if match else None
        gains[layer["name"]] = layer["weight_std"] * math.sqrt(hidden) if hidden else layer["gain"]
    return gains
