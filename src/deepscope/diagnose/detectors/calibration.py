"""Predicted probabilities that do not match how often the model is right (expected calibration error)."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.formats import message_number

INFO = 0.05
WARNING = 0.1


@DETECTORS.register("calibration")
def calibration(record: Record) -> list[Finding]:
    stats = record.calibration
    ece = stats.get("ece")
    if ece is None or ece < INFO:
        return []
    over = stats["confidence"] > stats["accuracy"]
    # under-confidence is mostly the price of label smoothing (on by default) and harms no decision taken on argmax
    severity = "warning" if over and ece >= WARNING else "info"
    direction = "over-confident" if over else "under-confident"
    return [Finding(
        "calibration", severity,
        f"Calibration: the model is {direction} (mean confidence {message_number(stats['confidence'])}, accuracy "
        f"{message_number(stats['accuracy'])}, ECE {message_number(ece)})",
        "A calibrated model that says 80% is right 80% of the time. The expected calibration error (ECE) is the "
        f"average gap between confidence and accuracy on the {stats.get('split', 'validation')} data. "
        + ("Over-confident probabilities mislead anyone who acts on them." if over else
           "Under-confidence is expected with label smoothing; it does not change which class is predicted."),
        {**{k: v for k, v in stats.items() if k != "output"}, "output": stats.get("output")},
        [f"scale the logits by 1/{message_number(stats['temperature'])} (temperature scaling) "
         f"to bring ECE to {message_number(stats['ece_after'])}",
         *(["reduce over-fitting (weight decay, dropout, early stopping)"] if over else []),
         "report probabilities only after calibration if decisions depend on them"])]
