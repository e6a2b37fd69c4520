"""Yes/no values: the two training values mapped to 0 and 1."""

from __future__ import annotations

from typing import Any

import torch

from deepscope.data.features.base import FEATURES, Feature, FeatureOptions, as_array

# values read as "positive" when a column holds one of these pairs, whatever their order
POSITIVE = {"1", "1.0", "true", "yes", "y", "t", "positive", "pos"}


class BinaryOptions(FeatureOptions):
    positive: str | None = None  # the value that means 1; inferred when there is an obvious one


@FEATURES.register("binary")
class BinaryFeature(Feature):
    """Exactly two values. Missing inputs encode as 0."""

    type = "binary"
    kind = "tabular"
    Options = BinaryOptions

    def _fit(self, values: Any) -> dict[str, Any]:
        seen = sorted({k for k in _keys(values) if k is not None})
        if len(seen) != 2:
            raise self._error(
                f"a binary column needs exactly two distinct values, found {len(seen)}: {seen[:5]}; "
                "use type: category for more"
            )
        positive = self.options.positive
        if positive is None:
            positive = next((v for v in seen if v.lower() in POSITIVE), seen[1])
        if positive not in seen:
            raise self._error(f"positive value {positive!r} is not one of the values {seen}")
        negative = seen[0] if seen[1] == positive else seen[1]
        return {"positive": positive, "negative": negative}

    def encode(self, values: Any) -> torch.Tensor:
        positive, negative = self.fitted["positive"], self.fitted["negative"]
        keys = _keys(values)
        strange = sorted({k for k in keys if k not in (positive, negative, None)})
        if strange:
            raise self._error(f"value(s) {strange[:5]} are neither {negative!r} nor {positive!r}")
        return torch.as_tensor([1.0 if k == positive else 0.0 for k in keys], dtype=torch.float32)

    def decode(self, output: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        probabilities = output["probability"].detach().float().cpu().reshape(-1).tolist()
        threshold = float(self.head_config.get("threshold", 0.5))
        return [
            {self.name: _typed(self.fitted["positive"] if p >= threshold else self.fitted["negative"]),
             "probability": p}
            for p in probabilities
        ]


def _keys(values: Any) -> list[str | None]:
    array = as_array(values).reshape(-1)
    return [None if v is None else str(v.item() if hasattr(v, "item") else v) for v in array]


def _typed(key: str) -> Any:
    try:
        return int(key)
    except ValueError:
        return key
