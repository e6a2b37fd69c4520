"""Guided backpropagation (Springenberg et al. 2015): gradients with every ReLU passing back only positive
signals. Adebayo et al. (2018) found its maps barely change when the model's weights are randomised: the
randomisation check in explain/faithfulness.py measures that for each model."""

from __future__ import annotations

import warnings

from torch import nn

from deepscope.explain.methods.base import METHODS, Method, encoder_of
from deepscope.explain.methods.captum_api import attr


class GuidedBackpropMethod(Method):
    name = "guided_backprop"

    def applies(self, view, input_name):
        if reason := super().applies(view, input_name):
            return reason
        if not any(isinstance(m, nn.ReLU) for m in encoder_of(view, input_name).modules()):
            return "guided_backprop needs ReLU activations in the encoder (it changes how they pass gradients back)"
        return None

    def compute(self, view, x, context, targets, baseline, **settings):
        with warnings.catch_warnings():  # Captum announces its (temporary) ReLU hooks on every call
            warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
            return attr().GuidedBackprop(view).attribute(x, target=targets, additional_forward_args=context), {}


METHODS.register("guided_backprop")(GuidedBackpropMethod())
