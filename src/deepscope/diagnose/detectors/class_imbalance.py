"""Some classes far rarer than others in the training data."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

WARNING = 0.2  # the rarest class has fewer than a fifth of the examples of the most common one
INFO = 0.5


@DETECTORS.register("class_imbalance")
def class_imbalance(record: Record) -> list[Finding]:
    findings = []
    for output, classes in record.data.get("classes", {}).items():
        counts = classes["counts"].get("train", [])
        present = [(name, n) for name, n in zip(classes["names"], counts) if n > 0]
        if len(present) < 2:
            continue
        rarest, commonest = min(present, key=lambda c: c[1]), max(present, key=lambda c: c[1])
        ratio = rarest[1] / commonest[1]
        if ratio >= INFO:
            continue
        total = sum(n for _, n in present)
        shares = {name: round(n / total, 3) for name, n in present}
        binary = record.task.get("outputs", {}).get(output, {}).get("type") == "binary"
        findings.append(Finding(
            "class_imbalance", "warning" if ratio < WARNING else "info",
            f"Class imbalance in {output}: class {rarest[0]} has {rarest[1]} training examples against "
            f"{commonest[1]} for class {commonest[0]}",
            f"Class {rarest[0]} makes up {rarest[1] / total:.1%} of the training data. A model can score "
            f"{commonest[1] / total:.0%} accuracy by always answering {commonest[0]}, so accuracy says little; "
            "the rare class is the one it learns worst, and often the one that matters.",
            {"output": output, "counts": dict(present), "shares": shares, "rarest_to_commonest": round(ratio, 4)},
            [_weights_advice(output, binary, counts),
             "judge the model by per-class recall, F1 (macro) or ROC-AUC, not accuracy",
             f"collect more examples of class {rarest[0]}, or augment them"]))
    return findings


def _weights_advice(output: str, binary: bool, counts: list[int]) -> str:
    """The loss weights that balance the classes: total / (classes * count), in class order."""
    if binary:
        negative, positive = counts
        return f"weight positive examples in the loss: data.outputs.{output}.pos_weight: {negative / max(positive, 1):.3g}"
    weights = [round(sum(counts) / (len(counts) * max(n, 1)), 2) for n in counts]
    return f"weight classes in the loss by inverse frequency: data.outputs.{output}.class_weights: {weights}"
