"""The fault zoo for sequence models: a plain RNN asked to remember the first of 200 steps, without gradient
clipping, is diagnosed with vanishing gradients through time in its recurrent layer; healthy LSTM and
Transformer runs on an easy sequence task raise no warning. Also the through-time judgements on hand-made
records."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from deepscope.diagnose import Finding, Record, judge
from deepscope.diagnose.callback import Diagnostics
from deepscope.diagnose.initial import layer_init_scales
from deepscope.diagnose.probes import WeightProbe
from deepscope.models.builder import build_model
from deepscope.training.trainer import Trainer, TrainingDiverged

OUTPUT = {"label": {"name": "label", "type": "category", "kind": "tabular", "cardinality": 2}}


def series(n: int, steps: int, label: str, seed: int) -> dict[str, torch.Tensor]:
    """Noise (n, steps, 1) with a binary label: the sign of the first value, or of the sum of all values."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, steps, 1, generator=g)
    if label == "first":  # a long-range dependency: the answer is 199 steps before the last state
        y = torch.randint(0, 2, (n,), generator=g)
        x[:, 0, 0] = 2.0 * y - 1
    else:  # every step counts a little: easy for any sequence model
        y = (x.sum(dim=(1, 2)) > 0).long()
    return {"series": x, "label": y}


def diagnose(encoder: dict, steps: int, label: str, *, epochs: int, lr: float, grad_clip=None):
    description = {"name": "series", "type": "timeseries", "kind": "sequence", "channels": 1, "length": steps}
    torch.manual_seed(0)
    model = build_model({"encoder": encoder}, {"series": description}, OUTPUT)
    diagnostics = Diagnostics(live=False)
    trainer = Trainer(epochs=epochs, batch_size=32, lr=lr, grad_clip=grad_clip, callbacks=[diagnostics])
    try:
        history = trainer.fit(model, series(512, steps, label, 0), series(256, steps, label, 1))
    except TrainingDiverged as error:
        return model, error.diagnosis, [], diagnostics
    return model, diagnostics.findings, history, diagnostics


def find(findings: list[Finding], *codes: str) -> Finding:
    matches = [f for f in findings if f.code in codes and f.severity in ("warning", "error")]
    assert matches, f"expected {codes}; found {[(f.code, f.severity) for f in findings]}"
    return matches[0]


def test_a_plain_rnn_over_200_steps_without_clipping_has_vanishing_gradients_through_time():
    model, findings, history, _ = diagnose({"name": "rnn", "hidden": 32, "bidirectional": False}, 200, "first",
                                           epochs=2, lr=1e-3, grad_clip=0)
    finding = find(findings, "vanishing_gradients", "exploding_gradients")
    assert finding.layer == "encoders.series.rnn" == finding.evidence["recurrent_layer"]
    assert isinstance(model.get_submodule(finding.layer), nn.RNN)
    assert finding.evidence["steps"] == 200 and finding.evidence["ratio"] < 1e-6
    assert finding.evidence["grad_first_step"] < 1e-6 * finding.evidence["grad_last_step"]  # the start is cut off
    assert any("lstm" in advice for advice in finding.advice)
    assert max(h["val.accuracy"] for h in history) < 0.65  # and so it cannot learn the task
    # not learning is explained by the fading gradient, and the RNN's own initialisation is not blamed
    assert {f.code for f in findings if f.severity != "info"} == {"vanishing_gradients"}


@pytest.mark.parametrize("encoder", [{"name": "lstm", "hidden": 32},
                                     {"name": "transformer", "d_model": 32, "heads": 2}], ids=["lstm", "transformer"])
def test_healthy_sequence_models_raise_no_warning(encoder):
    _, findings, history, diagnostics = diagnose(encoder, 30, "sum", epochs=5, lr=3e-3)
    assert history[-1]["val.accuracy"] > 0.85  # it learns the task
    assert [(f.code, f.title) for f in findings if f.severity != "info"] == []
    recurrent = [s.get("recurrent") for s in diagnostics.record.samples]
    assert all(recurrent) if encoder["name"] == "lstm" else not any(recurrent)  # measured through time where it applies


