"""The layer-list form (`model.layers`) as an encoder, so it plugs into the same builder and contract tests."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from deepscope.models.encoders.base import ENCODERS, Encoder, EncoderOptions, TabularInput
from deepscope.models.layers.layer_list import build_layer_list


class LayerListOptions(EncoderOptions):
    layers: list[Any] = Field(default_factory=lambda: ["flatten"])


@ENCODERS.register("layers")
class LayerListEncoder(Encoder):
    accepts = frozenset({"image", "tabular"})
    Options = LayerListOptions

    def __init__(self, inputs: list[dict[str, Any]], *, where: str = "model.layers", **options: Any):
        super().__init__(inputs, where=where, **options)
        images = [s for s in inputs if s["kind"] == "image"]
        self.image = images[0]["name"] if images else None
        self.table = None if images else TabularInput(inputs)
        shape = tuple(images[0]["shape"]) if images else (self.table.width,)
        self.layers, (self.output_size,) = build_layer_list(self.options.layers, shape, where=where,
                                                            init=self.options.init, init_where=_init_place(where))

    def initialise(self) -> None:
        """Done layer by layer in `build_layer_list`, where a layer's own `init` can override the list's."""

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch[self.image] if self.image else self.table(batch)
        return self.layers(x)


def _init_place(where: str) -> str:
    # the beginner's form writes `model: {layers: [...], init: xavier}`: the list's init sits beside it
    return "model.init" if where == "model.layers" else f"{where}.init"
