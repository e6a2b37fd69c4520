"""How long to train when the config does not say: `train.epochs` and `train.batch_size` left out ("auto").

A fixed number of epochs undertrains small data: 10 epochs of 124 rows in batches of 128 are 10 optimizer steps,
and the UCI wine table (178 rows, 13 columns, 3 classes) stops at 94 % where a longer run reaches 100 %. So
the default is a number of *steps*: at least `MIN_STEPS`, with never fewer epochs than `MIN_EPOCHS` (what large
data got before) and never more than `MAX_EPOCHS`. The batch is `MAX_BATCH` examples, smaller for tiny data so
that an epoch has at least `MIN_BATCHES` steps. Long runs on small data would overfit by their end, so an
auto-length run in a config also stops early (`patience`: a tenth of its epochs, at least `MIN_PATIENCE`, unless
`train.early_stopping` says otherwise) and keeps its best epoch on validation (`train.restore_best`).

    length = training_length(124)                  # 178 rows, 70 % of them for training
    length.epochs, length.batch_size               # (250, 32): 4 steps an epoch, 1,000 steps
    length.note                                    # "epochs: 250 (auto: 124 training rows, batch 32 -> ...)"
    training_length(124, epochs=5)                 # explicit settings always win: (5, 32)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Measured with the default recipe (adam 1e-3, one-cycle), test accuracy for seeds 0, 1, 2 (bench/auto_length.py):
# the wine table, 10 steps: 94.4 / 97.2 / 100 %; 1,000 steps: 100 / 100 / 100 %. The 600-row customers table with
# examples/tabular.yaml's model, 40 steps: 77.5 / 75.8 / 78.3 %; auto (with early stopping): 83.3 / 84.2 / 83.3 %,
# as the example's own tuned recipe does (80.0 / 84.2 / 83.3 %). 3,000 MNIST PNGs (2,100 for training), seed 0:
# 170 steps 96.5 %, 1,003 steps 97.3 %.
MIN_STEPS = 1000  # optimizer steps an auto-length run takes at least (unless MAX_EPOCHS stops it first)
MIN_EPOCHS = 10  # large data: 10 passes, the old fixed default (60,000 MNIST images: 4,690 steps)
MAX_EPOCHS = 500  # tiny data: passes at most, so 20 rows do not train for 10,000 epochs
MAX_BATCH = 128  # examples per step when the data is large enough
MIN_BATCHES = 4  # tiny data: a batch is at most a quarter of the training rows (a power of two) ...
MIN_BATCH = 8  # ... but never fewer examples than this
# customers, auto length, seeds 0-2: 83.3 / 82.5 / 78.3 % after 250 epochs; 83.3 / 84.2 / 83.3 % stopping with a
# patience of 25 epochs (after 72-91), without the overfitting warning of the full run; wine: 100 % either way
PATIENCE_FRACTION = 0.1
MIN_PATIENCE = 10


@dataclass(frozen=True)
class TrainingLength:
    """Epochs and batch size for a training set; `note` says how auto settings were chosen (None if given)."""

    epochs: int
    batch_size: int
    note: str | None = None
    patience: int | None = None  # auto epochs: the early-stopping patience that goes with them


def training_length(rows: int, *, epochs: int | None = None, batch_size: int | None = None) -> TrainingLength:
    """The epochs and batch size to train `rows` training examples with; a value given is kept as it is."""
    batch = batch_size or auto_batch_size(rows)
    if epochs is not None:
        small = not batch_size and batch < MAX_BATCH  # worth a word: the batch is smaller than usual
        note = f"batch size: {batch} (auto: {rows:,} training rows; set train.batch_size to choose)" if small else None
        return TrainingLength(epochs, batch, note)
    steps_per_epoch = max(1, math.ceil(rows / batch))
    needed = math.ceil(MIN_STEPS / steps_per_epoch)
    auto = min(MAX_EPOCHS, max(MIN_EPOCHS, needed))
    bound = (f"at most {MAX_EPOCHS} epochs" if needed > MAX_EPOCHS else f"at least {MIN_EPOCHS} epochs"
             if needed < MIN_EPOCHS else f"at least {MIN_STEPS:,}")
    note = (f"epochs: {auto} (auto: {rows:,} training rows, batch {batch} -> {auto * steps_per_epoch:,} steps, "
            f"{bound}; train.epochs sets it)")
    return TrainingLength(auto, batch, note, patience=max(MIN_PATIENCE, round(PATIENCE_FRACTION * auto)))


def auto_batch_size(rows: int) -> int:
    """`MAX_BATCH`, or for tiny data a quarter of the rows rounded to a power of two (at least `MIN_BATCH`)."""
    quarter = max(rows / MIN_BATCHES, 1)
    return int(min(MAX_BATCH, max(MIN_BATCH, 2 ** round(math.log2(quarter)))))
