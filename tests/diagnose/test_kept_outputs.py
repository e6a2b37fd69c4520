"""Calibration from the final evaluation's outputs: the same numbers as predicting the split again, and a
fallback to predicting whenever the kept outputs do not cover the split exactly."""

from __future__ import annotations

import torch
from torch import nn

from deepscope.data.dataset import TensorData
from deepscope.diagnose.callback import Diagnostics, _calibration
from deepscope.diagnose.kept_outputs import keep_outputs


class TwoHeads(nn.Module):
    """A model with a classification head, called with the batch dict as deepscope's models are."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Linear(4, 3)
        self.heads = nn.ModuleDict({"label": CategoryHead()})

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"label": self.body(batch["x"])}


class CategoryHead(nn.Identity):
    pass


def _data(n: int = 50) -> TensorData:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(n, 4, generator=generator)
    return TensorData({"x": x, "label": torch.randint(0, 3, (n,), generator=generator)})


def _pass(model: nn.Module, data: TensorData, batch_size: int = 16) -> None:
    with torch.no_grad():
        for batch in data.batches(batch_size):
            model(batch)


def test_kept_outputs_give_the_calibration_predicting_gives():
    model, data = TwoHeads(), _data()
    diagnostics = Diagnostics()
    with diagnostics.keeping_outputs(model, data):
        _pass(model, data)
    kept = diagnostics.kept[1]
    logits, targets = kept.logits_and_targets()
    assert logits.shape == (50, 3) and torch.equal(targets, data.tensors["label"])
    assert _calibration(model, data, "test", kept) == _calibration(model, data, "test")


def test_outputs_of_other_data_or_a_partial_pass_are_not_used():
    model, data, other = TwoHeads(), _data(), _data(50)
    with keep_outputs(model, "label", data) as kept:
        _pass(model, other)  # same labels drawn, other tensors: never taken for `data`'s
    assert kept.parts == [] and kept.logits_and_targets() is None
    with keep_outputs(model, "label", data) as kept:
        for batch in list(data.batches(16))[:2]:  # a sharded or interrupted pass: rows missing
            model(batch)
    assert kept.logits_and_targets() is None
    with keep_outputs(model, "label", data) as kept:
        _pass(model, data)
        _pass(model, data)  # read twice
    assert kept.logits_and_targets() is None


def test_the_hook_is_removed_after_the_block():
    model, data = TwoHeads(), _data()
    with keep_outputs(model, "label", data) as kept:
        pass
    _pass(model, data)
    assert kept.parts == [] and not model._forward_hooks
