"""The untrained network's loss against the loss of uniform guessing (ln C for C classes)."""

from __future__ import annotations

import math

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.formats import message_number


@DETECTORS.register("initial_loss")
def initial_loss(record: Record) -> list[Finding]:
    loss, expected = record.init.get("loss"), record.init.get("expected_loss")
    if loss is None or expected is None:
        return []
    if not math.isfinite(loss):
        return [Finding(
            "initial_loss", "error", f"The loss is {loss} before training starts",
            "The network produces NaN or infinite values on the training data before it has learned anything, so "
            "the inputs or the initial weights hold NaN/Inf or extreme values.",
            {"initial_loss": loss}, ["check the inputs for NaN, infinite or extreme values",
                                     "normalise numeric inputs (deepscope's number feature does this by default)"])]
    if loss > 2 * expected and loss > expected + 1:
        return [Finding(
            "initial_loss", "warning",
            f"The initial loss {message_number(loss)} is far above {message_number(expected)}, the loss of guessing",
            "A network that has learned nothing should spread its probability evenly and score about "
            f"{message_number(expected)} (ln of the number of classes). A much higher loss means it starts out "
            "confidently wrong: its outputs are too large at initialisation, which wastes the first epochs and can "
            "destabilise training.",
            {"initial_loss": loss, "expected_loss": expected},
            ["initialise the last layer with smaller weights (or zeros)", "normalise the inputs",
             "check the output layer has no activation before the softmax"])]
    return []
