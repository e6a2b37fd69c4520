"""The fault zoo, for diagnoses that must name the right cause: each test plants one case in a short real training
run and checks the finding's code, layer and step or epoch, and that its advice fits the evidence.

- gradient decay is judged along the path the forward pass takes, not the order layers are defined in, and a
  constant column's embedding (no information, so no gradient) is not "the first layer";
- a learning rate too high is named as such, before the divergence and dead units it causes, with advice to
  lower it; dead units say whether they were dead at initialisation or died during training;
- a ReLU network's vanishing gradients are not blamed on sigmoid; label smoothing's loss floor is not a plateau;
- a warning printed live that the whole run no longer supports is withdrawn in the summary, with the reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import torch
from rich.console import Console
from torch import nn

import deepscope as ds
from deepscope.diagnose import Finding, Record, judge, load_diagnosis
from deepscope.diagnose.callback import Diagnostics
from deepscope.diagnose.judge import ROOT_CAUSE_ORDER, withdrawals
from deepscope.diagnose.series import initial_loss
from deepscope.models.builder import build_model
from deepscope.training.trainer import Trainer
from tests.diagnose.test_detector_contracts import hand_made_records
from tests.diagnose.test_fault_zoo import diagnose, digits, find, mlp


# --- 12: the network's actual path ------------------------------------------------------------------------------
def write_table(path: Path, rows: int = 400) -> Path:
    """Two informative numbers, a constant integer column `site`, and a label they separate cleanly."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 2, generator=g)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x1", "x2", "site", "label"])
        for (a, b) in x.tolist():
            writer.writerow([f"{a:.4f}", f"{b:.4f}", 7, "yes" if a + b > 0 else "no"])
    return path


@pytest.fixture(scope="module")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> ds.Run:
    """A healthy tabular MLP (batch norm, label smoothing 0.1 by default) on a table with a constant column."""
    folder = tmp_path_factory.mktemp("table")
    config = {"data": {"source": str(write_table(folder / "table.csv")), "outputs": {"label": "category"}},
              "model": {"encoder": {"name": "tabular", "hidden": [32, 16]}},
              "train": {"epochs": 12, "batch_size": 32, "schedule": "constant", "optimizer": {"lr": 0.01}},
              "run": {"root": str(folder / "runs"), "report": False}}
    return ds.train(config, progress=False)


def test_a_constant_columns_embedding_is_not_the_first_layer_of_vanishing_gradients(table_run):
    codes = {f.code: f for f in table_run.diagnosis}
    assert "vanishing_gradients" not in codes
    constant = codes["constant_features"]
    assert constant.severity == "info" and "site" in constant.title
    record = load_diagnosis(table_run.dir / "diagnosis.json")[1]
    embedding = "encoders.tabular.input.embeddings.site.weight"
    assert record.init["path"]["constant_input"] == [embedding]  # measured, not guessed from the name
    assert record.depth_path([embedding, "heads.label.linear.weight"])[1] == {
        embedding: "its input is the same for every example"}


class HeadFirst(nn.Module):
    """A deep sigmoid MLP that defines its output layer before its body: definition order is not depth."""

    def __init__(self, depth: int = 12):
        super().__init__()
        torch.manual_seed(0)
        self.head = nn.Linear(64, 10)
        self.body = nn.Sequential(*[m for _ in range(depth) for m in (nn.Linear(64, 64), nn.Sigmoid())])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def test_a_deep_sigmoid_network_is_flagged_at_the_ends_of_its_real_path():
    findings, diagnostics = diagnose(HeadFirst(), digits(), epochs=2, lr=0.1, optimizer="sgd")
    finding = find(findings, "vanishing_gradients")
    assert diagnostics.record.samples[0]["layers"][0]["name"] == "head.weight"  # first by definition
    assert finding.layer == finding.evidence["first_layer"] == "body.0.weight"
    assert finding.evidence["last_layer"] == "head.weight" and finding.evidence["layers"] == 13
    assert finding.advice[0].startswith("replace sigmoid")  # the activations it really has


