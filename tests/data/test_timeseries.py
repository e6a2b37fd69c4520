"""Time series: reading and checking a CSV, chronological splits, windows, features fitted on the training period."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deepscope.config.loading import load_config
from deepscope.data.features import Feature
from deepscope.data.features.forecast import ForecastFeature
from deepscope.data.features.timeseries import TimeseriesFeature
from deepscope.data.prepare import prepare_data
from deepscope.data.timeseries import calendar_covariates, default_season, read_series
from deepscope.data.windows import SeriesWindows, split_periods
from deepscope.errors import ConfigError, DataError


def write_csv(folder: Path, rows: list[str], header: str = '"Month","Passengers"', name: str = "s.csv") -> Path:
    path = folder / name
    path.write_bytes(("\r\n".join([header, *rows])).encode())  # CRLF, no newline at the end, like the real files
    return path


def monthly(folder: Path, n: int = 48, name: str = "s.csv") -> Path:
    months = np.datetime64("2000-01") + np.arange(n)
    return write_csv(folder, [f'"{m}",{100 + 10 * np.sin(i / 2) + i}' for i, m in enumerate(months)], name=name)


def series_config(path: Path, **series) -> dict:
    return {"data": {"source": str(path), "series": {"time": "Month", "lookback": 6, "horizon": 3, "holdout": 6,
                                                     "val": 6, **series}}}


# --- reading and checks ----------------------------------------------------------------------------------------
def test_reads_quoted_header_crlf_and_months(tmp_path):
    series = read_series(monthly(tmp_path, 5), time="Month")
    assert series.columns == ["Passengers"] and series.values.shape == (5, 1)
    assert series.times.dtype == np.dtype("datetime64[M]") and str(series.times[0]) == "2000-01"
    assert series.step == np.timedelta64(1, "M") and default_season(series) == 12
    assert series.values[0, 0] == pytest.approx(100.0)


def test_daily_times_and_step_numbers(tmp_path):
    daily = write_csv(tmp_path, ['"1981-01-01",20.7', '"1981-01-02",17.9', '"1981-01-03",18.8'], '"Date","Temp"')
    series = read_series(daily, time="Date")
    assert series.times.dtype == np.dtype("datetime64[D]") and default_season(series) == 7
    steps = write_csv(tmp_path, ["1,5", "2,6", "3,7"], "t,x", name="steps.csv")
    assert read_series(steps, time="t").times.tolist() == [1, 2, 3]


def test_unsorted_times_name_the_line(tmp_path):
    path = write_csv(tmp_path, ['"2000-01",1', '"2000-03",2', '"2000-02",3'])
    with pytest.raises(DataError, match=r"line 4 \(2000-02\).*goes back in time.*sort the file by Month"):
        read_series(path, time="Month")


def test_duplicated_times_name_both_lines(tmp_path):
    path = write_csv(tmp_path, ['"2000-01",1', '"2000-02",2', '"2000-02",3'])
    with pytest.raises(DataError, match=r"line 4 \(2000-02\): the time 2000-02 appears twice.*also on line 3"):
        read_series(path, time="Month")


def test_unparseable_time(tmp_path):
    path = write_csv(tmp_path, ['"2000-01",1', '"Feb 2000",2'])
    with pytest.raises(DataError, match=r"line 3: cannot read 'Feb 2000' in Month.*ISO 8601"):
        read_series(path, time="Month")


def test_missing_values_say_where(tmp_path):
    path = write_csv(tmp_path, ['"2000-01",1', '"2000-02",', '"2000-03",NA', '"2000-04",4'])
    with pytest.raises(DataError, match=r"Passengers is missing at line 3 \(2000-02\), line 4 \(2000-03\); .*fill"):
        read_series(path, time="Month")


def test_text_in_a_value_column(tmp_path):
    path = write_csv(tmp_path, ['"2000-01",1', '"2000-02",lots'])
    with pytest.raises(DataError, match=r"line 3 \(2000-02\): 'lots' in Passengers is not a number"):
        read_series(path, time="Month")


def test_unknown_columns(tmp_path):
    path = monthly(tmp_path, 5)
    with pytest.raises(DataError, match=r"data.series.time: no column 'Date'.*columns are: Month, Passengers"):
        read_series(path, time="Date")
    with pytest.raises(DataError, match=r"data.series.values: no column 'Sales'"):
        read_series(path, time="Month", values=["Sales"])
    with pytest.raises(DataError, match=r"data.series.target: 'Sales' is not among the value columns"):
        read_series(path, time="Month", target="Sales")


def test_unset_environment_variable_in_the_path(monkeypatch):
    monkeypatch.delenv("NO_SUCH_FOLDER_VAR", raising=False)
    with pytest.raises(DataError, match=r"\$NO_SUCH_FOLDER_VAR, which is not set"):
        read_series("$NO_SUCH_FOLDER_VAR/x.csv", time="Month")


# --- splits and windows ----------------------------------------------------------------------------------------
def test_periods_are_chronological_and_val_may_be_a_fraction():
    assert split_periods(144, lookback=24, horizon=12, holdout=24, val=12) == {
        "train": (0, 108), "val": (108, 120), "test": (120, 144)}
    assert split_periods(120, lookback=12, horizon=1, holdout=20, val=0.1) == {
        "train": (0, 90), "val": (90, 100), "test": (100, 120)}
    assert "val" not in split_periods(50, lookback=5, horizon=1, holdout=5, val=0)
    assert split_periods(100, lookback=5, horizon=1, holdout=0.2, val=0.1)["test"] == (80, 100)  # the defaults


def test_series_too_short():
    with pytest.raises(DataError, match=r"30 steps, fewer than lookback \+ horizon = 24 \+ 12"):
        split_periods(30, lookback=24, horizon=12, holdout=12, val=0)
    with pytest.raises(DataError, match=r"12 are left for training, fewer than one window needs \(lookback \+ "
                                        r"horizon = 36\); lower data.series.holdout, val or lookback"):
        split_periods(48, lookback=24, horizon=12, holdout=24, val=12)
    with pytest.raises(ConfigError, match=r"holdout: 6 steps are fewer than the horizon \(12\)"):
        split_periods(100, lookback=24, horizon=12, holdout=6, val=0)


def test_windows_never_read_targets_from_a_later_period(tmp_path):
    series = read_series(monthly(tmp_path, 48), time="Month")
    periods = split_periods(48, lookback=6, horizon=3, holdout=6, val=6)
    train = SeriesWindows.for_period(series, *periods["train"], lookback=6, horizon=3)
    test = SeriesWindows.for_period(series, *periods["test"], lookback=6, horizon=3)
    assert len(train.series) == 36 and train.origins.tolist() == list(range(6, 34))  # last target row 35
    assert test.origins.tolist() == [42, 43, 44, 45]  # inputs may come from val; targets stay in the test period
    strided = SeriesWindows.for_period(series, *periods["train"], lookback=6, horizon=3, stride=4)
    assert strided.origins.tolist() == list(range(6, 34, 4))
    raw = np.asarray(test)  # what the data profile reads: each window's raw values, inputs then targets
    assert raw.shape == (4, 9, 1) and np.array_equal(raw[0, :, 0], series.values[36:45, 0])
    assert len(train[:5]) == 5  # data.limit slices windows


# --- features --------------------------------------------------------------------------------------------------
def features(covariates=(), scale="standard"):
    history = TimeseriesFeature("history", {"time": "Month", "values": ["Passengers"], "target": "Passengers",
                                            "lookback": 6, "scale": scale, "covariates": list(covariates)})
    forecast = ForecastFeature("Passengers", {"target": "Passengers", "horizon": 3, "scale": scale, "loss": "mae"})
    return history, forecast


def test_scaling_is_fitted_on_the_training_period_only(tmp_path):
    series = read_series(monthly(tmp_path, 48), time="Month")
    train = SeriesWindows.for_period(series, 0, 36, lookback=6, horizon=3)
    history, forecast = features()
    history.fit(train), forecast.fit(train)
    values = series.column("Passengers")
    assert history.fitted["scaling"][0]["shift"] == pytest.approx(values[:36].mean())
    assert forecast.fitted["shift"] == pytest.approx(values[:36].mean())  # the target channel's scaling
    assert forecast.fitted["scale"] == pytest.approx(values[:36].std())
    assert forecast.head_config == {"loss": "mae"}

    test = SeriesWindows.for_period(series, 42, 48, lookback=6, horizon=3)
    x, y = history.encode(test), forecast.encode(test)
    assert x.shape == (4, 6, 1) and y.shape == (4, 3) and x.dtype == y.dtype == torch.float32
    z = (values - values[:36].mean()) / values[:36].std()
    assert torch.allclose(x[0, :, 0], torch.tensor(z[36:42], dtype=torch.float32))  # rows [origin - 6, origin)
    assert torch.allclose(y[0], torch.tensor(z[42:45], dtype=torch.float32))  # rows [origin, origin + 3)


def test_log_scaling_round_trips_through_decode(tmp_path):
    series = read_series(monthly(tmp_path, 48), time="Month")
    train = SeriesWindows.for_period(series, 0, 36, lookback=6, horizon=3)
    _, forecast = features(scale="log")
    forecast.fit(train)
    assert forecast.fitted["log"] and forecast.fitted["shift"] == pytest.approx(np.log(series.values[:36]).mean())
    from deepscope.models.heads import HEADS

    head = HEADS.get("forecast")(4, {**forecast.describe(), "name": "Passengers"})
    encoded = forecast.encode(SeriesWindows.for_period(series, 42, 48, lookback=6, horizon=3))
    decoded = forecast.decode(head.predict(encoded))
    assert decoded[0]["Passengers"] == pytest.approx(series.values[42:45, 0].tolist(), rel=1e-5)


def test_log_scaling_refuses_values_below_zero(tmp_path):
    path = write_csv(tmp_path, [f'"2000-{m:02d}",{v}' for m, v in zip(range(1, 13), [1, 2, -1, 3] * 3)])
    series = read_series(path, time="Month")
    history, _ = features(scale="log")
    with pytest.raises(DataError, match="scale: log needs positive values.*-1.*use scale: standard"):
        history.fit(SeriesWindows.for_period(series, 0, 12, lookback=6, horizon=3))


def test_calendar_covariates_and_state_round_trip(tmp_path):
    series = read_series(monthly(tmp_path, 48), time="Month")
    history, _ = features(covariates=["month"])
    history.fit(SeriesWindows.for_period(series, 0, 36, lookback=6, horizon=3))
    description = history.describe()
    assert description["kind"] == "sequence" and description["type"] == "timeseries"
    assert description["channels"] == 3 and description["length"] == 6
    assert description["channel_names"] == ["Passengers", "month_sin", "month_cos"]
    x = history.encode(series)  # a whole series: the window at its end
    assert x.shape == (1, 6, 3)
    month = np.arange(42, 48) % 12  # the series starts in January
    assert np.allclose(x[0, :, 1].numpy(), np.sin(2 * np.pi * month / 12), atol=1e-6)
    clone = Feature.from_state(history.state())
    assert torch.equal(clone.encode(series), x)
    day = calendar_covariates(np.array(["2001-01-01", "2001-07-02"], dtype="datetime64[D]"), ["day_of_year"])
    assert np.allclose(day[:, 1], np.cos(2 * np.pi * np.array([0, 182]) / 365.25))


def test_several_value_columns_are_channels_scaled_each_on_its_own(tmp_path):
    rows = [f'"2000-{m:02d}",{10 * m},{1000 + m}' for m in range(1, 13)]
    path = write_csv(tmp_path, rows, header='"Month","Sales","Price"')
    config = load_config({"data": {"source": str(path), "series": {
        "time": "Month", "target": "Price", "lookback": 3, "horizon": 2, "holdout": 2, "val": 0}}})
    data = prepare_data(config.data)
    history, price = data.inputs["history"], data.outputs["Price"]
    assert history.describe()["channel_names"] == ["Sales", "Price"] and history.fitted["target_channel"] == 1
    x = data.splits["train"].tensors["history"]
    assert x.shape == (6, 3, 2)  # train targets are rows 3..9: origins 3..8 with horizon 2
    # both rise by one step a month; standardised each on its own, they are the same despite their scales
    assert torch.allclose(x[:, :, 0], x[:, :, 1], atol=1e-5)
    assert price.fitted["shift"] == pytest.approx(np.mean(1001 + np.arange(10)))


def test_covariates_need_dates(tmp_path):
    path = write_csv(tmp_path, [f"{i},{i}" for i in range(20)], "t,x")
    config = load_config({"data": {"source": str(path), "series": {"time": "t", "lookback": 3, "holdout": 3,
                                                                   "val": 0, "covariates": ["month"]}}})
    with pytest.raises(ConfigError, match="covariates: month need dates in the time column"):
        prepare_data(config.data)


# --- from a config -----------------------------------------------------------------------------------------------
def test_prepare_data_makes_windows_per_split(tmp_path):
    config = load_config(series_config(monthly(tmp_path, 48)))
    data = prepare_data(config.data)
    assert list(data.inputs) == ["history"] and list(data.outputs) == ["Passengers"]
    assert data.sizes() == {"train": 28, "val": 4, "test": 4}  # train origins 6..33: targets up to row 35
    assert data.splits["train"].tensors["history"].shape == (28, 6, 1)
    assert data.splits["test"].tensors["Passengers"].shape == (4, 3)
    assert "48 steps, 2000-01 to 2003-12" in data.raw.description


def test_series_config_refuses_rows_settings(tmp_path):
    path = monthly(tmp_path, 48)
    config = load_config({**series_config(path), "data": {**series_config(path)["data"], "split": {"test": 0.3}}})
    with pytest.raises(ConfigError, match="data.split: a series is split by time"):
        prepare_data(config.data)
    with pytest.raises(ConfigError, match=r"val.*whole number of steps"):
        load_config(series_config(path, val=2.5))


def test_too_short_series_from_a_config(tmp_path):
    config = load_config(series_config(monthly(tmp_path, 20)))
    with pytest.raises(DataError, match="the series has 20 steps.*lower data.series.holdout, val or lookback"):
        prepare_data(config.data)
