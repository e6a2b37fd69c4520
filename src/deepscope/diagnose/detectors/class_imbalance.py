"""Some classes far rarer than others in the training data.

Judged on the training counts of the data profile (`record.data["classes"]`), by the rarest class's count over
the commonest one's: MNIST's is 0.8, a 95/5 yes/no split 0.05.
"""

from __future__ import annotations

from typing import Any

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

WARNING = 0.2  # the rarest class has fewer than a fifth of the examples of the most common one
INFO = 0.5  # fewer than half: worth knowing, rarely worth acting on


@DETECTORS.register("class_imbalance")
def class_imbalance(record: Record) -> list[Finding]:
    findings = []
    for output, classes in record.data.get("classes", {}).items():
        counts = classes.get("counts", {}).get("train", [])
        present = [(name, n) for name, n in zip(classes.get("names", []), counts) if n > 0]
        if len(present) < 2:
            continue
        rarest, commonest = min(present, key=lambda c: c[1]), max(present, key=lambda c: c[1])
        ratio = rarest[1] / commonest[1]
        if ratio < INFO:
            findings.append(_imbalance(record, output, classes, counts, present, ratio))
    return findings


def _imbalance(record: Record, output: str, classes: dict[str, Any], counts: list[int],
               present: list[tuple[str, int]], ratio: float) -> Finding:
    rarest, commonest = min(present, key=lambda c: c[1]), max(present, key=lambda c: c[1])
    total = sum(n for _, n in present)
    kind = classes.get("type") or record.task.get("outputs", {}).get(output, {}).get("type", "category")
    return Finding(
        "class_imbalance", "warning" if ratio < WARNING else "info",
        f"Class imbalance in {output}: class {rarest[0]} has {rarest[1]} training examples against "
        f"{commonest[1]} for class {commonest[0]}",
        f"Class {rarest[0]} makes up {rarest[1] / total:.1%} of the training data. A model can score "
        f"{commonest[1] / total:.0%} accuracy by always answering {commonest[0]}, so accuracy says little; "
        "the rare class is the one it learns worst, and often the one that matters.",
        {"output": output, "counts": dict(present), "shares": {name: round(n / total, 3) for name, n in present},
         "rarest": rarest[0], "rarest_to_commonest": round(ratio, 4)},
        [_weights_advice(output, kind, counts),
         "judge the model by balanced accuracy, per-class recall, F1 (macro) or ROC-AUC, not accuracy",
         f"collect more examples of class {rarest[0]}, or augment them"])


def _weights_advice(output: str, kind: str, counts: list[int]) -> str:
    """The loss weights that balance the classes, as the config option the output's head reads."""
    if kind == "binary":  # counts are [negative, positive], the order the binary feature encodes them
        negative, positive = counts
        return (f"weight the positive class in the loss by negatives / positives: "
                f"data.outputs.{output}: {{type: binary, pos_weight: {negative / max(positive, 1):.3g}}}")
    # total / (classes * count): every class then weighs as much in the loss, in the order of the class names
    weights = [round(sum(counts) / (len(counts) * max(n, 1)), 2) for n in counts]
    return (f"weight classes in the loss by inverse frequency: "
            f"data.outputs.{output}: {{type: category, class_weights: {weights}}}")
