"""`deepscope.explain.api.explain` and `ds.load(run).explain(...)`: defaults, targets, and the mistakes a user makes
(a method that does not apply, a class that does not exist, an input of the wrong shape), each refused with one
message that says what would work."""

from __future__ import annotations

import pytest
import torch

import deepscope as ds
from deepscope.errors import UserError
from deepscope.explain.api import explain
from deepscope.explain.explanation import Explanation
from deepscope.models.saving import load_model


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    config = {"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
              "model": {"encoder": {"name": "mlp", "hidden": [32]}}, "train": {"epochs": 1},
              "run": {"root": str(tmp_path_factory.mktemp("runs"))}}
    return ds.train(config, progress=False).dir


@pytest.fixture(scope="module")
def mlp(mlp_run):
    return load_model(mlp_run)


def images(n: int = 4) -> torch.Tensor:
    return torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def test_the_default_is_integrated_gradients_of_the_predicted_class(mlp):
    x = images()
    e = explain(mlp.model, mlp.inputs, "label", {"image": x}, outputs=mlp.outputs)
    assert e.method == "integrated_gradients" and e.modality == "image" and e.input == "image"
    with torch.no_grad():
        predicted = mlp.model({"image": x})["label"].argmax(dim=1)
    assert torch.equal(e.targets, predicted)


def test_a_target_names_a_class_through_the_outputs_categories(mlp):
    e = explain(mlp.model, mlp.inputs, "label", {"image": images()}, "saliency", target="7", outputs=mlp.outputs)
    assert (e.targets == mlp.outputs["label"].classes.index(7)).all()
    with torch.no_grad():
        p7 = mlp.model({"image": images()})["label"].softmax(-1)[:, 7]
    assert torch.allclose(e.scores, p7)


def test_a_target_that_is_not_a_class_is_refused_with_the_classes(mlp):
    with pytest.raises(UserError, match=r"target '11' is not a class of the output 'label'; its classes: 0, 1, 2"):
        explain(mlp.model, mlp.inputs, "label", {"image": images()}, "saliency", target="11", outputs=mlp.outputs)


def test_a_method_that_does_not_apply_is_refused_with_those_that_do(mlp):
    with pytest.raises(UserError) as caught:
        explain(mlp.model, mlp.inputs, "label", {"image": images()}, "grad_cam")
    message = str(caught.value)
    assert message.startswith("grad_cam needs a convolutional encoder")
    assert "methods that apply: gradient_shap, guided_backprop, input_x_gradient, integrated_gradients" in message
    assert "grad_cam," not in message.split("apply:")[1]


def test_an_unknown_method_is_refused_with_those_that_apply(mlp):
    with pytest.raises(UserError, match="unknown attribution method 'lime'; methods that apply .*saliency"):
        explain(mlp.model, mlp.inputs, "label", {"image": images()}, "lime")


def test_an_unknown_option_is_refused_with_the_methods_options(mlp):
    with pytest.raises(UserError, match="integrated_gradients: unknown option.* stepz; it takes: baseline, steps"):
        explain(mlp.model, mlp.inputs, "label", {"image": images()}, "integrated_gradients", stepz=3)


def test_an_input_of_the_wrong_shape_is_refused_with_the_expected_shape(mlp):
    expected = r"input 'image': expected a tensor of shape \(n, 1, 8, 8\), got \(4, 1, 8, 9\)"
    with pytest.raises(UserError, match=expected):
        explain(mlp.model, mlp.inputs, "label", {"image": torch.randn(4, 1, 8, 9)}, "saliency")


def test_raw_images_of_the_wrong_shape_are_refused_with_the_training_shape(mlp_run):
    with pytest.raises(UserError, match=r"expected images of shape \(height, width, channels\) = \(8, 8, 1\)"):
        ds.load(mlp_run).explain({"image": torch.zeros(2, 5, 5).numpy()}, method="saliency")


def test_load_explains_raw_values_and_writes_files_when_asked(mlp_run, tmp_path):
    predictor = ds.load(mlp_run)
    raw = (images(3).squeeze(1).numpy() * 4 + 8).clip(0, 16)  # like the digits: (n, 8, 8) in 0..16
    e = predictor.explain({"image": raw}, method="saliency")
    assert isinstance(e, Explanation) and e.attributions.shape == (3, 1, 8, 8) and "files" not in e.extra
    assert predictor.predict({"image": raw})[0]["label"] == predictor.outputs["label"].classes[int(e.targets[0])]
    written = predictor.explain({"image": raw}, method="integrated_gradients", out=tmp_path / "out").extra["files"]
    names = {p.name for p in written}
    assert {"integrated_gradients.png", "explanations.safetensors", "explanations.json"} <= names
    assert all(p.stat().st_size > 0 for p in written)


def test_batches_of_a_large_input_give_what_one_call_gives(mlp):
    x = images(10)
    whole = explain(mlp.model, mlp.inputs, "label", {"image": x}, "saliency", batch_size=64)
    batched = explain(mlp.model, mlp.inputs, "label", {"image": x}, "saliency", batch_size=4)  # 4 + 4 + 2
    assert torch.allclose(whole.attributions, batched.attributions, atol=1e-6)
    assert torch.equal(whole.targets, batched.targets) and torch.allclose(whole.scores, batched.scores)
