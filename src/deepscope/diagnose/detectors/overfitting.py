"""Validation loss rising (or stuck far above training loss) while training loss keeps falling."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import initial_loss
from deepscope.formats import message_number

RISE = 0.05  # validation loss this far (relative) above its best
GAP = 0.1  # or a gap between validation and training loss of this fraction of the initial loss ...
GAP_RATIO = 2.0  # ... with validation loss at least this many times the training loss
PATIENCE = 3  # epochs since the best before it counts


@DETECTORS.register("overfitting")
def overfitting(record: Record) -> list[Finding]:
    history = [h for h in record.history if "val.loss" in h and "train.loss" in h]
    if len(history) < PATIENCE + 2:
        return []
    best = min(history, key=lambda h: h["val.loss"])
    last = history[-1]
    since_best = last["epoch"] - best["epoch"]
    rise = last["val.loss"] / best["val.loss"] - 1 if best["val.loss"] > 0 else 0.0
    gap = last["val.loss"] - last["train.loss"]
    start = initial_loss(record) or 1.0
    train_fell = last["train.loss"] < best["train.loss"]
    rising = rise >= RISE
    wide_gap = gap >= GAP * start and last["val.loss"] >= GAP_RATIO * last["train.loss"]
    if since_best < PATIENCE or not train_fell or not (rising or wide_gap):
        return []
    onset = best["epoch"] + 1
    stopped = record.task.get("early_stopping")
    severity = "info" if stopped and record.task.get("restore_best", True) else "warning"
    return [Finding(
        "overfitting", severity,
        f"Overfitting from epoch {onset}: "
        f"validation loss rose {message_number(best['val.loss'])} → {message_number(last['val.loss'])} "
        f"while training loss fell {message_number(best['train.loss'])} → {message_number(last['train.loss'])}",
        "The model keeps getting better on the examples it trains on but no better (or worse) on new ones: it is "
        "memorising the training set instead of learning patterns that generalise."
        + (" Early stopping caught it, and the saved model is the best epoch." if severity == "info" else ""),
        {"best_epoch": best["epoch"], "onset_epoch": onset, "val_loss_best": best["val.loss"],
         "val_loss_last": last["val.loss"], "train_loss_last": last["train.loss"], "generalisation_gap": gap,
         "epochs": last["epoch"], "n_train": record.task.get("n_train"), "n_params": record.task.get("n_params")},
        [f"early stopping would have stopped at epoch {best['epoch'] + PATIENCE} "
         f"(train.early_stopping: {{patience: {PATIENCE}}})",
         "add dropout 0.3 or weight decay 1e-4 (train.optimizer.weight_decay)",
         "use data augmentation (data.augment) or more training data", "use a smaller model"],
        epoch=onset)]
