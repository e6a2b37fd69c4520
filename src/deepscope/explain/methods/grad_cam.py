"""Grad-CAM (Selvaraju et al. 2017): the last convolutional block's feature maps weighted by their mean gradient (of the
class score before the softmax), ReLU'd, then upsampled to the input's size (Captum's LayerGradCam and
LayerAttribution.interpolate). One coarse map per example, the same for every channel: images (n, 1, H, W),
spectrograms (n, 1, F, T) -> (n, F, T), series and text (n, T, 1)."""

from __future__ import annotations

from deepscope.explain.layers import grad_cam_layer, last_convolution
from deepscope.explain.methods.base import METHODS, Method, encoder_of
from deepscope.explain.methods.captum_api import attr


class GradCamMethod(Method):
    name = "grad_cam"
    modalities = frozenset({"image", "audio", "series", "text"})

    def applies(self, view, input_name):
        if reason := super().applies(view, input_name):
            return reason
        encoder = encoder_of(view, input_name)
        if last_convolution(encoder) is None:
            return (f"grad_cam needs a convolutional encoder (cnn, resnet or cnn1d); the {input_name!r} input is read "
                    f"by a {type(encoder).__name__}")
        return None

    def compute(self, view, x, context, targets, baseline, **settings):
        layer_name, layer = grad_cam_layer(encoder_of(view, view.input_name))
        with view.on_logits():  # the class score before the softmax, as in the paper (see ScoreView.on_logits)
            maps = attr().LayerGradCam(view, layer).attribute(x, target=targets, additional_forward_args=context,
                                                       relu_attributions=True)  # (n, 1, h, w) or (n, 1, t)
        if maps.ndim == 4:  # images (n, C, H, W) and spectrograms (n, F, T)
            size = x.shape[-2:]
            up = attr().LayerAttribution.interpolate(maps, tuple(size), interpolate_mode="bilinear")
            return (up if x.ndim == 4 else up.squeeze(1)), {"layer": layer_name}
        # a 1-D convolution over time: series windows and token embeddings are (n, T, D), time on axis 1
        up = attr().LayerAttribution.interpolate(maps, (x.shape[1],), interpolate_mode="linear")  # (n, 1, T)
        return up.transpose(1, 2), {"layer": layer_name}  # (n, T, 1)


METHODS.register("grad_cam")(GradCamMethod())
