"""Categories: a vocabulary fitted on the training split, most frequent first."""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch
from pydantic import Field

from deepscope.data.features.base import FEATURES, Feature, FeatureOptions, as_array

UNKNOWN = "<unknown>"


class CategoryOptions(FeatureOptions):
    max_categories: int = Field(1000, ge=2, description="rarer categories become <unknown> (inputs only)")


@FEATURES.register("category")
class CategoryFeature(Feature):
    """One of a set of values (strings or integers).

    As an input, index 0 is `<unknown>` (missing values and values never seen in training). As an output the
    classes are exactly the training labels, sorted, and a label never seen in training is a data error.
    """

    type = "category"
    kind = "tabular"
    Options = CategoryOptions

    def _fit(self, values: Any) -> dict[str, Any]:
        keys = self._keys(values)
        counts = Counter(k for k in keys if k is not None)
        if not counts:
            raise self._error("every training value is missing")
        numeric = all(_is_int(k) for k in counts)
        if self.is_output:
            vocabulary = sorted(counts, key=lambda k: (int(k) if numeric else 0, k))
        else:
            ranked = sorted(counts, key=lambda k: (-counts[k], k))
            vocabulary = [UNKNOWN] + ranked[: self.options.max_categories - 1]
        return {"vocabulary": vocabulary, "numeric": numeric, "output": self.is_output}

    @staticmethod
    def _keys(values: Any) -> list[str | None]:
        array = as_array(values).reshape(-1)
        return [None if v is None else str(v.item() if hasattr(v, "item") else v) for v in array]

    @property
    def classes(self) -> list[Any]:
        vocabulary = self.fitted["vocabulary"]
        return [int(v) for v in vocabulary] if self.fitted["numeric"] else list(vocabulary)

    def encode(self, values: Any) -> torch.Tensor:
        index = {key: i for i, key in enumerate(self.fitted["vocabulary"])}
        keys = self._keys(values)
        if self.fitted["output"]:
            unseen = sorted({k for k in keys if k not in index}, key=str)
            if unseen:
                raise self._error(
                    f"label(s) {unseen[:5]} never appear in the training split; the model knows "
                    f"{self.fitted['vocabulary'][:10]}. Check the labels or make the split stratified"
                )
            return torch.as_tensor([index[k] for k in keys], dtype=torch.long)
        return torch.as_tensor([index.get(k, 0) for k in keys], dtype=torch.long)

    def decode(self, output: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        classes = self.classes
        probabilities = output["probabilities"].detach().float().cpu()
        rows = []
        for p in probabilities:
            best = int(p.argmax())
            rows.append({self.name: classes[best], "probabilities": dict(zip(map(str, classes), p.tolist()))})
        return rows

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "cardinality": len(self.fitted["vocabulary"])}


def _is_int(text: str) -> bool:
    try:
        return str(int(text)) == text
    except ValueError:
        return False
