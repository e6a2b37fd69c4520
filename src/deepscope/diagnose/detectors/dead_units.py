"""ReLU units that output zero for every example: no gradient reaches them, so they never learn again.

When they died decides what to change: units dead before the first update were killed by the initialisation
(negative biases, badly scaled weights), units that died during training by an update, usually a learning rate
too high. The record holds the dead fraction before training (`init["activations"]`) and at every sampled step.
"""

from __future__ import annotations

from typing import Any

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import UPDATE_TOO_LARGE, activation_means, early_update_ratio, late, lower_rate
from deepscope.formats import message_number

WARNING = 0.5  # half the units of a layer dead
INFO = 0.25
AT_BIRTH = 0.8  # dead before the first update at this share (or more) of the final dead fraction: born dead
NEGATIVE_BIAS = -0.5


@DETECTORS.register("dead_units")
def dead_units(record: Record) -> list[Finding]:
    dead = {name: frac for name, (kind, frac) in activation_means(late(record.samples), "dead").items()
            if kind.startswith("relu") and frac >= INFO}
    if not dead:
        return []
    worst = max(dead, key=dead.get)
    when = when_they_died(record, worst, dead[worst])
    severity = "warning" if dead[worst] >= WARNING else "info"
    negative_bias = {n: m for n, m in record.init.get("bias_means", {}).items() if m < NEGATIVE_BIAS}
    share = f"{dead[worst]:.0%} of the units after {worst}"
    if when is None:  # a record without the measurement before training
        title, story, advice = f"Dead units: {share} never activate", _unknown_story(negative_bias), _usual_advice()
    elif when["at_initialisation"]:
        title = f"Dead units: {share} were dead at initialisation"
        story, advice = _born_dead(when, negative_bias)
    else:
        title = f"Dead units: {share} died during training (after step {when['alive_at_step']})"
        story, advice = _died(when, record)
    return [Finding(
        "dead_units", severity, title,
        "A ReLU unit outputs zero for negative inputs, and then passes back no gradient. A unit that is negative "
        "for every example is 'dead': it can never recover, and the network has lost that much capacity. " + story,
        {"dead_fraction_by_layer": {n: round(f, 3) for n, f in dead.items()}, **(when or {}),
         **({"negative_initial_biases": negative_bias} if negative_bias else {})},
        advice, step=when.get("dead_by_step") if when else None, layer=worst)]


def when_they_died(record: Record, layer: str, final: float) -> dict[str, Any] | None:
    """{"at_initialisation": bool, "dead_at_initialisation": fraction, "alive_at_step": last step the layer was
    still mostly alive (0: before training), "dead_by_step": first sampled step it was dead from then on}, or
    None when the record has no measurement from before training."""
    at_init = {a["name"]: a["dead"] for a in record.init.get("activations", [])}
    if layer not in at_init:
        return None
    threshold = AT_BIRTH * final
    if at_init[layer] >= threshold:
        return {"at_initialisation": True, "dead_at_initialisation": round(at_init[layer], 3)}
    alive, dead_by = 0, None
    for sample in ([record.first_step] if record.first_step else []) + record.samples:
        fraction = next((a["dead"] for a in sample["activations"] if a["name"] == layer), None)
        if fraction is None:
            continue
        if fraction < threshold:
            alive, dead_by = sample["step"], None
        elif dead_by is None:
            dead_by = sample["step"]
    return {"at_initialisation": False, "dead_at_initialisation": round(at_init[layer], 3), "alive_at_step": alive,
            "dead_by_step": dead_by}


def died_during_training(record: Record) -> dict[str, int | None]:
    """{ReLU layer: step by which it was dead} for layers mostly dead at the end that were alive at initialisation
    (the evidence a learning rate too high leaves behind)."""
    dead = {name: frac for name, (kind, frac) in activation_means(late(record.samples), "dead").items()
            if kind.startswith("relu") and frac >= WARNING}
    deaths = {name: when_they_died(record, name, frac) for name, frac in dead.items()}
    return {name: when["dead_by_step"] for name, when in deaths.items() if when and not when["at_initialisation"]}


def _born_dead(when: dict[str, Any], negative_bias: dict[str, float]) -> tuple[str, list[str]]:
    story = (f"These were already dead before the first update ({when['dead_at_initialisation']:.0%} of them), so "
             "the initialisation killed them, not the learning rate.")
    advice = ["use Kaiming initialisation for ReLU layers (nn.init.kaiming_normal_(weight, nonlinearity='relu'))",
              "use leaky_relu (or gelu) instead of relu", "add batch normalisation before the activation"]
    if negative_bias:
        lowest = min(negative_bias.values())
        story += f" The layers started with negative biases (down to {message_number(lowest)}), which switch units off."
        advice.insert(0, f"initialise biases at zero (nn.init.zeros_): they start at {message_number(lowest)}")
    return story, advice


def _died(when: dict[str, Any], record: Record) -> tuple[str, list[str]]:
    lr, early, suggested = record.task.get("lr"), early_update_ratio(record), lower_rate(record)
    lower = (f"lower the learning rate from {message_number(lr)} to about {message_number(suggested)} "
             f"(train.optimizer.lr={message_number(suggested)})" if lr and suggested else
             "lower the learning rate about 10x")
    step = f"step {when['dead_by_step']}" if when.get("dead_by_step") is not None else "the end"
    story = (f"They were alive at initialisation (only {when['dead_at_initialisation']:.0%} dead) and died between "
             f"step {when['alive_at_step']} and {step}: an update pushed them negative for every input.")
    if early is not None and early > UPDATE_TOO_LARGE:
        story += (f" The first steps moved the weights by {early:.0%} of their size (about 0.1 % is healthy): the "
                  "learning rate is too high.")
        return story, [lower, "use leaky_relu (or gelu) instead of relu", "clip gradients: train.grad_clip: 1.0"]
    story += " Large updates (a high learning rate, no warm-up) or strongly negative inputs usually do this."
    return story, ["use leaky_relu (or gelu) instead of relu", "add batch normalisation before the activation",
                   "or " + lower]


def _unknown_story(negative_bias: dict[str, float]) -> str:
    return ("The layers started with negative biases, which switch units off from the first step." if negative_bias
            else "A learning rate that is too high often knocks units into this state.")


def _usual_advice() -> list[str]:
    return ["use leaky_relu (or gelu) instead of relu", "lower the learning rate",
            "initialise biases at zero (or a small positive value)", "add batch normalisation before the activation"]
