import pytest
import torch

from deepscope.errors import ConfigError
from deepscope.models.builder import build_model
from deepscope.models.layers.layer_list import LAYERS, build_layer_list

SPEC = [{"conv2d": {"filters": 8, "kernel": 3}}, "relu", {"maxpool2d": 2}, {"dropout": 0.25}, {"dense": 32}, "relu"]


def test_layer_list_infers_sizes_and_flattens_before_dense():
    layers, shape = build_layer_list(SPEC, (1, 28, 28))
    assert shape == (32,)
    assert layers(torch.randn(2, 1, 28, 28)).shape == (2, 32)
    assert any(isinstance(m, torch.nn.Flatten) for m in layers)


def test_output_layer_comes_from_the_target():
    inputs = {"image": {"name": "image", "type": "image", "kind": "image", "shape": [1, 8, 8]}}
    outputs = {"label": {"name": "label", "type": "category", "kind": "tabular", "cardinality": 10}}
    model = build_model({"layers": SPEC}, inputs, outputs)
    assert model({"image": torch.randn(3, 1, 8, 8)})["label"].shape == (3, 10)


@pytest.mark.parametrize("spec,message", [
    ([{"conv2d": {"filter": 8}}], r"model.layers\[0\] \(conv2d\): unknown setting"),
    (["relux"], r"model.layers\[0\]: unknown layer 'relux'"),
    ([{"dense": 16}, {"conv2d": 8}], r"model.layers\[1\] \(conv2d\): needs an image-shaped input"),
    ([{"conv2d": {"filters": 4, "kernel": 9}}, {"maxpool2d": 2}], r"too small for kernel"),
    ([{"dense": 4, "relu": None}], r"write a layer as a name"),
])
def test_layer_list_mistakes_name_the_layer(spec, message):
    with pytest.raises(ConfigError, match=message):
        build_layer_list(spec, (1, 8, 8))


def test_registered_layers_build_on_a_matching_shape():
    for name, builder in LAYERS.items():
        image_layer = name in ("conv2d", "maxpool2d", "avgpool2d", "global_avgpool", "batchnorm", "flatten", "dropout")
        shape = (3, 8, 8) if image_layer else (12,)
        modules, out_shape = builder(shape, {"conv2d": 4, "dense": 5}.get(name), name)
        x = torch.randn(2, *shape)
        for module in modules:
            x = module(x)
        assert tuple(x.shape[1:]) == tuple(out_shape), name
