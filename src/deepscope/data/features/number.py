"""Numbers: parsed from text where needed, missing values filled, standardised with training statistics."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from deepscope.data.features.base import FEATURES, Feature, FeatureOptions, as_array


class NumberOptions(FeatureOptions):
    normalization: Literal["standard", "minmax", "none"] = "standard"


@FEATURES.register("number")
class NumberFeature(Feature):
    """A real value. Missing inputs take the training mean (0 after standardisation).

    As an output it is predicted in normalised units; `decode` maps back to the original units.
    """

    type = "number"
    kind = "tabular"
    Options = NumberOptions

    def _fit(self, values: Any) -> dict[str, Any]:
        x = self.parse(values)
        if np.isnan(x).all():
            raise self._error("every training value is missing; drop the column or fill it in")
        mean, std = float(np.nanmean(x)), float(np.nanstd(x))
        low, high = float(np.nanmin(x)), float(np.nanmax(x))
        if self.options.normalization == "standard":
            shift, scale = mean, std if std > 0 else 1.0
        elif self.options.normalization == "minmax":
            shift, scale = low, (high - low) if high > low else 1.0
        else:
            shift, scale = 0.0, 1.0
        return {"mean": mean, "std": std, "shift": shift, "scale": scale, "missing": int(np.isnan(x).sum())}

    def parse(self, values: Any) -> np.ndarray:
        """Floats, with NaN for missing; text that is not a number is a data error naming the row."""
        array = as_array(values).reshape(-1)
        if array.dtype.kind in "fiub":
            return self._finite(array.astype(np.float64))
        out = np.empty(len(array), dtype=np.float64)
        for row, value in enumerate(array):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                out[row] = np.nan
                continue
            try:
                out[row] = float(value)
            except (TypeError, ValueError):
                raise self._error(
                    f"row {row}: {value!r} is not a number; fix the value or use type: category") from None
        return self._finite(out)

    def _finite(self, x: np.ndarray) -> np.ndarray:
        """NaN is a missing value; inf (or 1e309, which overflows to it) would make every prediction NaN."""
        infinite = np.flatnonzero(np.isinf(x))
        if len(infinite):
            raise self._error(f"value {infinite[0] + 1} of {len(x)} is {x[infinite[0]]}, not a finite number; "
                              "fix it, or give None (or NaN) for a missing value")
        return x

    def encode(self, values: Any) -> torch.Tensor:
        x = self.parse(values)
        x = np.where(np.isnan(x), self.fitted["mean"], x)
        return torch.as_tensor((x - self.fitted["shift"]) / self.fitted["scale"], dtype=torch.float32)

    def decode(self, output: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        values = output["value"].detach().float().cpu().reshape(-1).tolist()
        return [{self.name: v} for v in values]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "width": 1}
