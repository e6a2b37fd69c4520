"""Forecasting: the metrics against their definitions, the evaluation against hand-made forecasts, a whole run,
forecasts from a CSV's tail, and the published baselines on the real series."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, mean_squared_error

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.data.features import describe_features
from deepscope.data.prepare import prepare_data
from deepscope.data.timeseries import read_series
from deepscope.metrics import ForecastMetrics
from deepscope.models.builder import build_model
from deepscope.run.forecast import evaluate_forecasts, forecast_from_csv, forecast_table


def test_metrics_match_scikit_learn_and_the_smape_definition():
    rng = np.random.default_rng(0)
    actual = rng.uniform(50, 150, size=(7, 4))
    forecast = actual + rng.normal(0, 10, size=(7, 4))
    metric = ForecastMetrics()
    for rows in (slice(0, 3), slice(3, 7)):  # two batches
        metric.update(torch.tensor(forecast[rows]), torch.tensor(actual[rows]))
    result = metric.compute()
    assert result["mae"] == pytest.approx(mean_absolute_error(actual.ravel(), forecast.ravel()))
    assert result["rmse"] == pytest.approx(np.sqrt(mean_squared_error(actual.ravel(), forecast.ravel())))
    assert result["mape"] == pytest.approx(100 * mean_absolute_percentage_error(actual.ravel(), forecast.ravel()))
    smape = 100 * np.mean(2 * np.abs(forecast - actual) / (np.abs(actual) + np.abs(forecast)))
    assert result["smape"] == pytest.approx(smape)
    assert result["mae_by_step"] == pytest.approx(np.abs(forecast - actual).mean(axis=0).tolist())
    assert result["n"] == 7


def write_series(path: Path, n: int, *, header: str = '"Month","Sales"', start: str = "2000-01") -> Path:
    times = np.datetime64(start) + np.arange(n)
    values = 200 + 2 * np.arange(n) + 30 * np.sin(2 * np.pi * np.arange(n) / 12)
    path.write_text("\r\n".join([header, *(f'"{t}",{v:.2f}' for t, v in zip(times, values))]))
    return path


def copy_model(data, lookback: int, position: int):
    """A linear model whose every forecast is the window's value at `position` (-1: the last value)."""
    model = build_model({"encoder": {"name": "mlp", "hidden": []}}, describe_features(data.inputs),
                        describe_features(data.outputs))
    head = model.heads[next(iter(data.outputs))].linear
    with torch.no_grad():
        head.weight.zero_(), head.bias.zero_()
        head.weight[:, lookback + position] = 1.0  # the flattened window (lookback x 1 channel)
    return model


def prepared(path: Path, **series):
    options = {"time": "Month", "lookback": 12, "horizon": 3, "holdout": 12, "val": 0, **series}
    config = load_config({"data": {"source": str(path), "series": options}})
    return prepare_data(config.data)


def test_a_model_that_repeats_the_last_value_scores_exactly_as_naive(tmp_path):
    data = prepared(write_series(tmp_path / "s.csv", 60))
    windows = data.raw.splits["test"]["Sales"]
    evaluation = evaluate_forecasts(copy_model(data, 12, -1), data.inputs, data.outputs, windows, season=12)
    values = windows.series.column("Sales")
    naive = np.abs(values[48:] - values[47:-1]).mean()
    assert evaluation["one_step"]["naive"]["mae"] == pytest.approx(naive)
    assert evaluation["one_step"]["model"]["mae"] == pytest.approx(naive, rel=1e-5)
    assert evaluation["horizon"]["steps"] == 3
    assert evaluation["horizon"]["model"]["mae"] == pytest.approx(np.abs(values[48:51] - values[47]).mean(), rel=1e-5)
    assert evaluation["period"] == {"start": "2004-01", "end": "2004-12", "steps": 12}
    assert evaluation["horizon"]["forecast"]["time"] == ["2004-01", "2004-02", "2004-03"]


