"""The Feature contract: fitted on the training split only, encodes raw values to tensors, decodes outputs back.

A feature's fitted state is plain JSON (`state()` / `Feature.from_state`), saved with the model so that
`predict` and `serve` preprocess exactly as training did.

    feature = FEATURES.get("number")("age", {})
    feature.fit(train_values)
    tensor = feature.encode(values)
    Feature.from_state(feature.state()).encode(values)   # identical
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, ValidationError

from deepscope.config.registry import Registry
from deepscope.errors import ConfigError, DataError

FEATURES: Registry[type["Feature"]] = Registry("feature type")


class FeatureOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Feature:
    """Base class. Subclasses set `type`, `kind` and `Options`, and implement the `_fit` / `encode` hooks."""

    type: ClassVar[str]
    kind: ClassVar[str]  # "image" or "tabular": which encoder family reads it
    Options: ClassVar[type[FeatureOptions]] = FeatureOptions
    # options a head owns (loss settings) when this feature is an output; the builder passes them on
    head_options: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, name: str, options: dict[str, Any] | None = None, *, where: str = "data"):
        self.name = name
        self.where = where
        options = dict(options or {})
        self.head_config = {k: options.pop(k) for k in list(options) if k in self.head_options}
        try:
            self.options = self.Options(**options)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            allowed = ", ".join(sorted(set(self.Options.model_fields) | self.head_options)) or "none"
            raise ConfigError(f"{where}.{name}: {problems} (options for {self.type}: {allowed})") from None
        self.fitted: dict[str, Any] = {}

    # --- the contract --------------------------------------------------------------------------------------
    def fit(self, values: Any) -> "Feature":
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
    def from_state(state: dict[str, Any], *, where: str = "data") -> "Feature":
        """The fitted feature again; `where` names the place in messages (e.g. "prediction input")."""
        cls = FEATURES.get(state["type"])
        feature = cls(state["name"], {**state["options"], **state.get("head", {})}, where=where)
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
