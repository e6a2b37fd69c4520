"""The fault zoo: each test plants one pathology in a small real training run (the bundled 8x8 digits) and
checks that the diagnostics name it, with evidence pointing at the right layer or epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

import deepscope as ds
from deepscope.diagnose import Finding, load_diagnosis
from deepscope.diagnose.callback import Diagnostics
from deepscope.training.trainer import Trainer, TrainingDiverged


def digits(train_size: int | None = None, *,
           shuffle_labels: bool = False) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    x, y = x[order], y[order]
    train, val = (x[:1400], y[:1400]), (x[1400:], y[1400:])
    if train_size:
        train = (train[0][:train_size], train[1][:train_size])
    if shuffle_labels:
        train = (train[0], train[1][torch.randperm(len(train[1]), generator=torch.Generator().manual_seed(1))])
    return {"train": train, "val": val}


def mlp(widths: list[int], activation: type[nn.Module] = nn.ReLU, bias: float | None = None) -> nn.Sequential:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        linear = nn.Linear(n_in, n_out)
        if bias is not None:
            nn.init.constant_(linear.bias, bias)
        layers += [linear, activation()]
    return nn.Sequential(*layers[:-1])


def diagnose(model: nn.Module, data: dict, *, epochs: int, lr: float,
             optimizer: str = "adam") -> tuple[list[Finding], Diagnostics]:
    diagnostics = Diagnostics(live=False)
    trainer = Trainer(epochs=epochs, batch_size=64, optimizer=optimizer, lr=lr, schedule="constant",
                      loss="cross_entropy", callbacks=[diagnostics])
    try:
        trainer.fit(model, data["train"], data["val"])
    except TrainingDiverged as error:
        return error.diagnosis, diagnostics
    return diagnostics.findings, diagnostics


def find(findings: list[Finding], *codes: str, severity: tuple[str, ...] = ("warning", "error")) -> Finding:
    matches = [f for f in findings if f.code in codes and f.severity in severity]
    assert matches, f"expected {codes} at {severity}; found {[(f.code, f.severity) for f in findings]}"
    return matches[0]


def test_deep_sigmoid_network_has_vanishing_gradients():
    model = mlp([64] + [64] * 20 + [10], activation=nn.Sigmoid)
    findings, _ = diagnose(model, digits(), epochs=3, lr=0.1, optimizer="sgd")
    finding = find(findings, "vanishing_gradients")
    assert finding.layer == "0.weight"  # the layer nearest the input
    assert finding.evidence["ratio"] < 1e-6 and finding.evidence["layers"] == 21


def test_learning_rate_10_without_normalisation_diverges():
    findings, _ = diagnose(mlp([64, 128, 128, 10]), digits(), epochs=2, lr=10.0, optimizer="sgd")
    finding = find(findings, "divergence", "exploding_gradients", severity=("error",))
    assert finding.step is not None and finding.step <= 20
    assert {"divergence", "exploding_gradients"} <= {f.code for f in findings}


def test_wide_network_on_200_examples_overfits_from_the_epoch_validation_loss_turned():
    findings, diagnostics = diagnose(mlp([64, 1024, 1024, 10]), digits(200), epochs=100, lr=1e-3)
    finding = find(findings, "overfitting")
    history = diagnostics.record.history
    best = min(history, key=lambda h: h["val.loss"])["epoch"]
    assert finding.epoch == best + 1 == finding.evidence["onset_epoch"]
    assert finding.evidence["train_loss_last"] < 0.01 < finding.evidence["val_loss_last"]
    assert any("early stopping would have stopped at epoch" in advice for advice in finding.advice)


def test_large_negative_bias_kills_relu_units():
    findings, _ = diagnose(mlp([64, 128, 128, 10], bias=-3.0), digits(), epochs=3, lr=1e-3)
    finding = find(findings, "dead_units")
    assert finding.layer in ("1", "3") and finding.evidence["dead_fraction_by_layer"][finding.layer] > 0.99
    assert find(findings, "bias_init").evidence["bias_mean_by_layer"]["0"] == -3.0


def test_shuffled_labels_learn_nothing():
    findings, _ = diagnose(mlp([64, 256, 256, 10]), digits(shuffle_labels=True), epochs=10, lr=1e-3)
    finding = find(findings, "no_learning")
    assert finding.evidence["val_accuracy_best"] <= finding.evidence["chance_accuracy"] + 0.05


def test_learning_rate_1e_minus_7_is_too_low():
    findings, _ = diagnose(mlp([64, 128, 128, 10]), digits(), epochs=3, lr=1e-7)
    finding = find(findings, "lr_too_low")
    assert finding.evidence["largest_update_ratio"] < 1e-5
    assert "1e-04" in finding.advice[0] or "0.0001" in finding.advice[0]


def test_healthy_mlp_has_no_warning():
    findings, _ = diagnose(mlp([64, 128, 10]), digits(), epochs=8, lr=3e-3)
    assert [f.code for f in findings if f.severity != "info"] == []


# --- data pathologies, planted in the files a user would train on -------------------------------------------------
def write_npz(path: Path, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]) -> Path:
    np.savez(path, train_images=train[0], train_labels=train[1], test_images=test[0], test_labels=test[1])
    return path


def digit_images() -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_digits(return_X_y=True)
    return (images.reshape(-1, 8, 8) * 16).clip(0, 255).astype(np.uint8), labels


def train_npz(path: Path, tmp_path: Path) -> ds.Run:
    config = {"data": {"source": str(path), "outputs": {"label": "category"}, "split": {"val": 0.1}},
              "model": {"encoder": "mlp"},
              "train": {"epochs": 3, "batch_size": 64}, "run": {"root": str(tmp_path / "runs")}}
    return ds.train(config, progress=False)


def test_test_rows_copied_from_training_are_reported_as_leakage(tmp_path):
    images, labels = digit_images()
    train, test = (images[:1400], labels[:1400]), (images[1400:1650].copy(), labels[1400:1650].copy())
    copied = np.random.default_rng(0).choice(1400, size=50, replace=False)  # 20 % of the 250 test rows
    test[0][:50], test[1][:50] = images[copied], labels[copied]
    run = train_npz(write_npz(tmp_path / "leaky.npz", train, test), tmp_path)
    finding = find(run.diagnosis, "leakage", severity=("error",))
    # validation is carved out of the training file, so a copied row may have gone there: count independently
    in_train = {image.tobytes() for image in run.data.raw.splits["train"]["image"]}
    expected = sum(image.tobytes() in in_train for image in run.data.raw.splits["test"]["image"])
    assert 45 <= expected <= 50 and finding.evidence["train_test"] == expected
    assert finding.layer == "test" and finding.evidence["share"] == round(expected / 250, 4)
    saved, _ = load_diagnosis(run.dir / "diagnosis.json")
    assert "leakage" in {f.code for f in saved}


def test_a_95_to_5_class_imbalance_is_reported(tmp_path):
    images, labels = digit_images()
    zeros, ones = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
    rows = np.concatenate([zeros[:171], ones[:9]])  # 95 % zeros, 5 % ones
    keep = np.concatenate([zeros[171:], ones[9:]])
    run = train_npz(write_npz(tmp_path / "imbalanced.npz", (images[rows], labels[rows]), (images[keep], labels[keep])),
                    tmp_path)
    finding = find(run.diagnosis, "class_imbalance")
    counts = finding.evidence["counts"]  # the training split (validation is carved out of the 180 rows)
    assert finding.evidence["rarest"] == "1" and counts["0"] + counts["1"] == len(run.data.splits["train"])
    assert finding.evidence["shares"]["1"] == pytest.approx(0.05, abs=0.01)
    assert any("class_weights" in advice for advice in finding.advice)


def test_a_nan_in_the_inputs_is_traced_to_its_step_and_first_layer():
    data = digits()
    x, y = data["train"]
    x = x.clone()
    x[300] = float("nan")  # one corrupt example, met in the first epoch
    findings, diagnostics = diagnose(mlp([64, 128, 128, 10]), {"train": (x, y), "val": data["val"]}, epochs=2, lr=1e-3)
    finding = find(findings, "divergence", severity=("error",))
    assert finding.layer == "0.weight"  # the layer the corrupt input reaches first
    assert "NaN" in finding.title and finding.step is not None and finding.step <= 22
    assert diagnostics.record.nonfinite["step"] == finding.step


def test_the_unhealthy_example_reports_vanishing_gradients(tmp_path):
    example = Path(__file__).parents[2] / "examples" / "faults-deep-sigmoid.yaml"
    run = ds.train(example, {"run.root": str(tmp_path), "train.epochs": 2}, progress=False)
    assert find(run.diagnosis, "vanishing_gradients").layer == "encoders.image.layers.1.weight"
    assert [f.code for f in run.diagnosis if f.severity != "info"] == ["vanishing_gradients"]
