"""Occlusion (Zeiler & Fergus 2014): the score's drop when a patch is replaced by the baseline (Captum's Occlusion).
Patches: images `window` x `window` pixels in every channel (default about a seventh of the side), spectrograms the
same over mels x frames, series one step of one channel, text one token; a table occludes one column at a time
(Captum's FeatureAblation with a mask per column)."""

from __future__ import annotations

from deepscope.explain.methods.base import METHODS, Method
from deepscope.explain.methods.captum_api import attr


class OcclusionMethod(Method):
    name = "occlusion"
    options = {"baseline": "zeros", "window": None, "stride": None, "perturbations_per_eval": 16}

    def compute(self, view, x, context, targets, baseline, *, window, stride, perturbations_per_eval, **settings):
        common = {"target": targets, "additional_forward_args": context, "baselines": baseline.expand_as(x),
                  "perturbations_per_eval": perturbations_per_eval}
        if view.modality == "table":
            return attr().FeatureAblation(view).attribute(x, feature_mask=view.space.feature_mask(), **common), {}
        shape, strides = _patch(view.modality, x, window, stride)
        attributions = attr().Occlusion(view).attribute(x, sliding_window_shapes=shape, strides=strides, **common)
        return attributions, {"window": shape, "stride": strides}


def _patch(modality, x, window, stride):
    """(sliding window shape, strides) over one example's dimensions."""
    if modality in ("image", "audio"):
        side = min(x.shape[-2:])
        k = window or max(1, round(side / 7))
        s = stride or max(1, k // 2)
        lead = (x.shape[1],) if x.ndim == 4 else ()  # images: every channel at once
        return lead + (k, k), lead + (s, s)
    if modality == "text":  # one token: the whole embedding vector of a step
        return (window or 1, x.shape[2]), (stride or 1, x.shape[2])
    return (window or 1, 1), (stride or 1, 1)  # series: one step of one channel


METHODS.register("occlusion")(OcclusionMethod())
