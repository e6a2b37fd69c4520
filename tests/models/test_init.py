"""`init`: how weights start, in a layer list, in an encoder, and for the whole model; checked by the weights'
statistics against each scheme's definition, and by the classic experiment (Glorot & Bengio 2010): a deep tanh
network started from N(0, 1) saturates and its gradients vanish, the same network started with Xavier learns."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.errors import ConfigError
from deepscope.models.builder import build_model

IMAGE = {"image": {"name": "image", "type": "image", "kind": "image", "shape": [1, 16, 16]}}
TABLE = {f"x{i}": {"name": f"x{i}", "type": "number", "kind": "tabular"} for i in range(128)}
TEXT = {"text": {"name": "text", "type": "text", "kind": "sequence", "vocabulary_size": 50, "max_length": 12,
                 "tokens": [f"t{i}" for i in range(50)]}}
LABEL = {"label": {"name": "label", "type": "category", "kind": "tabular", "cardinality": 10}}


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.encoders.modules() if isinstance(m, nn.Linear)]


def test_a_layer_list_starts_from_the_lists_init_and_a_layers_own_init_wins():
    torch.manual_seed(0)
    config = {"layers": [{"dense": 256}, "tanh", {"dense": {"units": 256, "init": "orthogonal"}}, "tanh"],
              "init": {"name": "normal", "std": 0.01}}
    first, second = linears(build_model(config, TABLE, LABEL))
    assert first.weight.std().item() == pytest.approx(0.01, rel=0.02)
    assert abs(first.weight.mean().item()) < 0.001 and torch.all(first.bias == 0)
    assert torch.allclose(second.weight @ second.weight.T, torch.eye(256), atol=1e-4)  # orthogonal rows


@pytest.mark.parametrize("init,expected_std", [
    ("xavier", math.sqrt(2 / (128 + 256))),                     # Glorot: gain * sqrt(2 / (fan_in + fan_out))
    ({"name": "xavier", "gain": "tanh", "distribution": "normal"}, 5 / 3 * math.sqrt(2 / (128 + 256))),
    ("kaiming", math.sqrt(2 / 128)),                             # He: sqrt(2) / sqrt(fan_in) for relu
    ({"name": "uniform", "limit": 0.3}, 0.3 / math.sqrt(3)),
    ({"name": "normal", "std": 1.0}, 1.0),
])
def test_an_encoders_init_gives_the_schemes_standard_deviation(init, expected_std):
    torch.manual_seed(0)
    model = build_model({"encoder": {"name": "mlp", "hidden": [256, 256], "init": init}}, TABLE, LABEL)
    first = linears(model)[0]  # 128 -> 256
    assert first.weight.std().item() == pytest.approx(expected_std, rel=0.03)
    assert torch.all(first.bias == 0)


def test_model_init_reaches_convolutions_recurrent_weights_and_the_combiner_but_not_embeddings():
    torch.manual_seed(0)
    cnn = build_model({"encoder": {"name": "cnn", "filters": [16, 32]}, "init": "kaiming",
                       "combiner": {"hidden": [64]}}, IMAGE, LABEL)
    conv = next(m for m in cnn.modules() if isinstance(m, nn.Conv2d) and m.in_channels == 16)
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (16 * 3 * 3)), rel=0.05)
    combiner = cnn.combiner.layers[0]
    assert combiner.weight.std().item() == pytest.approx(math.sqrt(2 / combiner.in_features), rel=0.05)

    lstm = build_model({"encoder": {"name": "lstm", "hidden": 32, "embedding": {"dim": 16}}, "init": "orthogonal"},
                       TEXT, LABEL)
    recurrent = next(m for m in lstm.modules() if isinstance(m, nn.LSTM))
    hh = recurrent.weight_hh_l0  # (4 * hidden, hidden): orthonormal columns
    assert torch.allclose(hh.T @ hh, torch.eye(32), atol=1e-4) and torch.all(recurrent.bias_ih_l0 == 0)
    embedding = next(m for m in lstm.modules() if isinstance(m, nn.Embedding))
    assert embedding.weight[1:].std().item() < 0.5  # its own small start, not redrawn


def test_an_encoders_own_init_wins_over_model_init():
    torch.manual_seed(0)
    model = build_model({"encoder": {"name": "mlp", "hidden": [256], "init": {"name": "normal", "std": 0.5}},
                         "init": "xavier"}, TABLE, LABEL)
    assert linears(model)[0].weight.std().item() == pytest.approx(0.5, rel=0.03)


def test_a_config_file_with_init_loads_and_round_trips():
    config = load_config({"data": {"source": "digits"},
                          "model": {"layers": [{"dense": {"units": 32, "init": "kaiming"}}, "relu"],
                                    "init": {"name": "normal", "std": 0.01}}})
    assert config.model.init == {"name": "normal", "std": 0.01}
    assert load_config(config.model_dump(mode="json")).model == config.model


@pytest.mark.parametrize("config,message", [
    ({"layers": [{"dense": 8}], "init": "glorot"}, r"model.init.name: unknown initialisation 'glorot'; choose"),
    ({"layers": [{"dense": 8}], "init": {"name": "normal", "sd": 1}}, r"model.init.sd: unknown key 'sd'"),
    ({"layers": [{"dense": 8}], "init": {"name": "normal", "std": -1}}, r"model.init.std"),
    ({"layers": [{"dropout": {"rate": 0.1, "init": "xavier"}}]}, r"model.layers\[0\] \(dropout\).init: this layer "
                                                                 "has no weights"),
    ({"encoder": {"name": "mlp", "init": 3}}, r"model.encoder.init"),
])
def test_init_mistakes_name_the_place(config, message):
    with pytest.raises(ConfigError, match=message):
        build_model(config, TABLE, LABEL)


def deep_tanh(init) -> dict:
    layers = [item for _ in range(10) for item in ({"dense": 64}, "tanh")]
    return {"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
            "model": {"layers": layers, "init": init},
            "train": {"epochs": 2, "batch_size": 64, "optimizer": {"name": "sgd", "lr": 0.1}, "schedule": "constant"}}


def test_the_classic_experiment_normal_std_1_saturates_and_vanishes_where_xavier_learns(tmp_path):
    warnings = lambda run: {f.code: f for f in run.diagnosis if f.severity in ("warning", "error")}  # noqa: E731
    torch.manual_seed(0)
    large = ds.train(deep_tanh({"name": "normal", "std": 1.0}), {"run.root": str(tmp_path)}, progress=False)
    found = warnings(large)
    # N(0, 1) over 64 inputs gives pre-activations of std ~8: tanh sits at +-1, its slope ~0, and the gradient
    # reaching the first layer is a vanishing fraction of the output layer's
    assert {"vanishing_gradients", "saturation", "init_scale"} <= set(found)
    assert found["vanishing_gradients"].evidence["ratio"] < 1e-3
    assert found["init_scale"].evidence["gain_by_layer"]["encoders.image.layers.1.weight"] > 3  # std*sqrt(64)=8
    torch.manual_seed(0)
    xavier = ds.train(deep_tanh("xavier"), {"run.root": str(tmp_path)}, progress=False)
    assert not {"vanishing_gradients", "saturation", "init_scale"} & set(warnings(xavier))
    assert xavier.metrics["test"]["accuracy"] > 0.5 > large.metrics["test"]["accuracy"] + 0.3
