"""Mixed precision's code paths, run on the CPU: bf16 autocast, and fp16 with dynamic loss scaling (GradScaler),
the same objects a GPU run uses (only `get_precision` keeps fp16 to CUDA, where it pays)."""

import pytest
import torch
from torch import nn

from deepscope.errors import ConfigError
from deepscope.training.precision import BF16, FP16, Precision, get_precision
from deepscope.training.trainer import Trainer

CPU = torch.device("cpu")


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 6, generator=g)
    return x, (x[:, 0] + x[:, 1] > 0).long()


def _trainer(precision):
    torch.manual_seed(0)
    trainer = Trainer(epochs=3, batch_size=32, lr=1e-2, loss="cross_entropy", device="cpu")
    trainer.precision = precision
    return trainer, nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 2))


@pytest.mark.parametrize("make", [BF16, FP16])
def test_mixed_precision_trains_as_fp32_does(make):
    trainer, model = _trainer(Precision(CPU))
    fp32 = trainer.fit(model, _data(), _data())
    trainer, model = _trainer(make(CPU))
    mixed = trainer.fit(model, _data(), _data())
    assert mixed[-1]["train.loss"] < 0.8 * mixed[0]["train.loss"]  # it learns...
    # ...as fp32 does, to the rounding of 8 (bf16) or 11 (fp16) bits of mantissa
    assert mixed[-1]["val.loss"] == pytest.approx(fp32[-1]["val.loss"], rel=0.05)
    assert abs(mixed[-1]["val.accuracy"] - fp32[-1]["val.accuracy"]) <= 0.03


def test_fp16_skips_a_step_whose_gradients_overflow_and_lowers_its_scale():
    precision = FP16(CPU)
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before, scale = model.weight.detach().clone(), precision.scaler.get_scale()
    with precision.autocast():
        loss = model(torch.full((2, 3), 1e30)).float().sum() * 1e30  # inf
    precision.backward(loss)
    precision.unscale(optimizer)
    precision.step(optimizer)
    assert torch.equal(model.weight, before)  # the step was skipped...
    assert precision.scaler.get_scale() < scale  # ...and the scale lowered
    state = precision.state_dict()  # checkpointed as JSON numbers
    restored = FP16(CPU)
    restored.load_state_dict(state)
    assert restored.scaler.get_scale() == precision.scaler.get_scale()


def test_fp16_is_refused_on_the_cpu_by_config():
    with pytest.raises(ConfigError, match="fp16 needs a CUDA GPU"):
        get_precision("fp16", CPU)
