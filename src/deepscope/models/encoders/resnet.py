"""A small residual network for small images (MNIST-sized to CIFAR-sized).

stem conv 3x3 -> stages of basic blocks (two 3x3 convs with batch norm and an identity or 1x1 shortcut),
halving the resolution at the start of every stage after the first -> global average pool.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from deepscope.config.values import Size
from deepscope.models.encoders.base import ENCODERS, Encoder, EncoderOptions, single_image
from deepscope.models.layers.activations import activation


class ResnetOptions(EncoderOptions):
    widths: list[Size] = Field(default_factory=lambda: [32, 64, 128], description="channels per stage")
    blocks: int = Field(2, ge=1, description="basic blocks per stage")
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    activation: str = "relu"


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int, act: str):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.act = activation(act)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C', H/stride, W/stride)
        y = self.act(self.bn1(self.conv1(x)))
        return self.act(self.bn2(self.conv2(y)) + self.shortcut(x))


@ENCODERS.register("resnet")
class ResnetEncoder(Encoder):
    accepts = frozenset({"image"})
    Options = ResnetOptions

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.encoder", **options: Any):
        super().__init__(inputs, where=where, **options)
        spec = single_image(inputs, where)
        self.image = spec["name"]
        o = self.options
        channels = o.widths[0]
        layers: list[nn.Module] = [
            nn.Conv2d(spec["shape"][0], channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            activation(o.activation, where=f"{where}.activation"),
        ]
        for stage, width in enumerate(o.widths):
            for block in range(o.blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(BasicBlock(channels, width, stride, o.activation))
                channels = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        if o.dropout:
            layers.append(nn.Dropout(o.dropout))
        self.layers = nn.Sequential(*layers)
        self.output_size = channels

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.layers(batch[self.image])
