"""How long an auto-length run trains: at least MIN_STEPS optimizer steps, bounded epochs, smaller batches for tiny
data, and explicit settings always kept."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from deepscope.training.length import MAX_BATCH, MAX_EPOCHS, MIN_EPOCHS, MIN_STEPS, auto_batch_size, training_length
from deepscope.training.trainer import Trainer


def steps(rows: int, epochs: int, batch: int) -> int:
    return epochs * math.ceil(rows / batch)


@pytest.mark.parametrize("rows", [124, 420, 2100])  # the wine table's, the customers table's, 3,000 PNGs' train split
def test_small_data_gets_at_least_min_steps(rows):
    length = training_length(rows)
    assert steps(rows, length.epochs, length.batch_size) >= MIN_STEPS
    assert steps(rows, length.epochs - 1, length.batch_size) < MIN_STEPS  # and not an epoch more than needed
    assert "auto" in length.note and str(length.epochs) in length.note


def test_the_wine_table_trains_in_batches_of_32_for_250_epochs():
    length = training_length(124)
    assert (length.epochs, length.batch_size, length.patience) == (250, 32, 25)
    assert length.note == "epochs: 250 (auto: 124 training rows, batch 32 -> 1,000 steps, at least 1,000; " \
        "train.epochs sets it)"


def test_large_data_keeps_ten_epochs_of_128():
    length = training_length(60_000)
    assert (length.epochs, length.batch_size) == (MIN_EPOCHS, MAX_BATCH)


def test_tiny_data_is_bounded():
    length = training_length(6)  # one batch of 8 an epoch
    assert length.epochs == MAX_EPOCHS and length.batch_size == 8
    assert f"at most {MAX_EPOCHS} epochs" in length.note  # not "at least 1,000 steps": 1,000 steps are not taken


def test_explicit_settings_win():
    assert training_length(124, epochs=5, batch_size=64) == training_length(124, epochs=5, batch_size=64)
    length = training_length(124, epochs=5, batch_size=64)
    assert (length.epochs, length.batch_size, length.note, length.patience) == (5, 64, None, None)
    assert training_length(124, epochs=5).batch_size == 32  # an auto batch beside explicit epochs
    assert training_length(60_000, epochs=5).note is None  # the usual batch is not worth a word


def test_auto_batch_is_a_power_of_two_of_about_a_quarter_of_the_rows():
    assert [auto_batch_size(n) for n in (1, 40, 124, 300, 1000)] == [8, 8, 32, 64, 128]


def test_a_trainer_with_no_epochs_chooses_them_from_the_data():
    x, y = torch.randn(60, 3), torch.randint(0, 2, (60,))
    trainer = Trainer(loss="cross_entropy", device="cpu", log_every=10_000)
    trainer.fit(nn.Linear(3, 2), (x, y))
    expected = training_length(60)
    assert (trainer.epochs, trainer.batch_size) == (expected.epochs, expected.batch_size)
    assert trainer.global_step == steps(60, expected.epochs, expected.batch_size) >= MIN_STEPS
