"""The forecast section of the report: a horizon of one step, and a long hourly series (a year of hours would be
a solid block at a page's width), checked by what is drawn (the arrays handed to matplotlib) and by the table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import deepscope as ds
from deepscope.report import forecast
from deepscope.report.context import ReportContext
from deepscope.report.plots import min_max_envelope


@pytest.fixture
def drawn(monkeypatch):
    """[(what, number of points)] of every line, level and band the plots draw while the fixture is active."""
    from matplotlib.axes import Axes

    calls: list[tuple[str, int]] = []
    for method in ("plot", "fill_between"):
        original = getattr(Axes, method)

        def spy(self, *args, _original=original, _method=method, **kwargs):
            calls.append((_method, len(np.atleast_1d(args[0])) if args else 0))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Axes, method, spy)
    return calls


def write_series(path: Path, values: np.ndarray, start: str, unit: str) -> Path:
    times = np.datetime64(start) + np.arange(len(values)).astype(f"timedelta64[{unit}]")
    fmt = (lambda t: str(t)[:7]) if unit == "M" else (lambda t: str(t).replace("T", " ")[:16])
    path.write_text("time,value\n" + "".join(f"{fmt(t)},{v:.3f}\n" for t, v in zip(times, values)))
    return path


def train(tmp_path: Path, source: Path, **series) -> ds.Run:
    config = {"data": {"source": str(source), "series": {"time": "time", "target": "value", "val": 0, **series}},
              "model": {"encoder": {"name": "mlp", "hidden": [16]}}, "train": {"epochs": 2, "batch_size": 64},
              "run": {"root": str(tmp_path / "runs"), "report": False}}
    return ds.train(config, progress=False)


def headers(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", html)]


def test_a_one_step_horizon_repeats_no_header_and_draws_its_forecast_after_the_history(tmp_path, drawn):
    rng = np.random.default_rng(0)
    months = 100 + 10 * np.sin(np.arange(120) * 2 * np.pi / 12) + rng.normal(0, 1, 120)
    run = train(tmp_path, write_series(tmp_path / "monthly.csv", months, "2000-01", "M"),
                lookback=12, horizon=1, holdout=24, season=12)
    context = ReportContext.gather(run.dir)
    html = forecast.render_output(context, "value")
    names = headers(html)
    assert len(names) == len(set(names)), names  # "1-step MAE" once, not once per part of the table
    assert not any("from the cut-off" in name for name in names)
    assert "Forecast of the first step made at the cut-off" in html
    history = [n for kind, n in drawn if kind == "plot"][0]  # the cut-off plot's first line: the history
    assert history >= 12 and (("plot", 2) in drawn)  # each forecast: the last known value, then its one step
    assert forecast.horizon_plot(context.info.forecast["test"], "value") == ""  # one point, nothing to lead in


def test_a_long_hourly_series_is_drawn_as_a_window_and_an_overview(tmp_path, drawn):
    hours = np.arange(3000)
    rng = np.random.default_rng(1)
    values = 15 + 5 * np.sin(2 * np.pi * hours / 24) + np.cumsum(rng.normal(0, 0.1, len(hours)))
    run = train(tmp_path, write_series(tmp_path / "hourly.csv", values, "2020-01-01T00:00", "h"),
                lookback=24, horizon=6, holdout=1500, season=24)
    context = ReportContext.gather(run.dir)
    html = forecast.render_output(context, "value")
    lines = [n for kind, n in drawn if kind == "plot"]
    bands = [n for kind, n in drawn if kind == "fill_between"]
    # the one-step plot draws at most its window (with some history), never the 1,500 steps, let alone 3,000
    assert max(lines) <= forecast.DETAIL_STEPS + forecast.DETAIL_STEPS // 4
    assert bands == [forecast.OVERVIEW_BINS]  # the overview: the whole series in a fixed number of columns
    assert "first 400 of the period&#x27;s 1,500 steps" in html or "first 400 of the period's 1,500 steps" in html
    assert "The whole series (3,000 steps" in html
    names = headers(html)
    assert len(names) == len(set(names)) and "MAE, 6 steps from the cut-off" in names


def test_the_overview_keeps_every_peak_of_a_long_series():
    values = np.zeros(8765)
    values[[100, 4000, 8764]] = [5.0, -3.0, 7.0]  # single-step spikes that every-n-th-point sampling would miss
    centres, low, high = min_max_envelope(values, 450)
    assert len(centres) == len(low) == len(high) == 450
    assert high.max() == 7.0 and low.min() == -3.0 and (high >= 5.0).sum() == 2
    assert centres[0] >= 0 and centres[-1] <= 8764 and np.all(np.diff(centres) > 0)
