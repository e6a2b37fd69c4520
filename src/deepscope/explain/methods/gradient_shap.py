"""GradientSHAP (Lundberg & Lee 2017, Captum's GradientShap): expected gradients x (input - reference) over
references drawn from a distribution; here the baseline and the batch's own examples stand for the data."""

from __future__ import annotations

import torch

from deepscope.explain.methods.base import METHODS, Method
from deepscope.explain.methods.captum_api import attr


class GradientShapMethod(Method):
    name = "gradient_shap"
    options = {"baseline": "zeros", "samples": 16, "noise": 0.09}

    def compute(self, view, x, context, targets, baseline, *, samples, noise, **settings):
        references = torch.cat([baseline.expand(1, *x.shape[1:]), x])  # (1 + n, ...) the baseline and the data
        attributions = attr().GradientShap(view).attribute(
            x, baselines=references, n_samples=samples, stdevs=noise, target=targets,
            additional_forward_args=context)
        return attributions, {"samples": samples}


METHODS.register("gradient_shap")(GradientShapMethod())
