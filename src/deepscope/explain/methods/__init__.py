"""Attribution methods by name, one per file, each computed with Captum; every one registers in `METHODS`."""

from deepscope.explain.methods import (  # noqa: F401  (registration)
    attention,
    grad_cam,
    gradient_shap,
    guided_backprop,
    input_x_gradient,
    integrated_gradients,
    occlusion,
    permutation,
    saliency,
    smoothgrad,
)
from deepscope.explain.methods.base import METHODS, Method

__all__ = ["METHODS", "Method"]
