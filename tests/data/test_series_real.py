"""Time series as they come: a Beijing-PM2.5-like hourly CSV (time in year, month, day, hour columns; NA gaps in
pm2.5; a wind-direction column cbwd), gaps filled per column, categories as one-hot channels, and the daily
season of hourly data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.data.prepare import prepare_data
from deepscope.data.timeseries import default_season, read_series
from deepscope.errors import ConfigError, DataError
from deepscope.run.forecast import forecast_from_csv

# the real file's header (UCI "Beijing PM2.5 Data", 43,824 hours 2010-2014): No is the row number, cbwd the
# combined wind direction, Iws the cumulated wind speed, Is / Ir cumulated hours of snow / rain
HEADER = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir"
WINDS = ("NW", "NE", "SE", "cv")
TIME = ["year", "month", "day", "hour"]
GAP_ROWS = (30, 31, 32, 100)  # interior NA hours of pm2.5 besides the first day's (the real file starts so too)


def beijing_like(folder: Path, hours: int = 24 * 12, *, name: str = "pm25.csv", gaps: bool = True) -> Path:
    """`hours` rows from 2010-01-01 00:00 in the real file's layout; pm2.5 follows a daily cycle, NA for the
    first 24 hours and at GAP_ROWS."""
    times = np.datetime64("2010-01-01T00", "h") + np.arange(hours)
    rows = []
    for i, t in enumerate(times):
        year, month, day = str(t.astype("datetime64[D]")).split("-")
        hour = int((t - t.astype("datetime64[D]")).astype(int))
        pm = "NA" if gaps and (i < 24 or i in GAP_ROWS) else f"{100 + 50 * np.sin(2 * np.pi * hour / 24) + i / 10:.1f}"
        rows.append(f"{i + 1},{int(year)},{int(month)},{int(day)},{hour},{pm},{-20 + i % 7},{-5 + hour / 4:.1f},"
                    f"{1020 - i % 5},{WINDS[(i // 6) % 4]},{1.79 + (i % 6) * 4.02:.2f},0,0")
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def series_config(path: Path, **series) -> dict:
    options = {"time": TIME, "values": ["pm2.5", "DEWP", "TEMP", "PRES", "cbwd", "Iws"], "target": "pm2.5",
               "categorical": ["cbwd"], "fill": {"pm2.5": "interpolate"}, "lookback": 24, "horizon": 6,
               "holdout": 48, "val": 24, **series}
    return {"data": {"source": str(path), "series": options}}


# --- the time spread over columns, and the daily season of hourly data ---------------------------------------
def test_year_month_day_hour_columns_make_one_hourly_time_with_a_daily_season(tmp_path):
    series = read_series(beijing_like(tmp_path), time=TIME, values=["pm2.5", "TEMP", "cbwd"], categorical=["cbwd"],
                         fill="interpolate")
    assert series.times.dtype == np.dtype("datetime64[h]") and len(series) == 24 * 12
    assert str(series.times[0]) == "2010-01-01T00" and str(series.times[-1]) == "2010-01-12T23"
    assert series.step == np.timedelta64(1, "h") and default_season(series) == 24
    assert series.columns == ["pm2.5", "TEMP"] and list(series.categories) == ["cbwd"]
    assert series.where(5) == "line 7 (2010-01-01 05:00)"


def test_iso_hourly_times_get_season_24_not_1(tmp_path):
    """`YYYY-MM-DD HH:MM` parses in minutes: a 60-minute step is an hour, so seasonal naive is the same hour
    yesterday (it was season 1, which made seasonal naive the naive forecast)."""
    def season(start: str, step: str, n: int = 5) -> int:
        times = np.datetime64(start) + np.timedelta64(1, step) * np.arange(n) if step != "30m" else \
            np.datetime64(start) + np.timedelta64(30, "m") * np.arange(n)
        path = tmp_path / f"s{step}.csv"
        path.write_text("time,x\n" + "\n".join(f"{str(t).replace('T', ' ')},{i}" for i, t in enumerate(times)))
        return default_season(read_series(path, time="time"))

    assert season("2010-01-01T00:00", "h") == 24
    assert season("2010-01-01T00:00", "30m") == 48  # half-hourly: a day's worth of steps
    assert season("2010-01-01T00:00:00", "m") == 60
    assert season("2010-01-04", "W") == 52
    assert season("2010-01-01", "D") == 7


def test_a_bad_time_part_names_its_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("year,month,day,hour,x\n2010,1,1,0,1\n2010,1,1,one,2\n")
    with pytest.raises(DataError, match=r"line 3: the hour \(hour\) is 'one'.*year, month, day, hour in whole numbers"):
        read_series(path, time=TIME)
    path.write_text("year,month,day,hour,x\n2010,1,1,0,1\n2010,13,1,1,2\n")
    with pytest.raises(DataError, match=r"line 3: cannot read '2010-13-01T01' in year, month, day, hour"):
        read_series(path, time=TIME)
    with pytest.raises(ConfigError, match=r"data.series.values: 'hour' is a time column"):
        read_series(path, time=TIME, values=["hour"])


# --- gaps ------------------------------------------------------------------------------------------------------
def test_gaps_without_fill_are_an_error_that_names_the_fix(tmp_path):
    with pytest.raises(DataError, match=r"pm2.5 is missing at line 2 \(2010-01-01 00:00\), .* and 25 more; .*"
                                        r"data.series.fill: interpolate .*\{pm2.5: interpolate\}"):
        read_series(beijing_like(tmp_path), time=TIME, values=["pm2.5", "TEMP"])


def test_interpolate_is_linear_in_time_and_holds_the_first_value_before_the_first_reading(tmp_path):
    clean = read_series(beijing_like(tmp_path, gaps=False, name="clean.csv"), time=TIME, values=["pm2.5"])
    filled = read_series(beijing_like(tmp_path), time=TIME, values=["pm2.5"], fill={"pm2.5": "interpolate"})
    truth, values = clean.column("pm2.5"), filled.column("pm2.5")
    assert np.isfinite(values).all() and len(filled) == len(clean)
    assert values[:24] == pytest.approx(np.full(24, truth[24]))  # nothing before the first reading: held
    # rows 30-32 lie on the straight line from row 29 to row 33
    assert values[30:33] == pytest.approx(truth[29] + (truth[33] - truth[29]) * np.array([1, 2, 3]) / 4)
    assert values[100] == pytest.approx((truth[99] + truth[101]) / 2)
    untouched = np.setdiff1d(np.arange(len(truth)), [*range(24), *GAP_ROWS])
    assert np.array_equal(values[untouched], truth[untouched])


def test_ffill_and_drop_per_column(tmp_path):
    path = beijing_like(tmp_path)
    clean = read_series(beijing_like(tmp_path, gaps=False, name="clean.csv"), time=TIME, values=["pm2.5"])
    filled = read_series(path, time=TIME, values=["pm2.5"], fill={"pm2.5": "ffill"})
    assert filled.column("pm2.5")[30:33] == pytest.approx([clean.column("pm2.5")[29]] * 3)
    dropped = read_series(path, time=TIME, values=["pm2.5", "TEMP"], fill={"pm2.5": "drop"})
    assert len(dropped) == 24 * 12 - 24 - len(GAP_ROWS)
    assert str(dropped.times[0]) == "2010-01-02T00"
    assert dropped.where(6) == "line 35 (2010-01-02 09:00)"  # rows keep their file lines: 30-32 are gone
    assert np.array_equal(dropped.column("pm2.5"), np.delete(clean.column("pm2.5"), [*range(24), *GAP_ROWS]))


def test_a_gap_in_a_category_is_filled_forward_and_never_interpolated(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text("year,month,day,hour,pm,cbwd\n2010,1,1,0,1,NW\n2010,1,1,1,2,NA\n2010,1,1,2,3,SE\n")
    series = read_series(path, time=TIME, categorical=["cbwd"], fill={"cbwd": "ffill"})
    assert series.categories["cbwd"].tolist() == ["NW", "NW", "SE"]
    with pytest.raises(ConfigError, match=r"cbwd is categorical, and categories cannot be interpolated.*ffill"):
        read_series(path, time=TIME, categorical=["cbwd"], fill="interpolate")
    with pytest.raises(DataError, match=r"data.series.fill: 'wind' is not a value column"):
        read_series(path, time=TIME, categorical=["cbwd"], fill={"wind": "ffill"})


def test_fill_is_checked_by_the_config():
    with pytest.raises(ConfigError, match=r"data.series.fill"):
        load_config({"data": {"source": "x.csv", "series": {"time": "t", "fill": "mean"}}})
    config = load_config({"data": {"source": "x.csv", "series": {"time": TIME, "fill": {"pm2.5": "drop"},
                                                                "categorical": "cbwd"}}})
    assert config.data.series.time == TIME and config.data.series.categorical == ["cbwd"]


# --- a categorical channel --------------------------------------------------------------------------------------
def test_text_in_a_number_column_points_to_categorical(tmp_path):
    with pytest.raises(DataError, match=r"'NW' in cbwd is not a number; .*add it to data.series.categorical"):
        read_series(beijing_like(tmp_path), time=TIME, values=["pm2.5", "cbwd"], fill="interpolate")


def test_a_categorical_column_is_one_hot_channels_fitted_on_the_training_period(tmp_path):
    data = prepare_data(load_config(series_config(beijing_like(tmp_path))).data)
    history = data.inputs["history"]
    assert history.fitted["channel_names"] == ["pm2.5", "DEWP", "TEMP", "PRES", "Iws",
                                               "cbwd=NE", "cbwd=NW", "cbwd=SE", "cbwd=cv"]
    assert history.fitted["target_channel"] == 0
    windows = data.raw.splits["test"]["pm2.5"]
    encoded = history.encode(windows)  # (N, 24, 9)
    assert encoded.shape == (len(windows), 24, 9)
    one_hot = encoded[..., 5:]
    assert torch.equal(one_hot.sum(-1), torch.ones(encoded.shape[:2]))  # exactly one direction per hour
    labels = windows.series.categories["cbwd"]
    row = int(windows.origins[0]) - 1  # the window's last input hour
    assert history.fitted["channel_names"][5 + int(one_hot[0, -1].argmax())] == f"cbwd={labels[row]}"
    assert data.splits["train"].tensors["history"].shape[-1] == 9  # the same channels in every split


def test_a_category_never_seen_in_training_is_all_zeros_and_the_state_round_trips(tmp_path):
    path = beijing_like(tmp_path)
    data = prepare_data(load_config(series_config(path)).data)
    history = data.inputs["history"]
    series = data.raw.splits["test"]["pm2.5"].series
    series.categories["cbwd"] = series.categories["cbwd"].copy()
    series.categories["cbwd"][-24:] = "SW"  # a direction the training period never had
    encoded = history.encode(series)  # the window at the end: (1, 24, 9)
    assert torch.equal(encoded[0, :, 5:], torch.zeros(24, 4))
    reloaded = ds.data.features.Feature.from_state(history.state())
    assert torch.equal(reloaded.encode(series), encoded)


def test_the_target_cannot_be_categorical(tmp_path):
    with pytest.raises(ConfigError, match=r"data.series.target: 'cbwd' is categorical"):
        read_series(beijing_like(tmp_path), time=TIME, target="cbwd", values=["pm2.5", "cbwd"],
                    categorical=["cbwd"], fill="interpolate")


# --- a whole run ------------------------------------------------------------------------------------------------
def test_a_run_on_hourly_data_uses_the_daily_season_and_forecasts_from_a_csv_with_gaps(tmp_path):
    path = beijing_like(tmp_path)
    config = {**series_config(path), "model": {"encoder": {"name": "mlp", "hidden": []}},
              "train": {"epochs": 2, "batch_size": 32}, "diagnose": False,
              "run": {"root": str(tmp_path / "runs"), "report": False}}
    run = ds.train(config, progress=False)
    test = run.metrics["forecast"]["test"]
    assert test["season"] == 24
    # the daily cycle: the same hour yesterday is a far better guess than the hour before
    assert test["one_step"]["seasonal_naive"]["mae"] < 0.5 * test["one_step"]["naive"]["mae"]
    tail = tmp_path / "tail.csv"  # the last 30 hours, one pm2.5 reading missing: filled as in training
    lines = path.read_text().splitlines()
    tail.write_text("\n".join([lines[0], *lines[-31:-2], lines[-2].replace(lines[-2].split(",")[5], "NA", 1),
                               lines[-1]]))
    rows = forecast_from_csv(run.dir, tail)
    assert [r["time"] for r in rows] == [f"2010-01-13 0{h}:00" for h in range(6)]
    assert all(np.isfinite(r["pm2.5"]) for r in rows)


# --- reading the file as any table: no header row, named columns, another encoding -----------------------------
def test_a_headerless_cp1252_series_reads_through_header_columns_and_encoding(tmp_path):
    """The Beijing layout without its header row, saved as Windows-1252 with a station name in it (`Dongsi é`):
    data.header, data.columns and data.encoding reach the series reader, and messages count lines from 1."""
    lines = beijing_like(tmp_path, gaps=False).read_text().splitlines()[1:]  # the header row dropped
    station = [f"{line},Dongsi é" for line in lines]
    path = tmp_path / "headerless.csv"
    path.write_bytes(("\n".join(station) + "\n").encode("cp1252"))
    columns = [*HEADER.split(","), "station"]
    config = {**series_config(path), "train": {"epochs": 1}, "run": {"root": str(tmp_path / "runs")}}
    config["data"].update(header=False, columns=columns, encoding="cp1252")
    config["data"]["series"]["fill"] = None  # no gaps in this file
    prepared = prepare_data(load_config(config).data)
    series = prepared.raw.splits["test"]["history"].series  # the test period ends where the file does
    assert len(series) == 24 * 12 and str(series.times[0]) == "2010-01-01T00"  # the first line is data
    assert series.where(0) == "line 1 (2010-01-01 00:00)"  # no header line before it
    assert series.columns == ["pm2.5", "DEWP", "TEMP", "PRES", "Iws"] and list(series.categories) == ["cbwd"]
    read = read_series(path, time=TIME, values=["pm2.5", "station"], categorical=["station"], header=False,
                       columns=columns, encoding="cp1252")
    assert set(read.categories["station"]) == {"Dongsi é"}  # decoded as the file was written
    with pytest.raises(DataError, match="no column 'year' .* columns are: column_1, column_2"):  # unnamed: numbered
        read_series(path, time=TIME, values=["pm2.5"], header=False, encoding="cp1252")


def test_a_headerless_series_run_forecasts_from_a_headerless_file(tmp_path):
    lines = beijing_like(tmp_path, gaps=False).read_text().splitlines()[1:]
    path = tmp_path / "headerless.csv"
    path.write_text("\n".join(lines) + "\n")
    config = {**series_config(path), "model": {"encoder": {"name": "mlp", "hidden": []}}, "diagnose": False,
              "train": {"epochs": 1}, "run": {"root": str(tmp_path / "runs"), "report": False}}
    config["data"].update(header=False, columns=HEADER.split(","))
    run = ds.train(config, progress=False)
    tail = tmp_path / "tail.csv"  # the last day, no header row, as the training file
    tail.write_text("\n".join(lines[-24:]) + "\n")
    rows = ds.predict(run.dir, tail)
    assert [r["time"] for r in rows] == [f"2010-01-13 0{h}:00" for h in range(6)]
    assert all(np.isfinite(r["pm2.5"]) for r in rows)
