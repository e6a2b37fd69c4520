"""Column names a CSV can hold and PyTorch cannot: `pm2.5` (the Beijing air-quality table's target), `y.z`,
names of ModuleDict attributes (`type`, `values`). They work as outputs and inputs, in metric keys, the run store,
the report, the dashboard and the command line's overrides."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
import yaml
from fastapi.testclient import TestClient
from torch import nn
from typer.testing import CliRunner

import deepscope as ds
from deepscope.cli.main import app, register
from deepscope.config.overrides import apply_overrides, resolve_path
from deepscope.errors import ConfigError
from deepscope.models.builder import build_model
from deepscope.models.layers.by_name import ModulesByName, column_name, module_key
from deepscope.run.runs import list_runs
from deepscope.ui import create_app

AWKWARD = ["pm2.5", "y.z", "type", "values", "training", "a%2Eb", "%", "naïve.col", "..", "x"]


def test_module_keys_are_valid_distinct_and_reversible():
    keys = [module_key(name) for name in AWKWARD]
    assert len(set(keys)) == len(keys) and [column_name(k) for k in keys] == AWKWARD
    assert module_key("label") == "label" and module_key("pm2.5") == "pm2%2E5"  # plain names keep their keys
    modules = ModulesByName({name: nn.Linear(1, 1) for name in AWKWARD})  # nn.ModuleDict refuses most of these
    assert list(modules) == AWKWARD and [n for n, _ in modules.items()] == AWKWARD
    assert "pm2.5" in modules and "pm2" not in modules and isinstance(modules["type"], nn.Linear)
    assert all(key.count(".") == 1 for key in modules.state_dict())  # "<module>.weight": no dot in the module
    modules.pop("values")
    assert "values" not in modules and len(modules) == len(AWKWARD) - 1


def test_a_model_with_dotted_inputs_and_outputs_saves_and_loads(tmp_path):
    inputs = {"y.z": {"name": "y.z", "type": "category", "kind": "tabular", "cardinality": 3},
              "type": {"name": "type", "type": "category", "kind": "tabular", "cardinality": 2},
              "TEMP": {"name": "TEMP", "type": "number", "kind": "tabular"}}
    outputs = {"pm2.5": {"name": "pm2.5", "type": "number", "kind": "tabular"}}
    model = build_model({}, inputs, outputs).eval()  # eval: no dropout, so two forward passes agree
    batch = {"y.z": torch.tensor([0, 2]), "type": torch.tensor([1, 0]), "TEMP": torch.tensor([0.5, -1.0])}
    assert set(model(batch)) == {"pm2.5"} and model(batch)["pm2.5"].shape[0] == 2
    again = build_model({}, inputs, outputs).eval()
    again.load_state_dict(model.state_dict())  # the same keys, whatever the names
    assert torch.equal(again(batch)["pm2.5"], model(batch)["pm2.5"])


@pytest.mark.parametrize(("existing", "override", "path"), [
    ({"outputs": {"pm2.5": "number"}}, "data.outputs.pm2.5.loss", ["data", "outputs", "pm2.5", "loss"]),
    ({"outputs": {}}, "data.outputs.pm2.5", ["data", "outputs", "pm2.5"]),  # a digit continues the name
    ({"inputs": {"y.z": "category"}}, "data.inputs.y.z", ["data", "inputs", "y.z"]),
    ({"inputs": {}}, 'data.inputs."y.z".type', ["data", "inputs", "y.z", "type"]),
    ({"inputs": {}}, "data.inputs.'a=b'", ["data", "inputs", "a=b"]),
    ({"series": {"fill": {"pm2.5": "ffill"}}}, "data.series.fill.pm2.5", ["data", "series", "fill", "pm2.5"]),
    ({}, "train.optimizer.lr", ["train", "optimizer", "lr"]),
])
def test_overrides_keep_dotted_column_names_whole(existing, override, path):
    assert resolve_path({"data": existing}, override) == path


def test_overrides_set_options_of_dotted_columns_and_refuse_broken_keys():
    raw = {"data": {"outputs": {"pm2.5": "number"}}, "train": {"optimizer": "adam"}}
    apply_overrides(raw, ["data.outputs.pm2.5.loss=huber", 'data.inputs."y.z"=category', "train.optimizer.lr=0.1"])
    assert raw["data"]["outputs"] == {"pm2.5": {"type": "number", "loss": "huber"}}
    assert raw["data"]["inputs"] == {"y.z": "category"} and raw["train"]["optimizer"] == {"name": "adam", "lr": 0.1}
    for broken, message in (('data.inputs."y.z=1', "key.path=value"), ("data..x=1", "empty name"),
                            ('data.inputs."y"z=1', "quoted name must be followed")):
        with pytest.raises(ConfigError, match=message):
            apply_overrides({}, [broken])


def air_quality(rows: int = 240) -> str:
    """The shape of the Beijing PM2.5 table: a row number `No`, weather, a wind direction, and `pm2.5`."""
    generator = np.random.default_rng(0)
    lines = ["No,month,TEMP,y.z,pm2.5,is.windy"]
    for i in range(rows):
        temperature, wind = generator.normal(10, 5), ["NW", "SE", "cv"][i % 3]
        pm = 50 + 3 * temperature + (25 if wind == "SE" else 0) + generator.normal(0, 3)
        lines.append(f"{i + 1},{i % 12 + 1},{temperature:.1f},{wind},{pm:.1f},{'yes' if wind == 'NW' else 'no'}")
    return "\n".join(lines) + "\n"


def deepscope(*argv: str) -> str:
    """`deepscope ARGV` in this process (the CLI's own parser and code, without importing torch again)."""
    register()
    result = CliRunner().invoke(app, list(argv), env={"COLUMNS": "200"})
    assert result.exit_code == 0, (argv, result.output, result.exception)
    return result.output


def test_dotted_columns_train_end_to_end_through_the_cli_store_report_and_dashboard(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "air.csv").write_text(air_quality())
    config = {"data": {"source": "air.csv", "inputs": {"TEMP": "number", "y.z": "category", "month": "number"},
                       "outputs": {"pm2.5": "number", "is.windy": "binary"}},
              "train": {"epochs": 2, "batch_size": 32}, "run": {"root": "runs", "name": "air"}}
    (tmp_path / "air.yaml").write_text(yaml.safe_dump(config))
    deepscope("train", "air.yaml", "data.outputs.pm2.5.loss=huber", "train.monitor=val.pm2.5.rmse")
    (run,) = (tmp_path / "runs").glob("air-*")  # air-YYYYmmdd-HHMMSS
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["data"]["outputs"]["pm2.5"]["loss"] == "huber" and saved["train"]["monitor"] == "val.pm2.5.rmse"
    finals = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    test = next(row for row in finals if row.get("split") == "test")
    assert {"pm2.5.rmse", "is.windy.accuracy"} <= set(test)

    rows = json.loads(deepscope("runs", "list", "--root", "runs", "--sort", "test.pm2.5.rmse", "--json"))
    table = deepscope("runs", "list", "--root", "runs", "--where", "test.pm2.5.rmse>0")
    assert run.name in table and "test.pm2.5.rmse" in table
    assert [r["name"] for r in rows] == [run.name] and rows[0]["metrics"]["test.pm2.5.rmse"] == test["pm2.5.rmse"]
    assert rows[0]["params"]["data.outputs.pm2.5.loss"] == "huber"
    assert [r["name"] for r in list_runs(tmp_path / "runs", where=["test.pm2.5.rmse>0"])] == [run.name]

    report = (run / "report.html").read_text()
    assert "pm2.5" in report and "could not be drawn" not in report
    client = TestClient(create_app(tmp_path / "runs"), base_url="http://127.0.0.1")  # a name the dashboard answers to
    api = client.get("/api/runs").json()
    assert api["count"] == 1 and api["runs"][0]["metrics"]["val.is.windy.accuracy"] >= 0
    series = client.get(f"/api/runs/{run.name}/metrics/val.pm2.5.rmse").json()
    assert series["direction"] == "min" and len(series["points"]) == 2

    predictor = ds.load(run)
    predicted = predictor.predict({"TEMP": ["10.0"], "y.z": ["SE"], "month": ["3"]})
    assert set(predicted[0]) >= {"pm2.5", "is.windy"} and np.isfinite(predicted[0]["pm2.5"])


def test_a_report_rebuilt_from_the_folder_reloads_the_dotted_model(tmp_path, caplog):
    (tmp_path / "air.csv").write_text(air_quality(120))
    run = ds.train({"data": {"source": str(tmp_path / "air.csv"), "inputs": {"TEMP": "number", "y.z": "category"},
                             "outputs": {"pm2.5": "number"}},
                    "train": {"epochs": 1}, "run": {"root": str(tmp_path / "runs"), "report": False}}, progress=False)
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        path = ds.report(run.dir)  # the model loaded from model/ and the data prepared again
    html = path.read_text()
    assert "could not be drawn" not in html and "pm2.5" in html and not caplog.records


def test_layer_names_shown_to_a_person_read_pm2_5_not_its_escaped_module_key(tmp_path):
    (tmp_path / "air.csv").write_text(air_quality(120))
    run = ds.train({"data": {"source": str(tmp_path / "air.csv"), "inputs": {"TEMP": "number", "y.z": "category"},
                             "outputs": {"pm2.5": "number"}},
                    "train": {"epochs": 1}, "run": {"root": str(tmp_path / "runs")}}, progress=False)
    saved = (run.dir / "diagnosis.json").read_text()
    record = json.loads(saved)["record"]
    names = [layer["name"] for layer in record["first_step"]["layers"]]
    assert "heads.pm2.5.linear.weight" in names and "heads.pm2.5.linear.weight" in record["init"]["path"]["order"]
    embedding = next(layer for layer in record["init"]["layers"] if "y.z" in layer["name"])
    assert embedding.get("lookup") is True  # still known as an embedding table under its readable name
    for shown in (saved, (run.dir / "report.html").read_text()):
        assert "%2E" not in shown  # the escaped key is PyTorch's, never the reader's
    assert f"heads.{module_key('pm2.5')}.linear.weight" in run.model.state_dict()  # the weights keep PyTorch's key
