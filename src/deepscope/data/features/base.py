"""The Feature contract: fitted on the training split only, encodes raw values to tensors, decodes outputs back.

A feature's fitted state is plain JSON (`state()` / `Feature.from_state`), saved with the model so that
`predict` and `serve` preprocess exactly as training did.

    feature = FEATURES.get("number")("age", {}, where="data.inputs")
    feature.fit(train_values)
    tensor = feature.encode(values)
    Feature.from_state(feature.state()).encode(values)   # identical
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from deepscope.config.options import parse_options
from deepscope.config.registry import Registry
from deepscope.errors import DataError

FEATURES: Registry[type[Feature]] = Registry("feature type")


class FeatureOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Feature:
    """Base class. Subclasses set `type`, `kind` and `Options`, and implement the `_fit` / `encode` hooks.

    Args:
        name: the column.
        options: the config's options for it (`{"size": 32}`); for an output, those its `Options` do not
            declare belong to the model's head (loss settings), which checks them when the model is built.
        where: the config path, for messages ("data.inputs", "data.outputs").
    """

    type: ClassVar[str]
    kind: ClassVar[str]  # "image", "tabular", "sequence", "audio": which encoder family reads it
    Options: ClassVar[type[FeatureOptions]] = FeatureOptions
    output_only: ClassVar[bool] = False  # a forecast is always an output

    def __init__(self, name: str, options: dict[str, Any] | None = None, *, where: str = "data"):
        self.name = name
        self.where = where
        self.is_output = self.output_only or where.endswith("outputs")
        options = dict(options or {})
        own = set(self.Options.model_fields)
        self.head_config = {k: options.pop(k) for k in list(options) if k not in own} if self.is_output else {}
        self.options = parse_options(self.Options, options, f"{where}.{name}", what=self.type)
        self.fitted: dict[str, Any] = {}

    # --- the contract --------------------------------------------------------------------------------------
    def fit(self, values: Any) -> Feature:
        """Learn what encoding needs (vocabulary, statistics) from training values only."""
        self.fitted = self._fit(values)
        return self

    def _fit(self, values: Any) -> dict[str, Any]:
        return {}

    def encode(self, values: Any) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, output: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        """Head predictions (a dict of batched tensors) -> one dict of plain values per example."""
        raise NotImplementedError(f"{self.type} features cannot be outputs")

    def describe(self) -> dict[str, Any]:
        """What the model builder needs to know, as plain data (`models` does not import `data`)."""
        return {"name": self.name, "type": self.type, "kind": self.kind, **self.fitted}

    # --- persistence ---------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "options": self.options.model_dump(mode="json"),
            "head": self.head_config,
            "fitted": self.fitted,
        }

    @staticmethod
    def from_state(state: dict[str, Any], *, where: str = "data") -> Feature:
        """The fitted feature again; `where` names the place in messages (e.g. "prediction input")."""
        cls = FEATURES.get(state["type"])
        feature = cls(state["name"], state["options"], where=where)
        feature.head_config = dict(state.get("head") or {})  # an output's head options, checked when it was trained
        feature.fitted = state["fitted"]
        return feature

    def _error(self, message: str) -> DataError:
        return DataError(f"{self.where}.{self.name}: {message}")


def as_array(values: Any) -> np.ndarray:
    """Lists, tuples, scalars and arrays -> a 1-D (or N-D) numpy array without copying arrays."""
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    if isinstance(values, (list, tuple)):
        return np.asarray(values, dtype=object) if _mixed(values) else np.asarray(values)
    return np.asarray([values])


def _mixed(values: list | tuple) -> bool:
    return any(v is None or isinstance(v, str) for v in values)


def describe_features(features: dict[str, Feature]) -> dict[str, dict[str, Any]]:
    """What the model builder reads: each feature's description, and for outputs the options its head takes.

    >>> describe_features({"label": category})   # doctest: +SKIP
    {'label': {'name': 'label', 'type': 'category', 'kind': 'tabular', 'cardinality': 10, 'head': {}}}
    """
    return {name: {**feature.describe(), "head": feature.head_config} for name, feature in features.items()}
