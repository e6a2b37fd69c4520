"""The measurements the detectors judge: activation statistics, layer norms, calibration."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from deepscope.diagnose.calibration import calibration_stats, expected_calibration_error
from deepscope.diagnose.initial import expected_initial_loss
from deepscope.diagnose.probes import ActivationProbe, WeightProbe, activation_stats


def test_dead_fraction_counts_units_zero_for_the_whole_batch():
    output = torch.relu(torch.randn(32, 8))
    output[:, :3] = 0  # three dead features
    dead, saturated = activation_stats(output, "relu").tolist()
    assert dead == pytest.approx(3 / 8) and saturated == 0


def test_dead_channels_of_a_convolution_are_counted_per_channel():
    output = torch.relu(torch.randn(4, 6, 5, 5))
    output[:, 1] = 0
    assert activation_stats(output, "relu")[0].item() == pytest.approx(1 / 6)


def test_saturated_fraction_of_sigmoid_and_tanh():
    y = torch.tensor([[0.001, 0.5, 0.999, 0.3]])
    assert activation_stats(y, "sigmoid")[1].item() == pytest.approx(0.5)
    assert activation_stats(torch.tensor([[0.995, -0.999, 0.1, 0.0]]), "tanh")[1].item() == pytest.approx(0.5)


def test_weight_probe_measures_update_relative_to_weight():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    probe = WeightProbe(model)
    assert probe.names == ["0.weight", "2.weight"]  # weight matrices only, input first
    probe.snapshot()
    with torch.no_grad():
        model[0].weight.mul_(1.1)  # an update of 10 % of the weight
    model(torch.randn(5, 4)).sum().backward()
    measured = probe.measure()
    update_ratio = measured["update_norm"][0] / measured["weight_norm"][0]
    assert update_ratio.item() == pytest.approx(0.1 / 1.1, rel=1e-4)
    assert measured["update_norm"][1].item() == 0.0
    expected_total = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()
    assert measured["total"].item() == pytest.approx(expected_total.item(), rel=1e-5)


def test_activation_probe_hooks_only_while_installed():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.Sigmoid())
    probe = ActivationProbe(model)
    assert probe.kinds() == {"1": "relu", "3": "sigmoid"}
    probe.install()
    model(torch.randn(16, 4))
    probe.remove()
    assert set(probe.stats) == {"1", "3"}
    probe.stats.clear()
    model(torch.randn(16, 4))
    assert probe.stats == {}


def test_expected_initial_loss_is_log_classes():
    assert expected_initial_loss({"label": {"type": "category", "classes": 10}}) == pytest.approx(math.log(10))
    assert expected_initial_loss({"a": {"type": "binary"}, "b": {"type": "category", "classes": 4}}) == pytest.approx(
        math.log(2) + math.log(4))
    assert expected_initial_loss({"price": {"type": "number"}}) is None


def test_expected_calibration_error_of_a_known_case():
    # 10 predictions at confidence 0.9, of which 6 are right: ECE = |0.6 - 0.9| = 0.3
    confidence = torch.full((10,), 0.9)
    correct = torch.tensor([1] * 6 + [0] * 4)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.3, abs=1e-6)


def test_temperature_scaling_fixes_an_over_confident_model():
    torch.manual_seed(0)
    targets = torch.randint(0, 5, (2000,))
    # unit Gaussian noise around a shift of 2 on the true class: the calibrated logits are 2 * scores
    scores = torch.randn(2000, 5) + 2.0 * nn.functional.one_hot(targets, 5)
    over_confident = scores * 4  # the same predictions, twice as sharp as calibrated
    stats = calibration_stats(over_confident, targets, binary=False, split="val")
    assert stats["confidence"] > stats["accuracy"] + 0.1
    assert stats["temperature"] == pytest.approx(2.0, rel=0.15)
    assert stats["ece_after"] < stats["ece"] / 3