# --- 13: advice that fits the cause -----------------------------------------------------------------------------
def test_a_learning_rate_of_1_is_too_high_and_named_before_what_it_causes():
    findings, diagnostics = diagnose(mlp([64, 128, 128, 10]), digits(), epochs=3, lr=1.0)
    high = find(findings, "lr_too_high", severity=("error",))  # as severe as the blow-up it caused
    assert high.evidence["lr"] == 1.0 and high.evidence["suggested_lr"] < 1.0
    assert f"to about {high.evidence['suggested_lr']:g}" in high.advice[0] and high.advice[0].startswith("lower")
    assert diagnostics.record.first_step["step"] == 1 and high.evidence["early_update_ratio"] > 0.1
    codes = [f.code for f in findings]
    assert codes.index("lr_too_high") < codes.index("divergence") < codes.index("dead_units")
    dead = next(f for f in findings if f.code == "dead_units")
    assert re.search(r"died during training \(after step \d+\)", dead.title)
    assert dead.evidence["at_initialisation"] is False and dead.evidence["dead_at_initialisation"] < 0.5
    assert dead.evidence["alive_at_step"] < dead.step == dead.evidence["dead_by_step"]
    assert "lower the learning rate" in dead.advice[0]
    assert not any("raise the learning rate" in a for f in findings for a in f.advice)


def test_units_dead_at_initialisation_are_blamed_on_the_initialisation():
    findings, _ = diagnose(mlp([64, 128, 128, 10], bias=-3.0), digits(), epochs=2, lr=1e-3)
    dead = find(findings, "dead_units")
    assert "were dead at initialisation" in dead.title and dead.evidence["at_initialisation"] is True
    assert dead.layer == "1" and dead.evidence["dead_at_initialisation"] > 0.99
    assert "biases at zero" in dead.advice[0] and "-3" in dead.advice[0]
    assert not any("learning rate" in advice for advice in dead.advice)
    codes = [f.code for f in findings]
    assert codes.index("bias_init") < codes.index("dead_units")  # the cause first


def test_vanishing_gradients_in_a_deep_relu_network_are_not_blamed_on_sigmoid():
    findings, _ = diagnose(mlp([64] + [64] * 20 + [10]), digits(), epochs=2, lr=0.01, optimizer="sgd")
    finding = find(findings, "vanishing_gradients")
    assert finding.layer == "0.weight" and finding.evidence["last_layer"] == "40.weight"
    assert finding.evidence["activations"] == {"relu": 20}
    assert "Kaiming" in finding.advice[0] and not any("sigmoid" in advice for advice in finding.advice)
    assert "not the cause" in finding.explanation


def test_label_smoothing_sets_a_loss_floor_that_is_not_a_plateau(table_run):
    record = load_diagnosis(table_run.dir / "diagnosis.json")[1]
    assert table_run.history[-1]["val.accuracy"] >= 0.95  # a model that fits
    assert record.task["outputs"]["label"]["label_smoothing"] == 0.1
    assert "plateau" not in {f.code for f in table_run.diagnosis}
    # the case at hand: measured from 0 instead of the floor, the same record reads as a plateau far from fitted
    assert record.series("train.loss")[-1] > 0.3 * initial_loss(record)
    del record.task["outputs"]["label"]["label_smoothing"]
    assert "plateau" in {f.code for f in judge(record)}


def test_a_flat_loss_while_one_cycle_anneals_the_rate_is_not_a_plateau():
    """Hand-made: loss flat over the last epochs, where one-cycle has annealed the rate to a hundredth of its peak."""
    history = [{"epoch": i + 1, "train.loss": loss, "lr": lr} for i, (loss, lr) in
               enumerate(zip([2.3, 1.9, 1.6, 1.6, 1.6, 1.6, 1.6], [0.5, 1.0, 0.6, 0.05, 0.02, 0.01, 0.001]))]
    at_peak = [{**h, "lr": 1.0} for h in history]
    task = {"lr": 1.0, "schedule": "onecycle", "outputs": {"label": {"type": "category", "classes": 10}}}
    assert "plateau" not in {f.code for f in judge(Record(task=task, history=history, init={"loss": 2.3}))}
    assert "plateau" in {f.code for f in judge(Record(task=task, history=at_peak, init={"loss": 2.3}))}


def test_every_code_the_detectors_give_has_a_place_in_the_root_cause_order():
    codes = {f.code for record in hand_made_records().values() for f in judge(record)}
    assert codes <= set(ROOT_CAUSE_ORDER), sorted(codes - set(ROOT_CAUSE_ORDER))


