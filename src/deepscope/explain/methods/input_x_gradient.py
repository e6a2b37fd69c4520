"""Input x gradient (Shrikumar et al. 2016): each unit's value times its gradient, a first-order contribution."""

from __future__ import annotations

from deepscope.explain.methods.base import METHODS, Method
from deepscope.explain.methods.captum_api import attr


class InputXGradientMethod(Method):
    name = "input_x_gradient"

    def compute(self, view, x, context, targets, baseline, **settings):
        return attr().InputXGradient(view).attribute(x, target=targets, additional_forward_args=context), {}


METHODS.register("input_x_gradient")(InputXGradientMethod())
