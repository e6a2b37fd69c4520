"""Training loss flat for several epochs while still far from fitted."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record
from deepscope.diagnose.series import initial_loss
from deepscope.formats import message_number

FLAT = 0.01  # less than this relative improvement over the window
WINDOW = 3  # epochs
UNFITTED = 0.3  # loss still above this fraction of the initial loss


@DETECTORS.register("plateau")
def plateau(record: Record) -> list[Finding]:
    history = [h for h in record.history if "train.loss" in h]
    start = initial_loss(record)
    if len(history) < WINDOW + 2 or not start or start <= 0:
        return []
    losses = [h["train.loss"] for h in history]
    begin = _plateau_start(losses)
    if begin is None or losses[-1] < UNFITTED * start or len(losses) - begin < WINDOW:
        return []
    lrs = [h.get("lr") for h in history[begin:] if isinstance(h.get("lr"), (int, float))]
    return [Finding(
        "plateau", "info",  # flat and high is also what noisy labels look like once learned: a hint, not an alarm
        f"Plateau: training loss has stayed near {message_number(losses[-1])} since epoch {history[begin]['epoch']}",
        "The loss stopped going down while the model is still far from fitting the data. Training is stuck: the "
        "steps may be too small to escape a flat region, or too large to settle into a better one.",
        {"since_epoch": history[begin]["epoch"], "loss": losses[-1], "initial_loss": start,
         "lr_range": [min(lrs), max(lrs)] if lrs else None},
        ["try a learning rate 3x higher or lower (`deepscope lr-find CONFIG` suggests one)",
         "use a schedule that varies the rate (train.schedule: onecycle)", "add batch normalisation"],
        epoch=history[begin]["epoch"])]


def _plateau_start(losses: list[float]) -> int | None:
    """The first epoch from which the loss never improved by more than FLAT (relative) on its best so far."""
    best, start = losses[0], 0
    for i, loss in enumerate(losses[1:], 1):
        if loss < best * (1 - FLAT):
            best, start = loss, i
    return start if start < len(losses) - 1 else None