# --- the through-time judgements on hand-made records ---------------------------------------------------------------
def record(first: float, last: float, smallest: float, largest: float, *, train_losses: list[float],
           grad_clip: float | None = None) -> Record:
    samples = [{"step": s, "epoch": 1, "loss": 0.7, "lr": 1e-3, "grad_norm": 1.0, "layers": [], "activations": [],
                "recurrent": [{"name": "encoders.text.rnn", "steps": 50, "grad_first": first, "grad_last": last,
                               "grad_smallest": smallest, "grad_largest": largest}]} for s in (10, 20, 30)]
    history = [{"epoch": i + 1, "train.loss": loss} for i, loss in enumerate(train_losses)]
    return Record(samples=samples, history=history, init={"loss": 0.7, "grad_norm": 1.0},
                  task={"grad_clip": grad_clip})


def severities(record: Record, code: str) -> list[str]:
    return [f.severity for f in judge(record, only=[code])]


def test_a_fading_gradient_is_a_problem_when_training_fails_and_information_when_it_learns():
    fading = {"first": 1e-9, "last": 1.0, "smallest": 1e-9, "largest": 1.0}
    assert severities(record(**fading, train_losses=[0.69, 0.69, 0.68]), "vanishing_gradients") == ["error"]
    assert severities(record(**fading, train_losses=[0.5, 0.2, 0.1]), "vanishing_gradients") == ["info"]
    assert severities(record(1e-4, 1.0, 1e-4, 1.0, train_losses=[0.69, 0.69]), "vanishing_gradients") == ["warning"]
    assert severities(record(0.1, 1.0, 0.05, 1.0, train_losses=[0.69, 0.69]), "vanishing_gradients") == []


def test_a_gradient_growing_back_through_time_is_exploding():
    finding = judge(record(1e4, 1.0, 1.0, 1e4, train_losses=[0.69, 0.69]), only=["exploding_gradients"])[0]
    assert finding.severity == "warning" and finding.layer == "encoders.text.rnn"
    assert finding.evidence["growth"] == 1e4 and "first of 50 steps" in finding.title


def test_growing_gradient_norms_under_clipping_are_information():
    growing = Record(samples=[{"step": 10, "epoch": 1, "loss": 0.5, "lr": 1e-3, "grad_norm": 100.0, "layers": [],
                               "activations": []}], init={"grad_norm": 1.0})
    assert severities(growing, "exploding_gradients") == ["warning"]
    growing.task["grad_clip"] = 1.0
    assert severities(growing, "exploding_gradients") == ["info"]
    growing.nonfinite = {"step": 12, "epoch": 1, "where": "loss", "layer": None}  # clipping did not save it
    assert severities(growing, "exploding_gradients") == ["warning"]


def test_recurrent_input_weights_are_judged_against_the_hidden_size():
    # PyTorch's RNN init: U(-1/sqrt(32), 1/sqrt(32)) for every weight, so std 0.102 with one input channel
    layers = [{"name": "rnn.weight_ih_l0", "fan_in": 1, "weight_std": 0.102, "gain": 0.102 * 1},
              {"name": "rnn.weight_hh_l0", "fan_in": 32, "weight_std": 0.102, "gain": 0.102 * 32**0.5},
              {"name": "head.weight", "fan_in": 64, "weight_std": 0.001, "gain": 0.001 * 8}]
    findings = judge(Record(init={"layers": layers}), only=["init_scale"])
    assert [f.evidence["gain_by_layer"] for f in findings] == [{"head.weight": 0.008}]


def test_embedding_tables_are_not_judged_by_fan_in():
    """nn.Embedding starts at N(0, 1): a looked-up row, not a sum over 128 inputs (which would be gain 11)."""
    model = nn.Sequential(nn.Embedding(100, 128), nn.Linear(128, 2))
    layers = layer_init_scales(WeightProbe(model), model)
    assert [layer.get("lookup", False) for layer in layers] == [True, False]
    assert layers[0]["gain"] > 3  # what the fan-in rule would have complained about
    assert judge(Record(init={"layers": layers}), only=["init_scale"]) == []
