"""Finding the layers some methods need, from the model itself: the last convolution (Grad-CAM) and the
attention of a Transformer encoder (captured with hooks; the encoder itself is not changed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

CONVOLUTIONS = (nn.Conv1d, nn.Conv2d)


def last_convolution(root: nn.Module) -> tuple[str, nn.Module] | None:
    """(name, layer) of the last Conv1d/Conv2d in `root`'s modules (registration order = forward order in
    deepscope's encoders), or None."""
    found = [(name, m) for name, m in root.named_modules() if isinstance(m, CONVOLUTIONS)]
    return found[-1] if found else None


# what may follow a convolution inside its block: the block's output is the feature map Grad-CAM weighs
BLOCK_TAIL = (nn.BatchNorm1d, nn.BatchNorm2d, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d, nn.ReLU,
              nn.LeakyReLU, nn.ELU, nn.SELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.SiLU)


def grad_cam_layer(root: nn.Module) -> tuple[str, nn.Module] | None:
    """The last convolutional block's output: the last convolution, or, in a plain stack (conv -> pool ->
    activation), the last pooling or activation right after it. Grad-CAM weighs activations A^k, which the paper
    takes after the ReLU; before it, negative responses cancel the positive ones and the map is almost empty."""
    found = last_convolution(root)
    if found is None:
        return None
    name, layer = found
    parent_name, _, index = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    if not isinstance(parent, nn.Sequential) or not index.isdigit():
        return found
    position = int(index)
    while position + 1 < len(parent) and isinstance(parent[position + 1], BLOCK_TAIL):
        position += 1
    return (f"{parent_name}.{position}" if parent_name else str(position)), parent[position]


def attention_layers(root: nn.Module) -> list[nn.MultiheadAttention]:
    return [m for m in root.modules() if isinstance(m, nn.MultiheadAttention)]


@contextmanager
def capturing_attention(layers: list[nn.MultiheadAttention]) -> Iterator[list[torch.Tensor]]:
    """While inside, every call of these attention layers also returns and records its weights per head,
    (n, heads, queries, keys). `nn.TransformerEncoderLayer` asks for no weights (need_weights=False), so a
    pre-hook asks for them; run the model with gradients enabled, which keeps PyTorch off its fused fast path
    (that path bypasses the attention module)."""
    weights: list[torch.Tensor] = []

    def ask(module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        return args, {**kwargs, "need_weights": True, "average_attn_weights": False}

    def record(module: nn.Module, args: tuple, kwargs: dict, output: tuple) -> None:
        weights.append(output[1].detach())

    handles = [h for layer in layers for h in (layer.register_forward_pre_hook(ask, with_kwargs=True),
                                               layer.register_forward_hook(record, with_kwargs=True))]
    try:
        yield weights
    finally:
        for handle in handles:
            handle.remove()
