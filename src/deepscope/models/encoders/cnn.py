"""A plain convolutional network, sized from its input.

Stages of conv -> activation -> 2x2 max-pool; how many stages depends on the image size (one halving per
factor of two above 4 pixels, at most 5), so 8x8 digits get one stage and 28x28 MNIST two. At 28x28 the
default is the classic fast MNIST net: conv 24@5x5 -> pool -> conv 32@3x3 -> pool -> dense 256.

Audio inputs (B, S) become images first: a `Spectrogram` layer in front gives (B, 1, F, T), log-mel or MFCC
frames, and the description's "shape" is [1, F, T].

Signals and series windows (B, T, C) floats are convolved in 1-D along T with the same stages (Conv1d, MaxPool1d;
stages sized from T): the classic MNIST net's shape carried over to 1-D reaches ~97 % on MNIST-1D
(examples/mnist1d.yaml). Token ids are not read: text goes to `cnn1d`, which embeds them first.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field
from torch import nn

from deepscope.config.values import Size
from deepscope.errors import ConfigError
from deepscope.models.encoders.base import ENCODERS, Encoder, EncoderOptions, single_image
from deepscope.models.layers.activations import activation
from deepscope.models.layers.spectrogram import Spectrogram

DEFAULT_FILTERS = [24, 32, 64, 128, 256]
MONOTONIC = {"relu", "leaky_relu", "sigmoid", "tanh", "elu", "selu"}  # max-pool commutes with these


class CnnOptions(EncoderOptions):
    filters: list[Size] | None = Field(None, description="filters per stage; default sized from the input")
    kernel: int | None = Field(None, ge=1, description="kernel size of every stage; default 5 first, then 3")
    dense: int = Field(256, ge=0, description="units of the dense layer after the convolutions (0: none)")
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batchnorm: bool = False
    activation: str = "relu"


def default_stages(height: int, width: int) -> int:
    return max(1, min(5, int(math.log2(min(height, width) / 4))))


@ENCODERS.register("cnn")
class CnnEncoder(Encoder):
    accepts = frozenset({"image", "audio", "sequence"})
    reads_text = False  # of sequences, only float signals and series windows; token ids go to cnn1d
    Options = CnnOptions

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.encoder", **options: Any):
        super().__init__(inputs, where=where, **options)
        kind = inputs[0]["kind"] if len(inputs) == 1 else "image"
        spec = inputs[0] if kind in ("audio", "sequence") else single_image(inputs, where)
        if spec.get("type") == "text":
            raise ConfigError(f"{where}: cnn convolves images and float signals, not token ids; use cnn1d for text")
        self.spectrogram = Spectrogram(spec) if kind == "audio" else None  # (B, S) waveform -> (B, F, T)
        self.signal = kind == "sequence"  # (B, T, C) floats, convolved in 1-D along T
        self.image = spec["name"]
        sizes = [spec["length"]] if self.signal else list(spec["shape"][1:])  # (T,) or (H, W)
        channels = spec["channels"] if self.signal else spec["shape"][0]
        conv, pool, norm = (nn.Conv1d, nn.MaxPool1d, nn.BatchNorm1d) if self.signal else \
            (nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d)
        o = self.options
        filters = o.filters or DEFAULT_FILTERS[: default_stages(min(sizes), min(sizes))]
        layers: list[nn.Module] = []
        for stage, out_channels in enumerate(filters):
            kernel = o.kernel or (5 if stage == 0 else 3)
            # valid convolutions while the image is large (cheaper, as in the classic nets), 'same' when small
            padding = 0 if min(sizes) >= 4 * kernel else kernel // 2
            layers.append(conv(channels, out_channels, kernel, padding=padding, bias=not o.batchnorm))
            if o.batchnorm:
                layers.append(norm(out_channels))
            act = activation(o.activation, where=f"{where}.activation")
            # pooling first is the same function for monotonic activations, on 4x fewer values
            layers += [pool(2), act] if o.activation in MONOTONIC else [act, pool(2)]
            sizes = [(size + 2 * padding - kernel + 1) // 2 for size in sizes]
            channels = out_channels
        layers.append(nn.Flatten())
        size = channels * math.prod(sizes)
        if o.dense:
            layers += [nn.Linear(size, o.dense), activation(o.activation)]
            size = o.dense
        if o.dropout:
            layers.append(nn.Dropout(o.dropout))
        self.layers = nn.Sequential(*layers)
        self.output_size = size

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch[self.image]
        if self.signal:  # (B, T) or (B, T, C) -> (B, C, T), channels first as Conv1d takes them
            return self.layers(x.float().unsqueeze(1) if x.ndim == 2 else x.float().transpose(1, 2))
        if self.spectrogram is not None:
            x = self.spectrogram(x).unsqueeze(1)  # (B, 1, F, T): a one-channel image
        return self.layers(x)