# --- 14: live warnings that the whole run takes back ------------------------------------------------------------
def test_a_live_warning_the_whole_run_no_longer_supports_is_withdrawn_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr("deepscope.diagnose.callback.LIVE_INTERVAL", 0.0)  # judge at every epoch end
    out = io.StringIO()
    diagnostics = Diagnostics(console=Console(file=out, width=200, color_system=None), path=tmp_path / "d.json")
    trainer = Trainer(epochs=12, batch_size=64, optimizer="sgd", lr=0.02, schedule="constant",
                      loss="cross_entropy", callbacks=[diagnostics])
    data = digits()
    trainer.fit(mlp([64, 64, 10]), data["train"], data["val"])  # slow to start, then it learns
    text = out.getvalue()
    assert diagnostics.withdrawn, text
    entry = diagnostics.withdrawn[0]
    live_line = next(line for line in text.splitlines() if line.startswith("▲ warning") and entry["title"] in line)
    assert text.index(live_line) < text.index("Diagnosis:")  # printed while training ...
    assert entry["code"] not in {f.code for f in diagnostics.findings if f.severity != "info"}  # ... not at the end
    history = diagnostics.record.history
    then, last = history[entry["shown_at_epoch"] - 1]["train.loss"], history[-1]["train.loss"]
    assert last < then and "the evidence for it is gone" in entry["reason"]
    summary = text[text.index("Diagnosis:"):]
    assert "shown during training withdrawn" in summary.splitlines()[0]
    assert f"↺ withdrawn  {entry['title']}  (shown at epoch {entry['shown_at_epoch']})" in summary
    assert entry["reason"] in summary.replace("\n    ", " ")
    saved = json.loads((tmp_path / "d.json").read_text())
    assert saved["withdrawn"][0]["code"] == entry["code"]


def test_a_live_warning_found_at_the_end_only_as_information_is_withdrawn_as_such():
    """Hand-made: underfitting warned at epoch 3, and at the end only a consequence of dead units."""
    now = Finding("underfitting", "info", "Underfitting: training loss is still 60% of where it started",
                  "The loss has settled. This is most likely a consequence of: dead_units.")
    live = {"code": "underfitting", "severity": "warning", "title": "Underfitting: 80%", "shown_at_epoch": 3}
    history = [{"epoch": e, "train.loss": 2.0 - 0.1 * e} for e in range(1, 9)]
    [entry] = withdrawals([live], [now], history)
    assert entry["reason"] == ("judged again on all 8 epochs, it is a consequence of dead_units now: "
                               "Underfitting: training loss is still 60% of where it started")
    assert withdrawals([live], [Finding("underfitting", "warning", "Underfitting: 70%", "")], history) == []


