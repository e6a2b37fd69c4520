"""Where attributions are computed for each modality, and how they are summed back into units a person reads.

Captum needs a float tensor to differentiate. Images and series windows are one already: attributions are on the
input itself. Token ids and category ids are not differentiable, and an audio model computes its spectrogram
inside, so for those the explained tensor is the output of a layer, replaced during the attribution by the
tensor Captum varies (a forward hook; see `ScoreView.forward`):

| modality | explained tensor (what Captum varies)          | units (Explanation.inputs)          | summed        |
| -------- | ---------------------------------------------- | ----------------------------------- | ------------- |
| image    | the image (n, C, H, W)                         | the image                           | —             |
| series   | the window (n, lookback, channels)             | the window                          | —             |
| text     | the token embeddings (n, T, D)                 | token ids (n, L)                    | over D        |
| table    | the encoded columns, categories embedded (n, W) | one value per column (n, n_columns) | per column    |
| audio    | the spectrogram (n, mels, frames)              | the spectrogram                     | —             |
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from deepscope.data.features import Feature
from deepscope.models.encoders.base import TabularInput
from deepscope.models.layers.spectrogram import Spectrogram

Batch = dict[str, torch.Tensor]
TABLE = "*"  # the input name of a table explanation: every tabular column at once


def modality_of(feature: Feature) -> str:
    if feature.kind in ("image", "audio"):
        return feature.kind
    if feature.kind == "sequence":
        return "text" if feature.type == "text" else "series"
    return "table"


class Space:
    """The input itself is explained (images, series): no layer, no summing."""

    modality: ClassVar[str]
    layer: nn.Module | None = None  # the module whose output is explained; None: the input column itself

    def __init__(self, model: nn.Module, name: str, features: dict[str, Feature]):
        self.model, self.name, self.features = model, name, features

    def explained(self, batch: Batch, captured: torch.Tensor | None) -> torch.Tensor:
        """The tensor Captum varies, given the layer's output in an ordinary forward pass (`captured`)."""
        return batch[self.name].float() if self.layer is None else captured

    def units(self, batch: Batch, explained: torch.Tensor) -> torch.Tensor:
        return explained.detach()

    def pool(self, attributions: torch.Tensor, batch: Batch) -> torch.Tensor:
        return attributions.detach()

    def with_units(self, batch: Batch, units: torch.Tensor) -> tuple[Batch, torch.Tensor | None]:
        """A batch that shows the model `units` (for `ScoreView.scores`), and the layer output to force, if any."""
        return {**batch, self.name: units}, None

    def labels(self) -> list[str]:
        return []

    def tokens(self, batch: Batch) -> list[list[str]]:
        return []

    def unit_baseline(self, baseline: torch.Tensor | None, batch: Batch) -> torch.Tensor | None:
        """The baseline in the units of `Explanation.inputs` (what deletion curves put in place of a unit)."""
        return baseline


class ImageSpace(Space):
    modality = "image"


class SeriesSpace(Space):
    modality = "series"

    def labels(self) -> list[str]:
        description = self.features[self.name].describe()
        names = list(description.get("channel_names") or [])
        return names if len(names) == int(description.get("channels", 0)) else []


class TextSpace(Space):
    modality = "text"

    def __init__(self, model: nn.Module, name: str, features: dict[str, Feature]):
        super().__init__(model, name, features)
        self.layer = first_module(model.encoders[name], nn.Embedding)

    def units(self, batch: Batch, explained: torch.Tensor) -> torch.Tensor:
        return batch[self.name]

    def pool(self, attributions: torch.Tensor, batch: Batch) -> torch.Tensor:
        # (n, T, D) -> (n, T) one score per token -> (n, L): the model trims a batch to its longest text
        per_token = attributions.detach().sum(dim=-1)
        return nn.functional.pad(per_token, (0, batch[self.name].shape[1] - per_token.shape[1]))

    def with_units(self, batch: Batch, units: torch.Tensor) -> tuple[Batch, torch.Tensor | None]:
        return {**batch, self.name: units.round().long()}, None

    def tokens(self, batch: Batch) -> list[list[str]]:
        vocabulary = self.layer.tokens if hasattr(self.layer, "tokens") else None
        pad = self.features[self.name].describe().get("pad_id", 0)
        rows = []
        for ids in batch[self.name].tolist():
            real = [i for i in ids if i != pad]
            rows.append([vocabulary[i] if vocabulary and i < len(vocabulary) else str(i) for i in real])
        return rows

    def unit_baseline(self, baseline: torch.Tensor | None, batch: Batch) -> torch.Tensor | None:
        # a deleted token is padding: the model's mask then leaves it out, as if it were not there
        return torch.zeros_like(batch[self.name][:1])


