"""Validation accuracy no better than always guessing the most common class."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import chance_accuracy, validation_key
from deepscope.formats import message_number

MARGIN = 0.05  # best validation accuracy within this of chance


@DETECTORS.register("no_learning")
def no_learning(record: Record) -> list[Finding]:
    findings = []
    for output in record.outputs_of_type("category", "binary"):
        chance = chance_accuracy(record, output)
        accuracy = record.series(validation_key(record, output, "accuracy"))
        if chance is None or len(accuracy) < 2 or max(accuracy) > chance + MARGIN:
            continue
        train = record.series("train.loss")
        memorising = len(train) >= 2 and train[-1] < 0.8 * train[0]
        findings.append(Finding(
            "no_learning", "warning",
            f"Not learning: the best validation accuracy, {message_number(max(accuracy))}, "
            f"is no better than chance ({message_number(chance)})",
            "After training, the model predicts new examples no better than always guessing the most common class. "
            + ("Its training loss did fall, so it memorised the training labels without finding anything that "
               "carries over: the labels may not match the inputs (shuffled or misaligned), or the inputs carry no "
               "signal about them." if memorising else
               "Its training loss barely moved either: check the learning rate, dead units and vanishing gradients "
               "(reported separately if found), and that labels match inputs."),
            {"output": output, "val_accuracy_last": accuracy[-1], "val_accuracy_best": max(accuracy),
             "chance_accuracy": chance, "train_loss_first_epoch": train[0] if train else None,
             "train_loss_last": train[-1] if train else None},
            ["check that labels line up with their inputs (look at a few examples with their labels)",
             "check the inputs vary and are not all the same or all zero",
             "check the learning rate with `deepscope lr-find CONFIG`"]))
    return findings
