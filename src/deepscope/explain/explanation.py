"""What an attribution method returns: the inputs it explained, one score per input unit, and what it compared with.

    explanation = explain(model, inputs, "label", batch, method="integrated_gradients")
    explanation.attributions.shape      # (n, 1, 8, 8) for 8x8 digits; (n, n_columns) for a table
    explanation.top_units(0, k=3)       # the three most attributed units of the first example
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import torch


@dataclass
class Explanation:
    """Attributions of one method for one input column, batched.

    Attributes:
        method: the registered name, e.g. "integrated_gradients".
        input: the input column explained ("image", "review"), or "*" for all table columns.
        modality: "image" | "text" | "audio" | "table" | "series".
        inputs: the encoded inputs explained, (n, *shape) as the model reads them (text: token ids (n, L);
            table: (n, n_columns), categories as their ids; audio: the spectrogram (n, mels, frames)).
        attributions: the same shape as `inputs` (Grad-CAM: (n, 1, H, W), one map for every channel; text: one
            score per token, summed over the embedding dimensions).
        targets: (n,) the class index (or output index) explained per example.
        baseline: what "absent" means for this method and modality, broadcastable to `inputs`; None if the
            method compares with nothing (saliency).
        labels: per-unit names where meaningful: the column names of a table, the channels of a series.
        tokens: text: the tokens of each example; [] otherwise.
        scores: (n,) the model's score for the target (probability, or the output for regression) at `inputs`.
        extra: method-specific values (the Grad-CAM layer, attention per layer and head, Captum's convergence delta).
    """

    method: str
    input: str
    modality: str
    inputs: torch.Tensor
    attributions: torch.Tensor
    targets: torch.Tensor
    baseline: torch.Tensor | None
    labels: list[str] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    scores: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.attributions)

    def top_units(self, example: int, k: int = 5) -> list[int]:
        """Flat indices of the `k` units with the largest attribution in `example` (most positive first)."""
        flat = self.attributions[example].reshape(-1)
        return flat.topk(min(k, flat.numel())).indices.tolist()

    def arrays(self) -> dict[str, Any]:
        """Every tensor as a numpy array (what `.npz` files and JSON summaries are made of)."""
        out = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, torch.Tensor):
                out[item.name] = value.detach().cpu().numpy()
        return out


def concatenate(parts: list[Explanation]) -> Explanation:
    """One explanation from those of consecutive batches (same method, input and baseline)."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]

    def joined(name: str) -> torch.Tensor:
        tensors = [getattr(p, name) for p in parts]
        width = max(t.shape[1] for t in tensors) if tensors[0].ndim == 2 and first.modality == "text" else None
        if width is not None:  # texts of batches padded to different lengths
            tensors = [torch.nn.functional.pad(t, (0, width - t.shape[1])) for t in tensors]
        return torch.cat(tensors)

    extra = dict(first.extra)
    for key, value in first.extra.items():
        if isinstance(value, torch.Tensor) and value.ndim and all(key in p.extra for p in parts):
            try:
                extra[key] = torch.cat([p.extra[key] for p in parts])
            except RuntimeError:  # per-batch shapes differ (attention over texts of other lengths): keep a list
                extra[key] = [p.extra[key] for p in parts]
    return Explanation(first.method, first.input, first.modality, joined("inputs"), joined("attributions"),
                       joined("targets"), first.baseline, first.labels, [t for p in parts for t in p.tokens],
                       joined("scores"), extra)
