"""Every optimizer's state survives the safetensors + JSON checkpoint and continues on the same trajectory."""

import json

import pytest
import torch
from torch import nn

from deepscope.training.checkpoint import load_optimizer_state, optimizer_state
from deepscope.training.optim import OPTIMIZERS, build_optimizer


def steps(model: nn.Module, optimizer: torch.optim.Optimizer, n: int) -> None:
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(2))
    for _ in range(n):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_optimizer_state_round_trip(name):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    reference = build_optimizer(model, name, lr=0.01, weight_decay=0.01)
    steps(model, reference, 3)
    tensors, plain = optimizer_state(reference)
    plain = json.loads(json.dumps(plain))  # what the checkpoint header stores
    copy = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    copy.load_state_dict(model.state_dict())
    restored = build_optimizer(copy, name, lr=0.01, weight_decay=0.01)
    load_optimizer_state(restored, {k: v.clone() for k, v in tensors.items()}, plain)
    steps(model, reference, 2)
    steps(copy, restored, 2)
    for a, b in zip(model.parameters(), copy.parameters()):
        assert torch.equal(a, b)
