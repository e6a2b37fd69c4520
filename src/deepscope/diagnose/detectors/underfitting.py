"""The model fits even its own training data poorly (and validation about as poorly), or training ended while the
loss was still falling fast (more steps would still help: a run too short for its data)."""

from __future__ import annotations

import math

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import initial_loss
from deepscope.formats import message_number

HIGH = 0.5  # final training loss still this fraction of the initial loss
FALLING = 0.03  # a new low this much (relative) below the best before the last 3 epochs: "still improving"
# Still falling fast at the end: in the last quarter of the epochs (at least 3) the loss made at least FAST of its
# whole fall from the start. The wine table (178 rows) trained for 10 steps: 9.7 % in the last 3 of 10 epochs
# (94 % accuracy); for 1,000 steps: 0.0 % (100 %); 20 epochs of batches of 32: 0.9 %.
END = 0.25
MIN_END_EPOCHS = 3
FAST = 0.05
# fewer epochs than this and "the end" would be much of the run: 5 epochs of a sequence model that learns its
# task (val accuracy > 0.85) make half their fall in the last 3, as any short healthy run does
MIN_EPOCHS_JUDGED = 8


@DETECTORS.register("underfitting")
def underfitting(record: Record) -> list[Finding]:
    train = record.series("train.loss")
    start = initial_loss(record)
    if len(train) < 3 or not start or start <= 0 or train[-1] > start:  # loss above the start is divergence
        return []
    fraction = train[-1] / start
    if fraction < HIGH:
        return _stopped_while_falling(record, train, start)
    still_falling = _still_falling(train)
    # a loss that has settled high may be the data's own noise (no model does better), so only a loss still
    # falling is evidence enough for a warning
    return [Finding(
        "underfitting", "warning" if still_falling else "info",
        f"Underfitting: training loss is still {fraction:.0%} of where it started "
        f"({message_number(start)} → {message_number(train[-1])})",
        "The model has not managed to fit even the examples it trains on, so it cannot do well on new ones. "
        + ("The loss was still falling at the last epoch: it needs more training." if still_falling else
           "The loss has settled: either the labels are noisy and no model can do much better (compare with a "
           "simple baseline such as logistic regression), or the model is too small or too constrained."),
        {"initial_loss": start, "final_train_loss": train[-1], "fraction_left": fraction,
         "still_falling": still_falling, "epochs": len(train), "n_params": record.task.get("n_params")},
        (["train for more epochs (train.epochs)"] if still_falling else [])
        + ["use a bigger model (more filters or units, more layers)", "reduce regularisation (dropout, weight decay)",
           "tune the learning rate with `deepscope lr-find CONFIG`"])]


def _still_falling(losses: list[float]) -> bool:
    """Whether the last 3 epochs reached a clearly new low: noisy epochs going up and down do not count."""
    window = min(3, len(losses) - 1)
    return min(losses[-window:]) < (1 - FALLING) * min(losses[:-window])


def _stopped_while_falling(record: Record, train: list[float], start: float) -> list[Finding]:
    """A finished run whose training loss was still falling fast in its last epochs, with validation (if any)
    still at its best there: more steps would have helped. Judged only at the end, as mid-run every loss falls."""
    planned = record.task.get("epochs")
    end = max(MIN_END_EPOCHS, math.ceil(END * len(train)))
    if (planned and len(train) < planned) or len(train) < MIN_EPOCHS_JUDGED:
        return []
    fall = start - train[-1]
    recent = min(train[:-end]) - min(train[-end:])  # the new low reached in the last epochs
    val = record.series("val.loss")
    val_improving = len(val) != len(train) or val.index(min(val)) >= len(val) - end  # not yet overfitting
    if fall <= 0 or recent < FAST * fall or not val_improving:
        return []
    steps = len(train) * record.task["steps_per_epoch"] if record.task.get("steps_per_epoch") else None
    taken = f" ({steps:,} optimizer steps)" if steps else ""
    return [Finding(
        "underfitting", "warning",
        f"Underfitting: training stopped while the loss was still falling fast: {recent / fall:.0%} of its whole "
        f"fall came in the last {end} of {len(train)} epochs{taken}",
        "The run ended before the model had learned what it could: its training loss was still dropping quickly "
        "at the last epochs" + (", and so was the validation loss" if len(val) == len(train) else "")
        + ". A longer run would very likely do better.",
        {"initial_loss": start, "final_train_loss": train[-1], "fall_in_last_epochs": recent / fall,
         "last_epochs": end, "epochs": len(train), "steps": steps},
        ["train longer: leave train.epochs out (auto: at least 1,000 optimizer steps) or raise it",
         "for a small table, a smaller train.batch_size gives more steps per epoch",
         "a higher learning rate (train.optimizer.lr) covers more ground per step; check with `deepscope lr-find`"])]
