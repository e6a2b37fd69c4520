"""Saliency (Simonyan et al. 2014): |d score / d input|, the plainest gradient map."""

from __future__ import annotations

from deepscope.explain.methods.base import METHODS, Method
from deepscope.explain.methods.captum_api import attr


class SaliencyMethod(Method):
    name = "saliency"

    def compute(self, view, x, context, targets, baseline, **settings):
        return attr().Saliency(view).attribute(x, target=targets, additional_forward_args=context, abs=True), {}


METHODS.register("saliency")(SaliencyMethod())
