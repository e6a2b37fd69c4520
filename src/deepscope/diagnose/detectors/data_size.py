"""Not enough data: the learning curve (on request, `deepscope learning-curve`) is still climbing.

An accuracy measured on n held-out examples is only known to about ±2·sqrt(p(1-p)/n): on 78 validation images
that is ±10 points, more than the curve moves. The judgement says so rather than reading noise as a trend.
"""

from __future__ import annotations

import math
from typing import Any

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.formats import message_number

CLIMBING = 0.01  # accuracy gained from twice the data (absolute) that makes collecting it worthwhile
CLIMBING_RELATIVE = 0.05  # or relative error reduction, for regression
RESOLVABLE = 0.03  # "flat" needs the accuracy known to within ±3 points (about 400 scored examples at 90%)


@DETECTORS.register("not_enough_data")
def not_enough_data(record: Record) -> list[Finding]:
    curve = record.learning_curve
    if not curve.get("scores"):
        return []
    higher, scores, doubled = curve["higher_is_better"], curve["scores"], curve["projected"]["2x"]
    projected_gain = doubled - scores[-1] if higher else scores[-1] - doubled
    worthwhile = projected_gain > (CLIMBING if higher else CLIMBING_RELATIVE * abs(scores[-1]))
    climbed = scores[-1] - scores[0] if higher else scores[0] - scores[-1]
    noise = _noise(curve)
    evidence = _evidence(curve, noise)
    if worthwhile and climbed > noise:
        return [_climbing(curve, evidence)]
    if worthwhile or noise > RESOLVABLE:  # a projected gain the points cannot back, or points too rough to judge
        return [_inconclusive(curve, evidence, noise)]
    return [_flat(curve, evidence)]


def _noise(curve: dict[str, Any]) -> float:
    """About two standard errors of the full-data accuracy (binomial); 0 when unknown (regression, old records)."""
    n = curve.get("n_scored")
    if not n or not curve["higher_is_better"]:
        return 0.0
    p = min(max(curve["scores"][-1], 0.0), 1.0)
    return 2 * math.sqrt(max(p * (1 - p), 1 / n) / n)  # the floor keeps a perfect score from looking exact


def _evidence(curve: dict[str, Any], noise: float) -> dict[str, Any]:
    evidence = {"metric": curve["metric"], "sizes": curve["sizes"], "scores": [round(s, 4) for s in curve["scores"]],
                "projected_2x": round(curve["projected"]["2x"], 4),
                "projected_10x": round(curve["projected"]["10x"], 4), "fit": curve["fit"]}
    if noise:
        evidence.update(n_scored=curve["n_scored"], noise=round(noise, 4))
    return evidence


def _climbing(curve: dict[str, Any], evidence: dict[str, Any]) -> Finding:
    now, doubled = curve["scores"][-1], curve["projected"]["2x"]
    return Finding(
        "not_enough_data", "warning",
        f"More data would help: {curve['metric']} {message_number(now)} now, "
        f"about {message_number(doubled)} projected with twice the data",
        "Trained on growing parts of the data, the model keeps improving, and the fitted curve has not levelled "
        "off: more labelled examples would improve it more than a bigger model would.",
        evidence, ["collect more labelled examples: this is what the curve says would help most",
                   ("for images, augment the training data: data.augment.flip: horizontal, "
                    "data.augment.shift: 3, data.augment.rotate: 10 (each a plausible variation of an example)"),
                   "meanwhile prefer a smaller model and stronger regularisation (dropout, weight decay)"])


def _inconclusive(curve: dict[str, Any], evidence: dict[str, Any], noise: float) -> Finding:
    n, split = curve.get("n_scored"), curve.get("split", "val")
    return Finding(
        "learning_curve_noisy", "info",
        f"The learning curve is inconclusive: {curve['metric']} is only known to about ±{message_number(noise)} "
        f"on {n} {split} examples",
        f"Each point is scored on the same {n} held-out examples, so a score is uncertain by about "
        f"±{message_number(noise)}: "
        "the measured points cannot tell a curve that is still climbing from one that has levelled off.",
        evidence, [f"score on more held-out examples: a larger data.split.{split} (e.g. 0.2)",
                   "train each point well: more train.epochs, or --match-steps (equal optimizer steps per point)",
                   "look at the loss column too: it is smoother than accuracy"])


def _flat(curve: dict[str, Any], evidence: dict[str, Any]) -> Finding:
    now, doubled = curve["scores"][-1], curve["projected"]["2x"]
    return Finding(
        "learning_curve_flat", "info",
        f"The learning curve has levelled off: {curve['metric']} {message_number(now)}, "
        f"about {message_number(doubled)} with twice the data",
        "More data of the same kind would barely help; a better model, better features or cleaner labels would.",
        evidence, ["try a different or larger model, or better input features", "check the labels for noise"])
