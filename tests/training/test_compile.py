"""`train.compile: true` on the CPU (inductor's C++ backend): the same training, compile time counted apart."""

import pytest
import torch
from torch import nn

from deepscope.training.trainer import Trainer


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 6, generator=g)
    return x, (x[:, 0] + x[:, 1] > 0).long()


def _fit(compile: bool):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    trainer = Trainer(epochs=2, batch_size=64, lr=1e-2, loss="cross_entropy", compile=compile, device="cpu")
    history = trainer.fit(model, _data(), _data())
    return trainer, history


def test_a_compiled_model_trains_as_the_plain_one_and_its_compile_time_is_logged_apart():
    plain, plain_history = _fit(False)
    compiled, history = _fit(True)
    assert "compile_time" not in plain_history[0]
    assert history[0]["compile_time"] > 0  # the first epoch compiled the step...
    assert 0 <= history[0]["time"] < history[0]["compile_time"]  # ...and its four steps took far less than that
    assert history[1]["compile_time"] == 0  # batches of one shape: nothing compiled again
    assert history[-1]["val.loss"] == pytest.approx(plain_history[-1]["val.loss"], rel=1e-4)
    assert type(compiled.model) is nn.Sequential  # what is saved and evaluated is the model itself
