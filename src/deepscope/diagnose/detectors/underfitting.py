"""The model fits even its own training data poorly (and validation about as poorly)."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import initial_loss
from deepscope.formats import message_number

HIGH = 0.5  # final training loss still this fraction of the initial loss
FALLING = 0.03  # a new low this much (relative) below the best before the last 3 epochs: "still improving"


@DETECTORS.register("underfitting")
def underfitting(record: Record) -> list[Finding]:
    train = record.series("train.loss")
    start = initial_loss(record)
    if len(train) < 3 or not start or start <= 0 or train[-1] > start:  # loss above the start is divergence
        return []
    fraction = train[-1] / start
    if fraction < HIGH:
        return []
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