class TableSpace(Space):
    modality = "table"

    def __init__(self, model: nn.Module, name: str, features: dict[str, Feature]):
        super().__init__(model, name, features)
        self.layer = first_module(model.encoders["tabular"], TabularInput)
        self.columns = self.layer.numeric + self.layer.categorical  # the order of the layer's output
        embedded = [self.layer.embeddings[c].embedding_dim for c in self.layer.categorical]
        widths = [1] * len(self.layer.numeric) + embedded
        self.slices = torch.repeat_interleave(torch.arange(len(widths)), torch.tensor(widths))  # (W,) column per slot

    def units(self, batch: Batch, explained: torch.Tensor) -> torch.Tensor:
        return torch.stack([batch[c].float() for c in self.columns], dim=1)  # (n, n_columns)

    def pool(self, attributions: torch.Tensor, batch: Batch) -> torch.Tensor:
        # (n, W) -> (n, n_columns): a category's score is the sum over its embedding's slots
        out = attributions.new_zeros(attributions.shape[0], len(self.columns))
        return out.index_add_(1, self.slices.to(attributions.device), attributions.detach())

    def with_units(self, batch: Batch, units: torch.Tensor) -> tuple[Batch, torch.Tensor | None]:
        categorical = set(self.layer.categorical)
        columns = {c: units[:, i].round().long() if c in categorical else units[:, i]
                   for i, c in enumerate(self.columns)}
        return {**batch, **columns}, None

    def feature_mask(self) -> torch.Tensor:
        """(1, W): the column each slot of the explained tensor belongs to (Captum's `feature_mask`)."""
        return self.slices.unsqueeze(0)

    def labels(self) -> list[str]:
        return list(self.columns)

    def unit_baseline(self, baseline: torch.Tensor | None, batch: Batch) -> torch.Tensor | None:
        if baseline is None:
            return None
        # numbers take the baseline's value; a category column takes id 0, <unknown>
        units = baseline.new_zeros(1, len(self.columns))
        numeric = len(self.layer.numeric)
        units[:, :numeric] = baseline.reshape(1, -1)[:, :numeric]
        return units


class AudioSpace(Space):
    modality = "audio"

    def __init__(self, model: nn.Module, name: str, features: dict[str, Feature]):
        super().__init__(model, name, features)
        self.layer = first_module(model.encoders[name], Spectrogram)

    def with_units(self, batch: Batch, units: torch.Tensor) -> tuple[Batch, torch.Tensor | None]:
        return batch, units  # the spectrogram is forced at the layer; the waveform stays as it was


SPACES: dict[str, type[Space]] = {s.modality: s for s in (ImageSpace, SeriesSpace, TextSpace, TableSpace, AudioSpace)}


def space_for(model: nn.Module, name: str, features: dict[str, Feature]) -> Space:
    feature = next(iter(f for n, f in features.items() if modality_of(f) == "table")) if name == TABLE \
        else features[name]
    return SPACES[modality_of(feature)](model, name, features)


def first_module(root: nn.Module, kind: type[nn.Module]) -> Any:
    found = next((m for m in root.modules() if isinstance(m, kind)), None)
    if found is None:
        raise LookupError(f"{type(root).__name__} has no {kind.__name__} layer to explain")
    return found
