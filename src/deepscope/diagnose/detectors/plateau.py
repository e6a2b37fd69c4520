"""Training loss flat for several epochs while still far from fitted.

"Far from fitted" is measured from the floor the loss can reach, not from 0: label smoothing (0.1 by default for
category outputs) keeps a perfect model's loss at the entropy of the smoothed targets. And epochs where the
schedule has annealed the rate (one-cycle's planned end) are not a plateau: small steps there are by design.
"""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.detectors.learning_rate import NEAR_PEAK
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.initial import loss_floor
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import initial_loss
from deepscope.formats import message_number

FLAT = 0.01  # less than this relative improvement over the window
WINDOW = 3  # epochs
UNFITTED = 0.3  # loss still above this fraction of the way from the floor to the initial loss


@DETECTORS.register("plateau")
def plateau(record: Record) -> list[Finding]:
    history = [h for h in record.history if "train.loss" in h]
    start = initial_loss(record)
    floor = loss_floor(record.task.get("outputs", {}))
    if len(history) < WINDOW + 2 or not start or start <= floor:
        return []
    losses = [h["train.loss"] for h in history]
    begin = _plateau_start(losses)
    if begin is None or losses[-1] - floor < UNFITTED * (start - floor):
        return []
    peak = record.task.get("lr")
    at_rate = [h for h in history[begin:] if not peak or not isinstance(h.get("lr"), (int, float))
               or h["lr"] >= NEAR_PEAK * peak]
    if len(at_rate) < WINDOW:
        return []
    lrs = [h.get("lr") for h in history[begin:] if isinstance(h.get("lr"), (int, float))]
    vary = ([] if record.task.get("schedule") == "onecycle" else
            ["use a schedule that varies the rate (train.schedule: onecycle)"])
    return [Finding(
        "plateau", "info",  # flat and high is also what noisy labels look like once learned: a hint, not an alarm
        f"Plateau: training loss has stayed near {message_number(losses[-1])} since epoch {history[begin]['epoch']}",
        "The loss stopped going down while the model is still far from fitting the data"
        + (f" (the lowest it can reach is {message_number(floor)}, set by label smoothing)" if floor else "")
        + ". Training is stuck: the steps may be too small to escape a flat region, or too large to settle into a "
        "better one.",
        {"since_epoch": history[begin]["epoch"], "loss": losses[-1], "initial_loss": start,
         "loss_floor": round(floor, 4), "lr_range": [min(lrs), max(lrs)] if lrs else None},
        ["try a learning rate 3x higher or lower (`deepscope lr-find CONFIG` suggests one)", *vary,
         "add batch normalisation"],
        epoch=history[begin]["epoch"])]


def _plateau_start(losses: list[float]) -> int | None:
    """The first epoch from which the loss never improved by more than FLAT (relative) on its best so far."""
    best, start = losses[0], 0
    for i, loss in enumerate(losses[1:], 1):
        if loss < best * (1 - FLAT):
            best, start = loss, i
    return start if start < len(losses) - 1 else None
