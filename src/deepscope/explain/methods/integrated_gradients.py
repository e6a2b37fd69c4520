"""Integrated gradients (Sundararajan et al. 2017): gradients averaged along the straight path from a baseline to
the input, times the difference. The attributions add up to score(input) - score(baseline) (completeness); Captum's
convergence delta is how far they miss, kept in `extra["delta"]` (n,)."""

from __future__ import annotations

from deepscope.explain.methods.base import METHODS, Method
from deepscope.explain.methods.captum_api import attr

STEPS = 32  # Riemann steps; Sundararajan et al. use 20-300, and the delta says when more are needed


class IntegratedGradientsMethod(Method):
    name = "integrated_gradients"
    options = {"baseline": "zeros", "steps": STEPS, "internal_batch_size": None}

    def compute(self, view, x, context, targets, baseline, *, steps, internal_batch_size, **settings):
        attributions, delta = attr().IntegratedGradients(view).attribute(
            x, baselines=baseline.expand_as(x), target=targets, additional_forward_args=context, n_steps=steps,
            internal_batch_size=internal_batch_size, return_convergence_delta=True)
        return attributions, {"delta": delta.detach(), "steps": steps}


METHODS.register("integrated_gradients")(IntegratedGradientsMethod())
