"""Activation functions by the names configs use: `activation: leaky_relu`, or `relu` in a layer list."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from deepscope.config.registry import Registry

ACTIVATIONS: Registry[Callable[[], nn.Module]] = Registry("activation")

ACTIVATIONS.register("relu")(lambda: nn.ReLU())
ACTIVATIONS.register("leaky_relu")(lambda: nn.LeakyReLU(0.01))
ACTIVATIONS.register("sigmoid")(lambda: nn.Sigmoid())
ACTIVATIONS.register("tanh")(lambda: nn.Tanh())
ACTIVATIONS.register("gelu")(lambda: nn.GELU())
ACTIVATIONS.register("elu")(lambda: nn.ELU())
ACTIVATIONS.register("selu")(lambda: nn.SELU())
ACTIVATIONS.register("silu")(lambda: nn.SiLU())
# over dim 1: the feature axis of (B, D) and the channel axis of (B, C, H, W)
ACTIVATIONS.register("softmax")(lambda: nn.Softmax(dim=1))


def activation(name: str, *, where: str = "activation") -> nn.Module:
    """A fresh activation module: `activation("gelu")`."""
    return ACTIVATIONS.get(name, where=where)()