@pytest.mark.parametrize("scale", ["standard", "log"])
def test_relative_windows_start_from_the_naive_forecast(tmp_path, scale):
    """With `relative: true` a network that outputs 0 forecasts the last value: the naive baseline, exactly."""
    data = prepared(write_series(tmp_path / "s.csv", 60), relative=True, scale=scale, covariates=["month"])
    model = build_model({"encoder": {"name": "gru", "hidden": 8}}, describe_features(data.inputs),
                        describe_features(data.outputs))
    head = model.heads["Sales"].linear
    with torch.no_grad():
        head.weight.zero_(), head.bias.zero_()
    windows = data.raw.splits["test"]["Sales"]
    evaluation = evaluate_forecasts(model, data.inputs, data.outputs, windows, season=12)
    assert evaluation["one_step"]["model"]["mae"] == pytest.approx(evaluation["one_step"]["naive"]["mae"], rel=1e-5)
    assert evaluation["horizon"]["model"]["mae"] == pytest.approx(evaluation["horizon"]["naive"]["mae"], rel=1e-5)
    history = data.inputs["history"].encode(windows)
    seen = {}
    model.encoders["history"].register_forward_pre_hook(lambda _, args: seen.update(batch=args[0]))
    model({"history": history})
    relative = seen["batch"]["history"]
    assert torch.equal(relative[:, -1, 0], torch.zeros(len(windows)))  # the value channel ends at 0
    assert torch.equal(relative[..., 1:], history[..., 1:])  # calendar channels are left as they are


def test_a_relative_model_extrapolates_a_trend_and_survives_save_and_load(tmp_path):
    path = write_series(tmp_path / "sales.csv", 96)  # the test period lies above every training value
    config = {"data": {"source": str(path), "series": {"time": "Month", "lookback": 12, "horizon": 3, "holdout": 12,
                                                       "val": 0, "relative": True, "covariates": ["month"]}},
              "model": {"encoder": {"name": "gru", "hidden": 16, "bidirectional": False}},
              "train": {"epochs": 40, "batch_size": 8, "optimizer": {"name": "adam", "lr": 0.01}},
              "diagnose": False, "run": {"root": str(tmp_path / "runs")}}
    run = ds.train(config, progress=False)
    test = run.metrics["forecast"]["test"]["one_step"]
    assert test["model"]["mae"] < 0.5 * test["naive"]["mae"]
    reloaded = ds.load(run.dir)  # the saved description rebuilds the level layer: the same forecasts
    assert reloaded.model.level is not None and reloaded.model.level.outputs == ["Sales"]
    in_memory = run.predictor().predict({"history": [read_series(path, time="Month")]})[0]["Sales"]
    assert [row["Sales"] for row in forecast_from_csv(run.dir, path)] == pytest.approx(in_memory, rel=1e-6)


def test_a_model_that_repeats_last_season_scores_exactly_as_seasonal_naive(tmp_path):
    data = prepared(write_series(tmp_path / "s.csv", 60))
    windows = data.raw.splits["test"]["Sales"]
    evaluation = evaluate_forecasts(copy_model(data, 12, -12), data.inputs, data.outputs, windows, season=12)
    values = windows.series.column("Sales")
    seasonal = np.abs(values[48:] - values[36:48]).mean()
    assert evaluation["one_step"]["seasonal_naive"]["mae"] == pytest.approx(seasonal)
    assert evaluation["one_step"]["model"]["mae"] == pytest.approx(seasonal, rel=1e-5)
    # from the cut-off, seasonal naive repeats the last season: y[48 + k] <- y[36 + k]
    assert evaluation["horizon"]["seasonal_naive"]["mae"] == pytest.approx(np.abs(values[48:51] - values[36:39]).mean())
    table = forecast_table(evaluation)
    assert [c.header for c in table.columns][:3] == ["method", "1-step MAE", "sMAPE%"] and table.row_count == 3


