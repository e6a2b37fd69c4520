"""SmoothGrad (Smilkov et al. 2017): saliency averaged over noisy copies of the input (Captum's NoiseTunnel),
which removes much of the speckle of a single gradient. The noise's spread is `noise` times the batch's range
(the paper finds 10-20 % best)."""

from __future__ import annotations

from deepscope.explain.methods.base import METHODS, Method
from deepscope.explain.methods.captum_api import attr


class SmoothGradMethod(Method):
    name = "smoothgrad"
    options = {"samples": 16, "noise": 0.15}

    def compute(self, view, x, context, targets, baseline, *, samples, noise):
        spread = float(noise * (x.detach().max() - x.detach().min()).clamp(min=1e-6))
        attributions = attr().NoiseTunnel(attr().Saliency(view)).attribute(
            x, nt_type="smoothgrad", nt_samples=samples, stdevs=spread, target=targets,
            additional_forward_args=context)
        return attributions, {"samples": samples, "stdev": spread}


METHODS.register("smoothgrad")(SmoothGradMethod())