# --- a gated cell's gradient through time, and advice that never names the cell in use -------------------------
def recent_sums(n: int, steps: int, seed: int) -> dict[str, torch.Tensor]:
    """A regression on noise (n, steps, 1): the sum of every step, so the gates must open to the first ones."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, steps, 1, generator=g)
    return {"series": x, "y": x.sum(dim=(1, 2))}


def test_a_grus_fade_at_initialisation_that_training_opens_is_not_vanishing_gradients(monkeypatch):
    """examples/pm25.yaml's shape: a one-way GRU over 48 steps, clipped at 1. Its gates start half open, so the
    first step gets ~1e-10 of the last step's gradient; within two epochs training opens them. Judged live at every
    epoch end and at the end, that is no finding (it was an error at epoch 1 advising "use an lstm or gru")."""
    monkeypatch.setattr("deepscope.diagnose.callback.LIVE_INTERVAL", 0.0)
    description = {"name": "series", "type": "timeseries", "kind": "sequence", "channels": 1, "length": 48}
    torch.manual_seed(0)
    model = build_model({"encoder": {"name": "gru", "hidden": 32, "bidirectional": False}},
                                  {"series": description}, {"y": {"name": "y", "type": "number", "kind": "tabular"}})
    diagnostics = Diagnostics(console=Console(file=io.StringIO(), width=200, color_system=None))
    trainer = Trainer(epochs=4, batch_size=32, lr=3e-3, grad_clip=1.0, callbacks=[diagnostics])
    history = trainer.fit(model, recent_sums(1024, 48, 0), recent_sums(256, 48, 1))
    record = diagnostics.record
    assert record.task["recurrent"] == {"encoders.series.rnn": "gru"}
    ratios = [layer["grad_smallest"] / layer["grad_largest"] for s in record.samples for layer in s["recurrent"]]
    assert ratios[0] < 1e-6 < 1e-3 < ratios[-1]  # the planted start, and the gates open
    assert history[-1]["val.r2"] > 0.5  # it learns the task
    assert not [key for key in diagnostics.shown if key.startswith("vanishing_gradients")]  # not even live
    assert "vanishing_gradients" not in {f.code for f in diagnostics.findings}


def fading_record(cell: str | None, ratios: list[float], epochs_done: int = 10) -> Record:
    """A recurrent layer over 48 steps whose weakest step gets `ratios` of the strongest, one sample each."""
    samples = [{"step": 10 * (i + 1), "epoch": 1, "loss": 0.7, "lr": 1e-3, "grad_norm": 1.0, "layers": [],
                "activations": [], "recurrent": [{"name": "encoders.history.rnn", "steps": 48, "grad_first": r,
                                                  "grad_last": 1.0, "grad_smallest": r, "grad_largest": 1.0}]}
               for i, r in enumerate(ratios)]
    task = {"epochs": 10, **({"recurrent": {"encoders.history.rnn": cell}} if cell else {})}
    history = [{"epoch": e + 1, "train.loss": 0.69} for e in range(epochs_done)]
    return Record(samples=samples, history=history, init={"loss": 0.7}, task=task)


def severities_of(record: Record) -> list[str]:
    return [f.severity for f in judge(record, only=["vanishing_gradients"])]


def test_through_time_advice_depends_on_the_cell_and_a_lifting_fade_is_information():
    gru = judge(fading_record("gru", [1e-8] * 6), only=["vanishing_gradients"])[0]
    assert gru.severity == "error" and gru.evidence["cell"] == "gru" and "This is a GRU" in gru.explanation
    assert not any("lstm" in advice or "gru" in advice for advice in gru.advice)  # never the cell in use
    assert "Plain tanh RNNs" not in gru.explanation
    plain = judge(fading_record("rnn", [1e-8] * 6), only=["vanishing_gradients"])[0]
    assert plain.advice[0].startswith("use an lstm or gru")
    # the model as it is now: early samples that faded, late ones that do not, are no finding
    assert judge(fading_record("rnn", [1e-9, 1e-9, 1e-2, 1e-2]), only=["vanishing_gradients"]) == []
    lifting = [1e-9, 1e-9, 1e-8, 1e-7, 1e-7, 1e-7]  # still opening when training ended: information
    [opening] = judge(fading_record("gru", lifting), only=["vanishing_gradients"])
    assert opening.severity == "info" and opening.evidence["lift_since_start"] == pytest.approx(100)
    assert "lifting: 100x" in opening.explanation
    underflowed = [0.0, 0.0, 1e-30, 1e-30]  # from 0, no lift to measure: judged as it is
    assert severities_of(fading_record("rnn", underflowed)) == ["error"]
    # a gated cell before half its epochs: its gates start half shut, training has not had its chance yet
    assert judge(fading_record("lstm", [1e-8] * 3, epochs_done=2), only=["vanishing_gradients"]) == []
    assert judge(fading_record("lstm", [1e-8] * 3, epochs_done=5), only=["vanishing_gradients"]) != []
    assert judge(fading_record("rnn", [1e-8] * 3, epochs_done=2), only=["vanishing_gradients"]) != []


def test_a_recurrent_layers_own_state_weights_are_not_a_layer_of_depth():
    names = ["encoders.history.rnn.weight_ih_l0", "encoders.history.rnn.weight_hh_l0",
             "encoders.history.rnn.weight_hh_l0_reverse", "heads.pm2.5.linear.weight"]
    path, left_out = Record().depth_path(names)
    assert path == ["encoders.history.rnn.weight_ih_l0", "heads.pm2.5.linear.weight"]
    assert set(left_out) == {names[1], names[2]} and "through time" in left_out[names[1]]