def test_training_run_reports_forecasts_and_predicts_from_a_csv(tmp_path):
    path = write_series(tmp_path / "sales.csv", 72)
    config = {"data": {"source": str(path), "series": {"time": "Month", "lookback": 12, "horizon": 4, "holdout": 12,
                                                       "val": 8, "scale": "log", "covariates": ["month"]}},
              "model": {"encoder": {"name": "mlp", "hidden": []}},
              "train": {"epochs": 30, "batch_size": 8, "optimizer": {"name": "adam", "lr": 0.01}},
              "diagnose": False, "run": {"root": str(tmp_path / "runs")}}
    run = ds.train(config, progress=False)
    forecast = run.metrics["forecast"]
    assert set(forecast) == {"val", "test"}
    test = forecast["test"]
    assert test["one_step"]["model"]["mae"] < test["one_step"]["naive"]["mae"]  # a trend and a season: learnable
    assert run.metrics["test"]["mae"] > 0 and {"rmse", "mape", "smape"} <= set(run.metrics["test"])
    lines = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    saved = {line["forecast"]: line for line in lines if "forecast" in line}
    assert saved["test"]["one_step"] == test["one_step"]
    # the saved config and features give the same windows back
    assert ds.evaluate(run.dir)["mae"] == pytest.approx(run.metrics["test"]["mae"])

    rows = forecast_from_csv(run.dir, path)
    assert [r["Month"] for r in rows] == ["2006-01", "2006-02", "2006-03", "2006-04"]
    assert all(isinstance(r["Sales"], float) and 250 < r["Sales"] < 500 for r in rows)
    tail = tmp_path / "tail.csv"  # only the lookback window, with another column that is not read
    lines = path.read_text().splitlines()
    tail.write_text("\n".join(['"Month","Sales","Note"'] + [f"{line},x" for line in lines[-12:]]))
    assert forecast_from_csv(run.dir, tail) == rows
    # what `deepscope predict RUN tail.csv` runs
    assert ds.predict(run.dir, tail) == [{"input": f"step {i + 1}", **row} for i, row in enumerate(rows)]
    from deepscope.cli.output import print_metrics  # the metrics table: one column per split, no empty "forecast"

    console = Console(record=True, width=200)
    print_metrics(run.metrics, console)
    header = console.export_text().splitlines()[1]
    assert header.replace("┃", " ").split() == ["metric", "val", "test"]
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:1] + lines[-5:]))
    with pytest.raises(ds.errors.DataError, match="5 rows, and this model reads the last 12"):
        forecast_from_csv(run.dir, short)


def test_unsorted_series_exits_2_from_the_cli(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('"Month","Sales"\n"2000-01",1\n"2000-03",2\n"2000-02",3\n')
    config = tmp_path / "c.yaml"
    config.write_text(f"data: {{source: {path}, series: {{time: Month, lookback: 1}}}}\n")
    result = subprocess.run([sys.executable, "-m", "deepscope.cli", "train", str(config)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, env={**os.environ})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "goes back in time" in result.stderr


@pytest.mark.parametrize("rows,series,message", [
    (['"2000-01",1', '"2000-02",2', '"2000-02",3'], "{time: Month, lookback: 1}", "the time 2000-02 appears twice"),
    ([f'"2000-{m:02d}",{m}' for m in range(1, 13)], "{time: Month, lookback: 12, horizon: 3}",
     "the series has 12 steps, fewer than lookback + horizon = 12 + 3"),
])
def test_a_duplicated_time_or_a_too_short_series_exits_2(tmp_path, monkeypatch, capsys, rows, series, message):
    from deepscope.cli.main import main

    (tmp_path / "s.csv").write_text("\n".join(['"Month","Sales"', *rows]))
    (tmp_path / "c.yaml").write_text(f"data: {{source: s.csv, series: {series}}}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["deepscope", "train", "c.yaml"])
    with pytest.raises(SystemExit) as exit_:
        main()
    error = capsys.readouterr().err
    assert exit_.value.code == 2 and message in " ".join(error.split()) and "Traceback" not in error


# --- the published baselines on the real series ---------------------------------------------------------------
def real(data_dir: Path, name: str, **series):
    config = load_config({"data": {"source": str(data_dir / "time-series" / name), "series": series}})
    return prepare_data(config.data)


def test_airline_one_step_naive_mae_is_44_2(data_dir):
    data = real(data_dir, "airline-passengers.csv", time="Month", lookback=24, horizon=12, holdout=24, val=0)
    evaluation = evaluate_forecasts(copy_model(data, 24, -1), data.inputs, data.outputs,
                                    data.raw.splits["test"]["Passengers"], season=12)
    assert evaluation["one_step"]["naive"]["mae"] == pytest.approx(44.2083, abs=1e-4)
    assert evaluation["one_step"]["seasonal_naive"]["mae"] == pytest.approx(47.5833, abs=1e-4)
    assert evaluation["one_step"]["model"]["mae"] == pytest.approx(44.2083, abs=1e-3)
    assert evaluation["period"] == {"start": "1959-01", "end": "1960-12", "steps": 24}


def test_temperatures_yesterdays_value_mae_is_2_03(data_dir):
    data = real(data_dir, "daily-min-temperatures.csv", time="Date", lookback=30, horizon=1, holdout=365, val=0)
    evaluation = evaluate_forecasts(copy_model(data, 30, -1), data.inputs, data.outputs,
                                    data.raw.splits["test"]["Temp"], season=365)
    assert evaluation["one_step"]["naive"]["mae"] == pytest.approx(2.0249, abs=1e-4)  # 2.03 rounded
    assert evaluation["period"] == {"start": "1990-01-01", "end": "1990-12-31", "steps": 365}
