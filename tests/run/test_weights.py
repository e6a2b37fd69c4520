"""`data.weights: {balance: COLUMN}`: per-example loss weights that make each group weigh the same in training.

The reference is the definition written out here: weight n / (G * n_g), and the batch loss sum(w * l) / sum(w)
of the per-example losses PyTorch computes; without the option the loss is PyTorch's own mean, bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.data.features import describe_features
from deepscope.data.prepare import prepare_data
from deepscope.data.weights import EXAMPLE_WEIGHT, balance_weights
from deepscope.errors import ConfigError, DataError
from deepscope.models.builder import build_model

N = 200  # 180 of group "a", 20 of group "b": the planted 90/10 column


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """x (an input), group (90/10, not an input), y (binary), kind (3 classes), value (a number)."""
    rng = np.random.default_rng(0)
    lines = ["x,group,y,kind,value"]
    for i in range(N):
        group = "a" if i % 10 else "b"
        lines.append(f"{rng.normal():.4f},{group},{'yes' if rng.random() < 0.4 else 'no'},k{i % 3},{rng.normal():.3f}")
    path = tmp_path / "planted.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _prepared(table: Path, output: dict, weights: dict | None = None):
    data = {"source": str(table), "inputs": {"x": "number"}, "outputs": output, "split": {"val": 0.25, "test": 0.0}}
    if weights is not None:
        data["weights"] = weights
    config = load_config({"data": data})
    prepared = prepare_data(config.data)
    torch.manual_seed(0)
    model = build_model(config.model.model_dump(exclude_none=True), describe_features(prepared.inputs),
                        describe_features(prepared.outputs))
    return prepared, model.eval()  # no dropout: the loss is compared with one computed from the same outputs


def test_balance_weights_follow_the_definition_on_a_planted_90_10_column():
    group = np.array(["a"] * 90 + ["b"] * 10, dtype=object)
    weights = balance_weights({"group": group}, ["group"])
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights[:90], 100 / (2 * 90), rtol=1e-6)  # 0.556
    np.testing.assert_allclose(weights[90:], 100 / (2 * 10), rtol=1e-6)  # 5.0
    assert weights[:90].sum() == pytest.approx(weights[90:].sum()) == pytest.approx(50.0)  # each group: n / G
    assert weights.mean() == pytest.approx(1.0)


def test_joint_groups_of_two_columns_and_a_missing_value_as_its_own_group():
    sex = np.array(["m", "m", "m", "f", "f", None], dtype=object)
    income = np.array(["hi", "lo", "lo", "lo", "lo", "lo"], dtype=object)
    weights = balance_weights({"sex": sex, "income": income}, ["sex", "income"])
    # groups (m, hi) 1, (m, lo) 2, (f, lo) 2, (None, lo) 1: G = 4, n = 6
    np.testing.assert_allclose(weights, [6 / 4, 6 / 8, 6 / 8, 6 / 8, 6 / 8, 6 / 4], rtol=1e-6)


def test_the_binary_loss_is_the_weighted_mean_written_out(table):
    prepared, model = _prepared(table, {"y": "binary"}, {"balance": "group"})
    train = prepared.splits["train"]
    raw_group = prepared.raw.splits["train"]["group"]
    counts = {g: int((raw_group == g).sum()) for g in ("a", "b")}
    assert counts["b"] < counts["a"] / 5  # the planted imbalance survives the split
    expected_weights = torch.tensor([len(raw_group) / (2 * counts[g]) for g in raw_group], dtype=torch.float32)
    torch.testing.assert_close(train.tensors[EXAMPLE_WEIGHT], expected_weights)

    batch = next(train.batches(64))
    outputs = model(batch)
    w = expected_weights[:64]
    per_example = F.binary_cross_entropy_with_logits(outputs["y"], batch["y"], reduction="none")
    torch.testing.assert_close(model.loss(outputs, batch), (w * per_example).sum() / w.sum())


def test_the_category_loss_with_label_smoothing_is_the_weighted_mean_written_out(table):
    prepared, model = _prepared(table, {"kind": {"type": "category", "label_smoothing": 0.1}}, {"balance": "group"})
    batch = next(prepared.splits["train"].batches(64))
    outputs = model(batch)
    logits, target, w = outputs["kind"], batch["kind"], batch[EXAMPLE_WEIGHT]
    log_p = logits.log_softmax(dim=1)
    classes = logits.shape[1]
    per_example = -(0.9 * log_p.gather(1, target[:, None]).squeeze(1) + 0.1 / classes * log_p.sum(dim=1))
    torch.testing.assert_close(model.loss(outputs, batch), (w * per_example).sum() / w.sum())


def test_the_regression_loss_is_the_weighted_mean_written_out(table):
    prepared, model = _prepared(table, {"value": "number"}, {"balance": ["group", "y"]})
    batch = next(prepared.splits["train"].batches(64))
    outputs = model(batch)
    z, w = outputs["value"], batch[EXAMPLE_WEIGHT]
    per_example = (z - batch["value"]) ** 2
    torch.testing.assert_close(model.loss(outputs, batch), (w * per_example).sum() / w.sum())


def test_without_the_option_nothing_changes_bit_for_bit(table):
    prepared, model = _prepared(table, {"y": "binary"})
    weighted, _ = _prepared(table, {"y": "binary"}, {"balance": "group"})
    assert EXAMPLE_WEIGHT not in prepared.splits["train"].tensors
    batch = next(prepared.splits["train"].batches(64))
    assert set(batch) == {"x", "y"}
    outputs = model(batch)
    assert torch.equal(model.loss(outputs, batch), F.binary_cross_entropy_with_logits(outputs["y"], batch["y"]))
    # the same rows and encodings either way: the option adds the weights and touches nothing else
    for name, tensor in prepared.splits["train"].tensors.items():
        assert torch.equal(weighted.splits["train"].tensors[name], tensor)


def test_validation_and_test_stay_unweighted_and_a_weighted_run_trains(table, tmp_path):
    prepared, _ = _prepared(table, {"y": "binary"}, {"balance": "group"})
    assert EXAMPLE_WEIGHT not in prepared.splits["val"].tensors
    config = {"data": {"source": str(table), "inputs": {"x": "number"}, "outputs": {"y": "binary"},
                       "weights": {"balance": "group"}},
              "train": {"epochs": 1, "batch_size": 32}, "diagnose": False, "run": {"report": False}}
    run = ds.train(config, {"run.root": str(tmp_path)}, progress=False)
    assert run.metrics["test"]["n"] == 40 and 0.0 <= run.metrics["test"]["accuracy"] <= 1.0
    assert load_config(run.dir / "config.yaml").data.weights.balance == ["group"]  # the run says how it trained


def test_bad_weights_are_clear_errors(table):
    with pytest.raises(DataError, match=r"data.weights.balance: no column 'sexx' in the data; columns are: x, group"):
        _prepared(table, {"y": "binary"}, {"balance": "sexx"})
    with pytest.raises(DataError, match=r"data.weights.balance: value make .* groups .* more than 100"):
        _prepared(table, {"y": "binary"}, {"balance": "value"})
    with pytest.raises(ConfigError, match="balance"):
        load_config({"data": {"source": str(table), "weights": {"balance": []}}})
    series = {"source": str(table), "weights": {"balance": "group"}, "series": {"time": "x"}}
    with pytest.raises(ConfigError, match=r"data.weights: does not apply to a series"):
        prepare_data(load_config({"data": series}).data)
