"""Faithfulness checks against cases whose answer is known: a linear model, whose true attribution is w * x; exact
integrated gradients; a trained MLP against a map that ignores the model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients
from scipy.stats import spearmanr
from torch import nn

from deepscope.errors import DataError
from deepscope.explain.faithfulness import (
    Faithfulness,
    RandomisationResult,
    area,
    completeness_error,
    deletion_curve,
    faithfulness_findings,
    insertion_curve,
    measure_faithfulness,
    randomisation_check,
)
from deepscope.explain.faithfulness.randomisation import rank_correlation

N, D = 64, 50


def linear_case(seed: int = 0):
    """score(x) = w . x / sum(w), positive weights and inputs in [0, 1]: removing unit i lowers the score by
    w_i x_i / sum(w), so w * x is the true attribution and removing it in that order is the fastest way down."""
    g = torch.Generator().manual_seed(seed)
    model = nn.Linear(D, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.randn(1, D, generator=g).abs() / D)
    x = torch.rand(N, D, generator=g)
    return (lambda inputs: model(inputs).squeeze(1)), model, x


def gradient_times_input(scores, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(scores(x).sum(), x)
    return gradient * x.detach()


def test_the_true_attribution_of_a_linear_model_beats_random_order():
    scores, model, x = linear_case()
    attributions = gradient_times_input(scores, x)
    assert torch.allclose(attributions, model.weight.detach() * x)  # the true attribution, by autograd
    f = measure_faithfulness("gradient_times_input", scores, x, attributions, 0.0)
    assert f.deletion_area < 0.75 * f.deletion_random_area
    assert f.insertion_area > 1.25 * f.insertion_random_area
    assert f.beats_random and faithfulness_findings(f) == []
    # both curves run from the intact input to the all-baseline one (or back)
    full = scores(x).mean().item()
    assert f.curves["deletion"][0] == pytest.approx(full) and f.curves["deletion"][-1] == pytest.approx(0.0)
    assert f.curves["insertion"][0] == pytest.approx(0.0) and f.curves["insertion"][-1] == pytest.approx(full)


def test_a_map_of_random_noise_is_no_better_than_random_and_is_flagged():
    scores, _, x = linear_case()
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    f = measure_faithfulness("noise", scores, x, noise, 0.0)
    assert abs(f.deletion_gain) < 0.1 and not f.beats_random
    (finding,) = faithfulness_findings(f)
    assert finding.code == "explanation_not_faithful" and finding.severity == "warning"
    assert "no faster than removing random ones" in finding.explanation
    assert finding.evidence["deletion_area"] == f.deletion_area
    assert finding.evidence["deletion_random_area"] == f.deletion_random_area


def test_a_value_output_is_judged_the_same_in_any_units():
    """A regression's score has no natural zero: shifted below zero and scaled (standardised units), the true
    attribution must still beat random by the same share, and noise must still not."""
    scores, model, x = linear_case()
    attributions = gradient_times_input(scores, x)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    for shift, scale in ((0.0, 1.0), (-5.0, 1.0), (-5.0, 30.0)):
        in_units = lambda inputs, shift=shift, scale=scale: scale * scores(inputs) + shift  # noqa: E731
        f = measure_faithfulness("gxi", in_units, x, scale * attributions, 0.0, values=True)
        if (shift, scale) == (-5.0, 1.0):
            assert f.deletion_random_area < 0  # where a ratio to the random area would mean nothing
        assert f.beats_random and f.insertion_gain > 0.1, (shift, scale)
        reference = measure_faithfulness("gxi", scores, x, attributions, 0.0, values=True)
        assert f.deletion_gain == pytest.approx(reference.deletion_gain, rel=1e-4)
        assert not measure_faithfulness("noise", in_units, x, noise, 0.0, values=True).beats_random


def test_curves_are_batched_and_equal_the_per_example_ones():
    scores, _, x = linear_case()
    attributions = gradient_times_input(scores, x)
    calls = []
    def counted(inputs):
        calls.append(len(inputs))
        return scores(inputs)
    batched = deletion_curve(counted, x, attributions, 0.0, steps=10)
    assert calls == [N] * 11  # one pass of the whole batch per step, no loop over examples
    one_by_one = np.mean([deletion_curve(scores, x[i : i + 1], attributions[i : i + 1], 0.0, steps=10)
                          for i in range(N)], axis=0)
    assert np.allclose(batched, one_by_one, atol=1e-6)
    inserted = np.mean([insertion_curve(scores, x[i : i + 1], attributions[i : i + 1], 0.0, steps=10)
                        for i in range(N)], axis=0)
    assert np.allclose(insertion_curve(scores, x, attributions, 0.0, steps=10), inserted, atol=1e-6)


def test_random_order_is_seeded_and_ties_are_broken_by_the_generator():
    scores, _, x = linear_case()
    flat = torch.zeros_like(x)  # every unit ties: the order is the generator's
    first = deletion_curve(scores, x, flat, 0.0, generator=torch.Generator().manual_seed(3))
    again = deletion_curve(scores, x, flat, 0.0, order="random", generator=torch.Generator().manual_seed(3))
    other = deletion_curve(scores, x, flat, 0.0, order="random", generator=torch.Generator().manual_seed(4))
    assert np.array_equal(first, again) and not np.array_equal(again, other)


def test_an_image_map_removes_a_pixel_in_every_channel_and_the_baseline_broadcasts():
    x = torch.rand(4, 3, 5, 5) + 1.0  # no pixel equals the baseline
    attributions = torch.rand(4, 1, 5, 5)
    baseline = torch.tensor([[[-1.0]], [[-2.0]], [[-3.0]]])  # one value per channel, (C, 1, 1)
    seen = []
    def scores(inputs):
        seen.append(inputs.clone())
        return inputs.mean(dim=(1, 2, 3))
    deletion_curve(scores, x, attributions, baseline, steps=5)
    for step, inputs in enumerate(seen):
        removed = inputs < 0  # (n, 3, 5, 5)
        assert torch.equal(removed[:, 0], removed[:, 1]) and torch.equal(removed[:, 0], removed[:, 2])
        assert removed[:, 0].sum(dim=(1, 2)).tolist() == [round(step * 25 / 5)] * 4
        top = attributions[:, 0].flatten(1).argmax(dim=1)
        assert removed[:, 0].flatten(1)[torch.arange(4), top].all() == (step > 0)  # the top pixel goes first
    assert torch.equal(seen[-1], baseline.expand_as(x))


def test_integer_inputs_keep_their_type():
    """Token ids: the baseline (the padding id) replaces ids and the scores function still sees integers."""
    ids = torch.randint(1, 100, (3, 8))
    seen = []
    def scores(inputs):
        seen.append(inputs.dtype)
        return (inputs > 0).float().mean(dim=1)
    curve = deletion_curve(scores, ids, torch.rand(3, 8), 0, steps=4)
    assert set(seen) == {torch.int64} and curve[0] == 1.0 and curve[-1] == 0.0


def test_mismatched_shapes_are_refused_with_a_clear_message():
    scores, _, x = linear_case()
    with pytest.raises(DataError, match=r"attributions of shape \(64, 49\) do not fit inputs of shape \(64, 50\)"):
        deletion_curve(scores, x, torch.rand(N, D - 1), 0.0)
    with pytest.raises(DataError, match=r"attributions of shape \(63, 50\)"):
        insertion_curve(scores, x, torch.rand(N - 1, D), 0.0)
    with pytest.raises(DataError, match=r"a baseline of shape \(7,\) does not fit inputs of shape \(64, 50\)"):
        deletion_curve(scores, x, torch.rand(N, D), torch.zeros(7))
    with pytest.raises(DataError, match="one score per example"):
        completeness_error(torch.rand(N, D), torch.rand(N - 1), torch.rand(1))


def test_area_is_the_trapezoid_over_the_unit_interval():
    assert area([1.0, 1.0]) == 1.0 and area([0.0, 0.5, 1.0]) == 0.5 and area([1.0, 0.0, 0.0]) == 0.25
    with pytest.raises(ValueError, match="at least two"):
        area([1.0])


def test_exact_integrated_gradients_of_a_linear_model_are_complete_and_a_wrong_sum_is_flagged():
    scores, model, x = linear_case()
    baseline = torch.zeros_like(x)
    ig = IntegratedGradients(scores).attribute(x, baselines=baseline, n_steps=16)
    errors = completeness_error(ig, scores(x), scores(baseline))
    assert errors.shape == (N,) and errors.max() < 1e-4
    wrong = completeness_error(ig * 0.7, scores(x), scores(baseline))  # 30 % of the change unaccounted for
    assert np.allclose(wrong, 0.3, atol=1e-4)
    f = measure_faithfulness("integrated_gradients", scores, x, ig * 0.7, baseline, completeness=wrong)
    (finding,) = [f for f in faithfulness_findings(f) if f.code == "completeness_error"]
    assert finding.severity == "warning" and finding.evidence["completeness_error"] == pytest.approx(0.3, abs=1e-4)
    assert "n_steps" in finding.advice[0]
    f.completeness_error = 0.08
    assert [f.severity for f in faithfulness_findings(f) if f.code == "completeness_error"] == ["info"]
    f.completeness_error = 0.01
    assert not [f for f in faithfulness_findings(f) if f.code == "completeness_error"]


def test_completeness_error_falls_with_more_integration_steps_on_a_curved_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1), nn.Sigmoid())
    scores = lambda inputs: net(inputs).squeeze(1)  # noqa: E731
    x, baseline = torch.randn(32, 6) * 3, torch.zeros(32, 6)
    def error(steps: int) -> float:
        ig = IntegratedGradients(scores).attribute(x, baselines=baseline, n_steps=steps, method="riemann_left")
        return float(completeness_error(ig, scores(x), scores(baseline)).mean())
    assert error(300) < 0.02 < error(2)


def trained_mlp() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """An MLP trained to read the first 3 of 12 features (a few hundred steps, well under a second)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 12, generator=g)
    y = (x[:, 0] + 2 * x[:, 1] - x[:, 2] > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    assert (model(x).argmax(1) == y).float().mean() > 0.95
    return model.eval(), x[:64], y[:64]


def gradient_times_input_of(model: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    logits = model(x).gather(1, targets[:, None]).sum()
    (gradient,) = torch.autograd.grad(logits, x)
    return gradient * x.detach()


def test_gradient_times_input_passes_the_randomisation_check_and_the_model_is_left_alone():
    model, x, y = trained_mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng_before = torch.get_rng_state()
    result = randomisation_check(model, lambda m: gradient_times_input_of(m, x, y), seed=0)
    assert result.layers == ["4", "2", "0"]  # output layer first
    assert len(result.correlations) == 3 and result.correlations[-1] < result.threshold and result.passes
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng_before)
    again = randomisation_check(model, lambda m: gradient_times_input_of(m, x, y), seed=0)
    assert again.correlations == result.correlations  # seeded


def test_a_map_that_ignores_the_model_fails_the_check_and_says_so():
    model, x, _ = trained_mlp()
    result = randomisation_check(model, lambda m: x)  # the input itself, like an edge detector
    assert result.correlations == [1.0, 1.0, 1.0] and not result.passes
    f = Faithfulness("edges", 0.1, 0.5, 0.6, 0.3, randomisation=result)
    (finding,) = faithfulness_findings(f)
    assert finding.code == "explanation_ignores_model" and finding.severity == "warning"
    assert "rank correlation 1" in finding.explanation and "not what the model learned" in finding.explanation
    assert finding.evidence["final_correlation"] == 1.0 and list(finding.evidence["correlation_by_stage"]) == \
        ["4", "2", "0"]


def test_signs_from_the_model_sizes_from_the_input_pass_with_a_note_on_the_sizes():
    """Integrated gradients' case: (input - baseline) x gradient. The signs follow the weights, the sizes follow
    the input whatever the weights: the signed maps pass, |map| would not, and a finding says so."""
    model, x, y = trained_mlp()
    signs = lambda m: torch.sign(gradient_times_input_of(m, x, y))  # noqa: E731
    result = randomisation_check(model, lambda m: x.abs() * signs(m), seed=0)
    assert result.passes and result.final < 0.3
    assert result.magnitude_correlations == [1.0, 1.0, 1.0] and result.magnitude_final == 1.0
    codes = {f.code: f for f in faithfulness_findings(Faithfulness("ig", 0.1, 0.5, 0.6, 0.3, randomisation=result))}
    assert set(codes) == {"explanation_sizes_follow_input"}
    finding = codes["explanation_sizes_follow_input"]
    assert finding.severity == "info" and "signs follow the model" in finding.title


class HeadFirst(nn.Module):
    """Defines its head before its encoder, and holds a bare parameter with no reset_parameters of its own."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 2)
        self.encoder = nn.Linear(3, 4)
        self.scale = nn.Parameter(torch.arange(4.0) + 1)

    def forward(self, x):
        return self.head(self.encoder(x) * self.scale)


def test_layers_are_re_drawn_in_the_forward_pass_order_from_the_top():
    model = HeadFirst()
    x = torch.randn(8, 3)
    result = randomisation_check(model, lambda m: m(x))
    # the head runs last, so it goes first; the model's own parameter is reached when its forward starts
    assert result.layers == ["head", "encoder", "(HeadFirst)"]
    assert torch.equal(model.scale, torch.arange(4.0) + 1)  # shuffled on the copy only


def test_rank_correlation_is_spearmans_with_ties_and_constant_maps():
    g = np.random.default_rng(0)
    a, b = g.integers(0, 4, (5, 30)).astype(float), g.normal(size=(5, 30))  # many ties in a
    expected = [spearmanr(a[i], b[i]).statistic for i in range(5)]
    assert np.allclose(rank_correlation(a, b), expected)
    flat = np.zeros((1, 30))
    assert rank_correlation(flat, b[:1]).tolist() == [0.0] and rank_correlation(flat, flat).tolist() == [1.0]


def test_faithfulness_to_dict_is_json():
    result = RandomisationResult(["2", "0"], [0.4, 0.1])
    f = Faithfulness("saliency", 0.2, 0.5, 0.6, 0.3, 0.01, result, {"deletion": [1.0, 0.5]})
    data = json.loads(json.dumps(f.to_dict()))
    assert data["randomisation"] == {"layers": ["2", "0"], "correlations": [0.4, 0.1], "final": 0.1,
                                     "threshold": 0.5, "passes": True, "magnitude_correlations": None,
                                     "magnitude_final": None}
    assert data["values"] is False
    assert data["deletion_gain"] == pytest.approx(0.6) and data["beats_random"] is True
    assert data["completeness_error"] == 0.01 and data["curves"] == {"deletion": [1.0, 0.5]}
