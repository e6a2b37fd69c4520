"""Contract tests: every registered encoder, head, activation and layer obeys the same rules."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from deepscope.models.builder import build_model
from deepscope.models.encoders import ENCODERS
from deepscope.models.heads import HEADS
from deepscope.models.layers.activations import ACTIVATIONS

IMAGE = {"name": "image", "type": "image", "kind": "image", "shape": [1, 16, 16]}
TABLE = [
    {"name": "age", "type": "number", "kind": "tabular"},
    {"name": "smoker", "type": "binary", "kind": "tabular"},
    {"name": "job", "type": "category", "kind": "tabular", "cardinality": 5},
]
TEXT = {"name": "review", "type": "text", "kind": "sequence", "vocab_size": 30, "pad_id": 0, "unk_id": 1,
        "max_length": 12, "tokens": ["<pad>", "<unk>"] + [f"w{i}" for i in range(28)]}
SERIES = {"name": "series", "type": "timeseries", "kind": "sequence", "channels": 3, "length": 10}
AUDIO = {"name": "audio", "type": "audio", "kind": "audio", "sample_rate": 8000, "n_samples": 1600,
         "shape": [1, 20, 21],
         "spectrogram": {"n_mels": 20, "n_fft": 256, "hop_length": 80, "win_length": 200, "f_min": 0.0, "f_max": 4000.0,
                         "mfcc": 0, "time_masks": 1, "time_mask_width": 4, "freq_masks": 1, "freq_mask_width": 4}}
OUTPUTS = {
    "category": {"name": "y", "type": "category", "kind": "tabular", "cardinality": 4},
    "binary": {"name": "y", "type": "binary", "kind": "tabular"},
    "number": {"name": "y", "type": "number", "kind": "tabular", "shift": 10.0, "scale": 2.0},
    "forecast": {"name": "y", "type": "forecast", "kind": "forecast", "horizon": 3, "shift": 5.0, "scale": 0.5,
                 "log": True},
}


def batch_for(inputs: list[dict], n: int = 6) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    batch = {}
    for spec in inputs:
        if spec["kind"] == "image":
            batch[spec["name"]] = torch.randn(n, *spec["shape"])
        elif spec["kind"] == "audio":  # waveforms (B, S)
            batch[spec["name"]] = torch.randn(n, spec["n_samples"]) * 0.1
        elif spec["type"] == "text":  # left-aligned token ids, lengths from empty to full, 0 = padding
            ids = torch.randint(2, spec["vocab_size"], (n, spec["max_length"]))
            lengths = torch.linspace(0, spec["max_length"], n).long().unsqueeze(1)  # (n, 1)
            batch[spec["name"]] = ids.masked_fill(torch.arange(spec["max_length"]) >= lengths, 0)
        elif spec["type"] == "timeseries":
            batch[spec["name"]] = torch.randn(n, spec["length"], spec["channels"])
        elif spec["type"] == "category":
            batch[spec["name"]] = torch.randint(0, spec["cardinality"], (n,))
        else:
            batch[spec["name"]] = torch.randn(n)
    return batch


# encoders whose defaults have no parameters get a small setting to test
OPTIONS = {"layers": {"layers": [{"dense": 8}, "relu"]}}


def encoder_cases():
    for name, encoder in ENCODERS.items():
        if "image" in encoder.accepts:
            yield pytest.param(name, [IMAGE], id=f"{name}-image")
        if "tabular" in encoder.accepts:
            yield pytest.param(name, TABLE, id=f"{name}-tabular")
        if "audio" in encoder.accepts:
            yield pytest.param(name, [AUDIO], id=f"{name}-audio")
        if "sequence" in encoder.accepts and getattr(encoder, "reads_text", True):
            yield pytest.param(name, [TEXT], id=f"{name}-text")
            yield pytest.param(name, [SERIES], id=f"{name}-timeseries")


@pytest.mark.parametrize("name,inputs", list(encoder_cases()))
def test_encoder_shape_gradients_and_round_trip(name, inputs):
    encoder = ENCODERS.get(name)(inputs, **OPTIONS.get(name, {}))
    batch = batch_for(inputs)
    out = encoder(batch)
    assert out.shape == (6, encoder.output_size)
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    for param_name, param in encoder.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), f"no gradient reaches {param_name}"
    clone = ENCODERS.get(name)(inputs, **OPTIONS.get(name, {}))
    clone.load_state_dict(load_bytes(save_bytes({k: v.contiguous() for k, v in encoder.state_dict().items()})))
    encoder.eval(), clone.eval()
    assert torch.equal(encoder(batch), clone(batch))


def test_every_encoder_is_covered():
    covered = {case.values[0] for case in encoder_cases()}
    assert covered == set(ENCODERS.names())


@pytest.mark.parametrize("name", HEADS.names())
def test_head_loss_predictions_and_metrics(name):
    head = HEADS.get(name)(8, OUTPUTS[name])
    h = torch.randn(10, 8, requires_grad=True)
    out = head(h)
    target = {"category": torch.randint(0, 4, (10,)), "binary": torch.randint(0, 2, (10,)).float(),
              "number": torch.randn(10), "forecast": torch.randn(10, 3)}[name]
    loss = head.loss(out, target)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in head.parameters())
    predictions = head.predict(out.detach())
    assert all(v.shape[0] == 10 for v in predictions.values())
    metric = head.metrics()
    head.update_metrics(metric, out, target)
    values = metric.compute()
    assert values and json.dumps(values)  # plain, JSON-serialisable numbers


def test_every_head_is_covered():
    assert set(HEADS.names()) == set(OUTPUTS)


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_activation_shapes_and_gradients(name):
    x = torch.randn(4, 3, 5, 5, requires_grad=True)
    y = ACTIVATIONS.get(name)()(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    y.sum().backward()
    assert x.grad is not None


def test_all_required_activations_are_registered():
    required = {"relu", "leaky_relu", "sigmoid", "tanh", "gelu", "elu", "selu", "silu", "softmax"}
    assert required <= set(ACTIVATIONS.names())


def test_model_with_image_and_table_inputs_and_two_heads():
    inputs = {"image": IMAGE, **{s["name"]: s for s in TABLE}}
    outputs = {"a": {**OUTPUTS["category"], "name": "a"}, "b": {**OUTPUTS["number"], "name": "b"}}
    model = build_model({"encoder": {"name": "cnn"}, "combiner": {"hidden": [16]}}, inputs, outputs)
    batch = batch_for(list(inputs.values()))
    batch.update({"a": torch.randint(0, 4, (6,)), "b": torch.randn(6)})
    outputs_ = model(batch)
    assert outputs_["a"].shape == (6, 4) and outputs_["b"].shape == (6,)
    assert set(model.encoders) == {"image", "tabular"}  # cnn for the image, the default for the table
    model.loss(outputs_, batch).backward()
