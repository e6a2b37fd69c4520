"""Signals: one fixed-length numeric array per example (a 1-D trace, a sensor window, a spectrum) as a model input.

(N, L) or (N, L, C) floats in, float32 (N, L, C) out, standardised per channel with the training split's mean and
std. Every example must have the training length and channel count: a signal of another length usually means the
wrong array was passed, so it is an error rather than silently cut or padded. The encoders that read sequences
take it as (B, T=L, C) floats with no padding (`cnn` convolves along it in 1-D, `gru` / `lstm` / `transformer`
step through it).

    feature = FEATURES.get("signal")("x", {}, where="data.inputs").fit(np.random.randn(100, 40))  # MNIST-1D
    feature.encode(np.zeros((2, 40))).shape    # (2, 40, 1)
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from deepscope.data.features.base import FEATURES, Feature, FeatureOptions, as_array


class SignalOptions(FeatureOptions):
    normalization: Literal["standard", "none"] = "standard"


@FEATURES.register("signal")
class SignalFeature(Feature):
    """Example:
    >>> feature = SignalFeature("x", {}, where="data.inputs").fit(np.arange(12.0).reshape(3, 4))
    >>> tuple(feature.encode(np.zeros((5, 4))).shape)
    (5, 4, 1)
    """

    type = "signal"
    kind = "sequence"  # read by the sequence encoders as (B, T, C) floats, like a series window
    Options = SignalOptions

    def _fit(self, values: Any) -> dict[str, Any]:
        x = self._array(values)  # (N, L, C)
        if len(x) == 0:
            raise self._error("no training signals")
        flat = x.reshape(-1, x.shape[2])
        standard = self.options.normalization == "standard"
        mean = flat.mean(axis=0) if standard else np.zeros(x.shape[2])
        std = flat.std(axis=0) if standard else np.ones(x.shape[2])
        return {"length": int(x.shape[1]), "channels": int(x.shape[2]), "mean": mean.tolist(),
                "std": np.where(std > 0, std, 1.0).tolist()}

    def encode(self, values: Any) -> torch.Tensor:
        """(N, L) or (N, L, C) numbers -> float32 (N, L, C), standardised with the training statistics."""
        x = self._array(values)
        expected = (self.fitted["length"], self.fitted["channels"])
        if x.shape[1:] != expected:
            raise self._error(f"signals of length {x.shape[1]} with {x.shape[2]} channel(s), but the model was "
                              f"trained on length {expected[0]} with {expected[1]}; pass signals shaped as in training")
        scaled = (x - np.asarray(self.fitted["mean"])) / np.asarray(self.fitted["std"])
        return torch.from_numpy(np.ascontiguousarray(scaled, dtype=np.float32))

    def _array(self, values: Any) -> np.ndarray:
        x = as_array(values)
        if x.dtype.kind not in "fiub":
            raise self._error(f"signals must be numbers, got an array of {x.dtype}")
        if x.ndim == 2:
            x = x[:, :, None]  # one channel
        if x.ndim != 3:
            raise self._error(f"expected an array (examples, length) or (examples, length, channels), "
                              f"got shape {x.shape}")
        x = x.astype(np.float64)
        if not np.isfinite(x).all():
            raise self._error("holds NaN or infinite values; fill or drop those examples")
        return x
