"""Time series from a CSV: a time column and value columns, read and checked (sorted, unique times, numbers),
plus what the calendar says about each step (covariates, the default season). Splitting by time and cutting
into windows is in `deepscope.data.windows`.

    series = read_series("airline-passengers.csv", time="Month", values=["Passengers"])
    len(series), series.columns   # 144, ["Passengers"]
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")

# periods of the calendar covariates, each given to the model as a sin/cos pair
CALENDAR_PERIODS = {"month": 12.0, "day_of_year": 365.25, "day_of_week": 7.0, "hour": 24.0}
# steps per season for the seasonal-naive baseline when the config gives none, by the series' time step
DEFAULT_SEASONS = {"M": 12, "W": 52, "D": 7, "h": 24, "m": 60}


@dataclass
class Series:
    """A checked series: `times` (n,) datetime64 (or int64 step numbers), `values` (n, V) float64.

    `first_line` is the file line of row 0, so that messages can point into the file.
    """

    times: np.ndarray
    values: np.ndarray
    columns: list[str]
    time_column: str
    source: str = "series"
    first_line: int = 2

    def __len__(self) -> int:
        return len(self.times)

    def column(self, name: str) -> np.ndarray:
        """One value column, (n,) float64."""
        return self.values[:, self.columns.index(name)]

    def head(self, stop: int) -> Series:
        """The first `stop` steps: what could be seen at time `stop`."""
        return replace(self, times=self.times[:stop], values=self.values[:stop])

    def tail(self, steps: int) -> Series:
        start = max(len(self) - steps, 0)
        return replace(self, times=self.times[start:], values=self.values[start:], first_line=self.first_line + start)

    def where(self, row: int) -> str:
        """'line 7 (1949-06)': a row as a person finds it in the file."""
        return f"line {self.first_line + row} ({format_time(self.times[row])})"

    @property
    def step(self) -> np.timedelta64 | int:
        """The most common difference between consecutive times (a month, a day, ... or 1 for step numbers)."""
        if len(self) < 2:
            raise DataError(f"{self.source}: one row is not enough to tell the time step")
        steps, counts = np.unique(np.diff(self.times), return_counts=True)
        return steps[np.argmax(counts)]


# --- reading ----------------------------------------------------------------------------------------------------
def read_series(path: str | Path, *, time: str, values: list[str] | None = None, target: str | None = None,
                delimiter: str | None = None) -> Series:
    """Read and check a series: the time column parsed and strictly increasing, the values numbers, none missing.

    Args:
        path: a CSV/TSV file with a header row; `$VARS` in it are expanded (e.g. `$DEEPSCOPE_DATA/...`).
        time: the time column: ISO 8601 dates or times (`1949-01`, `1981-01-31`, `1981-01-31 06:00`), or
            whole numbers counting steps.
        values: the value columns (default: every column but `time`).
        target: the column to forecast; it must be one of `values` (default: the first of them).

    Raises:
        DataError: a missing file or column, a time that cannot be read, times out of order or repeated,
            a missing or non-numeric value (the message gives the line and the time).

    Example:
        >>> series = read_series("airline-passengers.csv", time="Month")   # doctest: +SKIP
        >>> series.columns, series.values.shape, series.times[0]           # doctest: +SKIP
        (['Passengers'], (144, 1), numpy.datetime64('1949-01'))
    """
    from deepscope.data.sources.csv_table import load_csv

    path = expand_path(path)
    columns = load_csv(path, delimiter=delimiter).splits["train"]
    names = list(columns)
    _check_columns(path, names, time, values, target)
    values = values or [c for c in names if c != time]
    times = parse_times(columns[time], path, time)
    series = Series(times, np.zeros((len(times), 0)), [], time, source=str(path))
    check_order(series)
    numbers = np.stack([_parse_numbers(columns[name], series, name) for name in values], axis=1)
    _warn_on_gaps(series)
    return replace(series, values=numbers, columns=list(values))


def expand_path(path: str | Path) -> Path:
    """`$DEEPSCOPE_DATA/time-series/x.csv` -> the file; an unset variable is named in the error."""
    expanded = os.path.expandvars(str(path))
    if "$" in expanded:
        variable = expanded[expanded.index("$"):].split("/")[0]
        raise DataError(f"data.source: {path} uses {variable}, which is not set; set it (e.g. "
                        f"export DEEPSCOPE_DATA=../shared/data) or give the file's path")
    return Path(expanded).expanduser()


def _check_columns(path: Path, names: list[str], time: str, values: list[str] | None, target: str | None) -> None:
    known = ", ".join(names)
    if time not in names:
        raise DataError(f"data.series.time: no column {time!r} in {path}; columns are: {known}")
    for name in values or []:
        if name not in names:
            raise DataError(f"data.series.values: no column {name!r} in {path}; columns are: {known}")
        if name == time:
            raise ConfigError(f"data.series.values: {name!r} is the time column; list the value columns only")
    if len(names) < 2 and not values:
        raise DataError(f"{path}: only the time column {time!r}; a series needs at least one value column")
    chosen = values or [c for c in names if c != time]
    if target is not None and target not in chosen:
        where = "data.series.values" if values else path
        raise DataError(f"data.series.target: {target!r} is not among the value columns ({', '.join(chosen)} "
                        f"in {where}); add it to data.series.values or pick one of them")


def parse_times(texts: np.ndarray, path: Any = "input", column: str = "time") -> np.ndarray:
    """ISO 8601 texts -> datetime64 (the finest unit among them); whole numbers -> int64 step numbers.

    >>> parse_times(np.array(["1949-01", "1949-02"], dtype=object))
    array(['1949-01', '1949-02'], dtype='datetime64[M]')
    """
    texts = [None if t is None else str(t).strip() for t in texts]
    for row, text in enumerate(texts):
        if text is None:
            raise DataError(f"{path}, line {row + 2}: the time ({column}) is missing; every row needs its time")
    if all(_is_whole_number(t) for t in texts):
        return np.array([int(t) for t in texts], dtype=np.int64)
    parsed = []
    for row, text in enumerate(texts):
        try:
            parsed.append(np.datetime64(text.replace(" ", "T", 1) if " " in text else text))
        except ValueError:
            raise DataError(
                f"{path}, line {row + 2}: cannot read {text!r} in {column} as a date or time; write times in "
                "ISO 8601 (1949-01, 1981-01-31, 1981-01-31 06:00) or as whole step numbers"
            ) from None
    return np.array(parsed)  # numpy promotes mixed units (days and months) to the finest one


def _is_whole_number(text: str) -> bool:
    return text.lstrip("+-").isdigit()


def check_order(series: Series) -> None:
    """Times must strictly increase: a repeated time or one out of order is named with its line."""
    steps = np.diff(series.times)
    zero = steps == np.zeros((), dtype=steps.dtype)
    backwards = steps < np.zeros((), dtype=steps.dtype)
    if zero.any():
        row = int(np.argmax(zero)) + 1
        raise DataError(
            f"{series.source}, {series.where(row)}: the time {format_time(series.times[row])} appears twice "
            f"in {series.time_column} (also on line {series.first_line + row - 1}); a series needs one row per "
            "time: remove or merge the duplicate (e.g. average the two rows)"
        )
    if backwards.any():
        row = int(np.argmax(backwards)) + 1
        raise DataError(
            f"{series.source}, {series.where(row)}: {series.time_column} goes back in time (the line before is "
            f"{format_time(series.times[row - 1])}); sort the file by {series.time_column}, oldest first"
        )


def _parse_numbers(texts: np.ndarray, series: Series, column: str) -> np.ndarray:
    out = np.empty(len(texts), dtype=np.float64)
    missing = []
    for row, text in enumerate(texts):
        try:
            out[row] = np.nan if text is None else float(text)
        except (TypeError, ValueError):
            raise DataError(f"{series.source}, {series.where(row)}: {text!r} in {column} is not a number; "
                            "fix the value") from None
        if not math.isfinite(out[row]):
            missing.append(row)
    if missing:
        shown = ", ".join(series.where(row) for row in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise DataError(
            f"{series.source}: {column} is missing at {shown}{more}; a series needs a value at every step: fill "
            "the gaps (e.g. interpolate between neighbours) or cut the series before them"
        )
    return out


def _warn_on_gaps(series: Series) -> None:
    if len(series) < 3:
        return
    steps = np.diff(series.times)
    odd = np.flatnonzero(steps != series.step)
    if len(odd):
        row = int(odd[0]) + 1
        log.warning("%s: %d irregular time step(s), first at %s; windows treat rows as consecutive steps",
                    series.source, len(odd), series.where(row))


def format_time(value: Any) -> str:
    return str(value).replace("T", " ")


# --- calendar covariates ----------------------------------------------------------------------------------------
def calendar_covariates(times: np.ndarray, names: list[str]) -> np.ndarray:
    """(n,) datetime64 -> (n, 2 * len(names)) sin/cos of each calendar position (month, day of year, ...).

    >>> calendar_covariates(np.array(["2000-04"], dtype="datetime64[M]"), ["month"]).round(3)
    array([[ 0.   , -1.   ]])
    """
    if names and times.dtype.kind != "M":
        raise ConfigError(f"data.series.covariates: {', '.join(names)} need dates in the time column, "
                          "and it holds step numbers")
    columns = []
    for name in names:
        phase = 2 * np.pi * _calendar_position(times, name) / CALENDAR_PERIODS[name]
        columns += [np.sin(phase), np.cos(phase)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(times), 0))


def _calendar_position(times: np.ndarray, name: str) -> np.ndarray:
    if name == "month":  # 0 = January
        return (times.astype("datetime64[M]") - times.astype("datetime64[Y]")).astype(np.int64).astype(float)
    if name == "day_of_year":  # 0 = 1 January
        return (times.astype("datetime64[D]") - times.astype("datetime64[Y]")).astype(np.int64).astype(float)
    if name == "day_of_week":  # 0 = Monday (1970-01-01 was a Thursday)
        return ((times.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(float)
    if name == "hour":
        return (times.astype("datetime64[h]") - times.astype("datetime64[D]")).astype(np.int64).astype(float)
    raise ConfigError(f"data.series.covariates: unknown {name!r}; choose from {', '.join(CALENDAR_PERIODS)}")


def default_season(series: Series) -> int:
    """Steps per season from the time step: 12 for months, 7 for days, 24 for hours, ...; 1 if unknown."""
    if series.times.dtype.kind != "M" or len(series) < 2:
        return 1
    step = series.step
    unit, count = np.datetime_data(step.dtype)[0], int(step.astype(np.int64))
    if unit == "M" and count == 3:
        return 4  # quarters
    return DEFAULT_SEASONS.get(unit, 1) if count == 1 else 1


def future_times(series: Series, steps: int, step: Any = None) -> np.ndarray:
    """The `steps` times after the series' last row, one time step apart."""
    step = series.step if step is None else step
    return series.times[-1] + step * np.arange(1, steps + 1)
