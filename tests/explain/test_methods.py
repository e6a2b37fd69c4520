"""Every registered attribution method, on every kind of model it applies to: the shape of the input, finite
values; integrated gradients against its definition (completeness); and a table with a planted informative
column and a planted noise column, ranked right by permutation importance and by integrated gradients."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

import deepscope as ds
from deepscope.errors import UserError
from deepscope.explain.api import applicable_methods, expected_shape, explain
from deepscope.explain.methods import METHODS
from deepscope.explain.methods.permutation import permutation_importance
from deepscope.explain.spaces import TABLE
from deepscope.explain.view import ScoreView
from deepscope.models.saving import load_model
from deepscope.run.explain import explain_run
from tests.conftest import NEGATIVE_REVIEWS as NEGATIVE
from tests.conftest import POSITIVE_REVIEWS as POSITIVE
from tests.conftest import monthly_series, tone_folders, write_reviews


def _train(config, tmp_path_factory):
    config = {**config, "run": {"root": str(tmp_path_factory.mktemp("runs"))}}
    return load_model(ds.train(config, progress=False).dir)


def digits(encoder: dict) -> dict:
    return {"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
            "model": {"encoder": encoder}, "train": {"epochs": 1}}


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    return _train(digits({"name": "mlp", "hidden": [32]}), tmp_path_factory)


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    return _train(digits({"name": "cnn", "filters": [8], "dense": 32}), tmp_path_factory)


@pytest.fixture(scope="module")
def transformer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reviews")
    write_reviews(folder, 6)
    return _train({"data": {"source": str(folder / "reviews.csv"), "inputs": {"review": "text"},
                            "outputs": {"sentiment": "category"}, "split": {"val": 0.0, "test": 0.0}},
                   "model": {"encoder": {"name": "transformer", "d_model": 16, "heads": 2, "layers": 1}},
                   "train": {"epochs": 5, "batch_size": 16, "optimizer": {"lr": 0.01}}}, tmp_path_factory)


def planted_table(folder, rows: int = 600, seed: int = 0):
    """`informative` decides the label; `weak` nudges it; `noise` has nothing to do with it."""
    rng = np.random.default_rng(seed)
    informative, weak, noise = rng.normal(size=(3, rows))
    label = (informative + 0.3 * weak > 0).astype(int)
    path = folder / "planted.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["noise", "informative", "weak", "label"])  # noise first: the order must not decide
        writer.writerows(zip(noise.round(4), informative.round(4), weak.round(4), label))
    return path


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = planted_table(tmp_path_factory.mktemp("table"))
    return _train({"data": {"source": str(path), "inputs": {"noise": "number", "informative": "number",
                                                            "weak": "number"},
                            "outputs": {"label": "category"}},
                   "model": {"encoder": {"name": "mlp", "hidden": [32]}},
                   "train": {"epochs": 8, "batch_size": 64, "optimizer": {"lr": 0.01}}}, tmp_path_factory)


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory):
    series = {"time": "Month", "lookback": 6, "horizon": 3, "holdout": 6, "val": 6}
    return _train({"data": {"source": monthly_series(tmp_path_factory.mktemp("series")), "series": series},
                   "model": {"encoder": {"name": "mlp", "hidden": [16]}}, "train": {"epochs": 2}}, tmp_path_factory)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """Tones read through the audio feature, by a CNN."""
    tones = tone_folders(tmp_path_factory.mktemp("speech"))
    return _train({"data": {"source": tones, "split": {"val": 0.0, "test": 0.0}},
                   "model": {"encoder": {"name": "cnn", "filters": [4], "dense": 8}},
                   "train": {"epochs": 2, "batch_size": 8}}, tmp_path_factory)


def batch_of(saved, n: int = 6) -> dict[str, torch.Tensor]:
    if "image" in saved.inputs:
        return {"image": torch.randn(n, *saved.inputs["image"].shape)}
    if "review" in saved.inputs:
        return {"review": saved.inputs["review"].encode((POSITIVE + NEGATIVE)[:n])}
    if "audio" in saved.inputs:
        return {"audio": torch.randn(n, *expected_shape(saved.inputs["audio"])) * 0.1}
    if any(f.type == "timeseries" for f in saved.inputs.values()):
        name, feature = next(iter(saved.inputs.items()))
        return {name: torch.randn(n, *expected_shape(feature))}
    return {name: torch.randn(n) for name in saved.inputs}


MODELS = ["mlp", "cnn", "transformer", "table", "forecaster", "speech"]


@pytest.mark.parametrize("model_name", MODELS)
def test_every_method_that_applies_gives_finite_attributions_of_the_inputs_shape(model_name, request):
    saved = request.getfixturevalue(model_name)
    output = next(iter(saved.outputs))
    view = ScoreView(saved.model, saved.inputs, output)
    fitting = applicable_methods(view)
    assert fitting, "every model has methods that apply"
    for name in fitting:
        batch = batch_of(saved)
        e = explain(saved.model, saved.inputs, output, batch, name, outputs=saved.outputs)
        assert e.method == name and len(e) == 6
        assert torch.broadcast_shapes(e.attributions.shape, e.inputs.shape) == e.inputs.shape, name
        assert torch.isfinite(e.attributions).all(), name
        assert e.attributions.abs().sum() > 0, f"{name} attributes nothing"
        assert e.scores.shape == (6,) and torch.isfinite(e.scores).all()
        recomputed = ScoreView(saved.model, saved.inputs, output).bind(batch).scores(e.inputs, e.targets)
        assert torch.allclose(e.scores, recomputed, atol=1e-6), f"{name}: scores reused from the wrong pass"
        if view.classifies:
            assert ((e.scores >= 0) & (e.scores <= 1)).all()


def test_saliency_reads_its_scores_from_its_own_forward_pass(cnn):
    """One forward pass per call, as bare Captum's: the explanation's scores come from it, not from one more
    (the target is given: finding each example's predicted class would take a pass of its own)."""
    calls = []
    handle = cnn.model.register_forward_hook(lambda *_: calls.append(1))
    try:
        explain(cnn.model, cnn.inputs, "label", batch_of(cnn), "saliency", target="3", outputs=cnn.outputs)
    finally:
        handle.remove()
    assert len(calls) == 1


def test_every_registered_method_applies_to_one_of_the_test_models(mlp, cnn, transformer, table):
    covered = set()
    for saved in (mlp, cnn, transformer, table):
        covered |= set(applicable_methods(ScoreView(saved.model, saved.inputs, next(iter(saved.outputs)))))
    assert covered == set(METHODS.names())


def test_methods_fit_the_models_they_should(mlp, cnn, transformer, table, forecaster):
    def fitting(saved):
        return set(applicable_methods(ScoreView(saved.model, saved.inputs, next(iter(saved.outputs)))))

    assert "grad_cam" in fitting(cnn) and "grad_cam" not in fitting(mlp)
    assert "attention" in fitting(transformer) and "attention" not in fitting(cnn)
    assert "permutation" in fitting(table) and "permutation" not in fitting(cnn)
    # one channel: nothing to shuffle against; the series' own steps are what integrated gradients shows
    assert "permutation" not in fitting(forecaster) and "grad_cam" not in fitting(forecaster)
    with pytest.raises(UserError, match="permutation shuffles one channel of a series.*only one; methods that apply"):
        explain(forecaster.model, forecaster.inputs, "Passengers", batch_of(forecaster), "permutation")


def test_audio_is_explained_on_the_spectrogram_the_model_computes(speech):
    e = explain(speech.model, speech.inputs, "label", batch_of(speech), "integrated_gradients")
    assert e.modality == "audio" and e.inputs.shape == (6, *speech.inputs["audio"].describe()["shape"][1:])
    assert e.attributions.shape == e.inputs.shape and e.extra["delta"].abs().max() < 0.05


def test_a_forecast_is_explained_over_lookback_steps_and_channels(forecaster):
    e = explain(forecaster.model, forecaster.inputs, "Passengers", batch_of(forecaster), "integrated_gradients")
    assert e.modality == "series" and e.attributions.shape == (6, 6, e.inputs.shape[2])
    assert (e.targets == 0).all()  # a forecast's next step, unless a target names another
    later = explain(forecaster.model, forecaster.inputs, "Passengers", batch_of(forecaster), "saliency", target=2)
    assert (later.targets == 2).all()


def test_text_attributions_are_one_score_per_token(transformer):
    e = explain(transformer.model, transformer.inputs, "sentiment", batch_of(transformer), "integrated_gradients")
    assert [len(t) for t in e.tokens] == [len(s.split()) for s in (POSITIVE + NEGATIVE)[:6]]
    assert e.tokens[1] == ["warm", "and", "funny"]
    padding = e.inputs == 0
    assert (e.attributions[padding] == 0).all()  # no score for padding


def test_attention_gives_weights_per_layer_and_head_and_a_rollout(transformer):
    e = explain(transformer.model, transformer.inputs, "sentiment", batch_of(transformer), "attention")
    weights, rollout = e.extra["attention"], e.extra["rollout"]
    assert weights.shape[:3] == (6, 1, 2) and weights.shape[-1] == weights.shape[-2]
    assert torch.allclose(weights.sum(dim=-1), torch.ones(weights.shape[:-1]), atol=1e-4)  # softmax rows
    assert torch.allclose(rollout.sum(dim=-1), torch.ones(rollout.shape[:-1]), atol=1e-4)


TINY_TRANSFORMER = {"name": "transformer", "d_model": 8, "heads": 2, "layers": 2}


@pytest.mark.parametrize("modality", ["series", "audio"])
def test_attention_of_a_transformer_over_a_series_or_a_spectrogram_is_explained_and_drawn(modality, tmp_path):
    """Attention is not only for text: a Transformer forecaster and a Transformer over spectrogram frames."""
    if modality == "series":
        data = {"source": monthly_series(tmp_path), "series": {"time": "Month", "lookback": 6, "horizon": 3,
                                                                 "holdout": 6, "val": 6}}
    else:
        data = {"source": tone_folders(tmp_path / "tones"), "split": {"val": 0.0, "test": 0.25}}
    run = ds.train({"data": data, "model": {"encoder": TINY_TRANSFORMER}, "train": {"epochs": 1},
                    "run": {"root": str(tmp_path / "runs")}}, progress=False)
    result = explain_run(run.dir, split="test", n=4, method="attention", out_dir=tmp_path / "out")
    e = result.explanations["attention"]
    steps = e.extra["rollout"].shape[-1] - (1 if e.extra.get("cls") else 0)
    assert e.modality == modality and e.extra["attention"].shape[1:3] == (2, 2)  # layers, heads
    assert e.attributions.shape == ((len(e), steps, 1) if modality == "series" else (len(e), 1, steps))
    assert torch.allclose(e.extra["rollout"].sum(dim=-1), torch.ones(e.extra["rollout"].shape[:-1]), atol=1e-4)
    assert (tmp_path / "out" / "attention.png").stat().st_size > 0


def test_integrated_gradients_add_up_to_the_change_in_score(mlp):
    """Completeness (Sundararajan et al. 2017): sum of attributions = f(x) - f(baseline), checked directly."""
    x = torch.randn(5, 1, 8, 8)
    e = explain(mlp.model, mlp.inputs, "label", {"image": x}, "integrated_gradients", steps=200)
    with torch.no_grad():
        at_x = mlp.model({"image": x})["label"].softmax(-1).gather(1, e.targets[:, None]).squeeze(1)
        at_zero = mlp.model({"image": torch.zeros_like(x)})["label"].softmax(-1).gather(1, e.targets[:, None])
    change = at_x - at_zero.squeeze(1)
    assert torch.allclose(e.attributions.sum(dim=(1, 2, 3)), change, atol=2e-3)
    assert e.extra["delta"].abs().max() < 2e-3  # Captum's convergence delta says the same
    assert torch.allclose(e.scores, at_x)


@pytest.mark.parametrize("baseline", ["zeros", "blurred", "mean"])
def test_integrated_gradients_takes_each_baseline(cnn, baseline):
    x = torch.randn(4, 1, 8, 8)
    e = explain(cnn.model, cnn.inputs, "label", {"image": x}, "integrated_gradients", baseline=baseline)
    assert e.extra["baseline"] == baseline and torch.isfinite(e.attributions).all()
    if baseline == "blurred":
        assert e.baseline.shape == x.shape and not torch.allclose(e.baseline, torch.zeros_like(x))
    else:  # images are standardised with the training mean: encoded zeros ARE the mean
        assert (e.baseline == 0).all()


def _planted_rows(saved, tmp_path):
    path = planted_table(tmp_path, rows=300, seed=1)
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    return {name: saved.inputs[name].encode([float(r[name]) for r in rows]) for name in saved.inputs}


def test_planted_informative_column_ranks_first_and_noise_last(table, tmp_path):
    batch = _planted_rows(table, tmp_path)
    view = ScoreView(table.model, table.inputs, "label")
    assert view.input_name == TABLE
    ig = explain(table.model, table.inputs, "label", batch, "integrated_gradients", outputs=table.outputs)
    by_ig = dict(zip(ig.labels, ig.attributions.abs().mean(dim=0).tolist()))
    ranked_ig = sorted(by_ig, key=by_ig.get, reverse=True)
    targets = explain(table.model, table.inputs, "label", batch, "saliency").targets
    importance = permutation_importance(view, batch, targets, repeats=10)
    ranked_permutation = [label for label, *_ in importance.ranked()]
    assert ranked_ig[0] == "informative" and ranked_ig[-1] == "noise", by_ig
    assert ranked_permutation[0] == "informative" and ranked_permutation[-1] == "noise", importance.ranked()
    informative = importance.labels.index("informative")
    noise = importance.labels.index("noise")
    assert importance.low[informative] > importance.high[noise]  # the intervals do not overlap
    assert importance.low[noise] < 0.02  # shuffling noise costs (next to) nothing
