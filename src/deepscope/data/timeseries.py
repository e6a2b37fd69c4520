"""Time series from a CSV: a time column (or its parts in several columns) and value columns, read and checked
(sorted, unique times, numbers or categories, gaps filled as the config says), plus what the calendar says about
each step (covariates, the default season). Splitting by time and cutting into windows is in
`deepscope.data.windows`; filling gaps is in `deepscope.data.gaps`.

    series = read_series("airline-passengers.csv", time="Month", values=["Passengers"])
    len(series), series.columns   # 144, ["Passengers"]
    series = read_series("beijing.csv", time=["year", "month", "day", "hour"], values=["pm2.5", "TEMP", "cbwd"],
                         categorical=["cbwd"], fill={"pm2.5": "interpolate"})
    series.step, series.columns, list(series.categories)   # 1 hour, ["pm2.5", "TEMP"], ["cbwd"]
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.data.gaps import fill_series
from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")

# periods of the calendar covariates, each given to the model as a sin/cos pair
CALENDAR_PERIODS = {"month": 12.0, "day_of_year": 365.25, "day_of_week": 7.0, "hour": 24.0}
# steps per season for the seasonal-naive baseline when the config gives none, by the series' time step
# (count, unit); another step that divides a day gets a day's worth of steps (see default_season)
DEFAULT_SEASONS = {(1, "M"): 12, (3, "M"): 4, (1, "W"): 52, (1, "D"): 7, (1, "h"): 24, (1, "m"): 60}
# the parts of a time spread over columns (data.series.time: [year, month, day, hour]), coarsest first, with
# the text each part contributes to an ISO 8601 time
TIME_PARTS = (("year", "{:04d}"), ("month", "-{:02d}"), ("day", "-{:02d}"), ("hour", "T{:02d}"),
              ("minute", ":{:02d}"), ("second", ":{:02d}"))


@dataclass
class Series:
    """A checked series: `times` (n,) datetime64 (or int64 step numbers), `values` (n, V) float64 of the number
    columns `columns`, and `categories` {column: (n,) str} for the categorical ones.

    `lines` are the file lines of the rows (rows dropped by `fill: drop` leave holes), so that messages point
    into the file; `time_column` names the time's column(s) for those messages.
    """

    times: np.ndarray
    values: np.ndarray
    columns: list[str]
    time_column: str
    source: str = "series"
    lines: np.ndarray | None = None  # default: rows are lines 2, 3, ... (after the header)
    categories: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.lines is None:
            self.lines = np.arange(len(self.times), dtype=np.int64) + 2

    def __len__(self) -> int:
        return len(self.times)

    def column(self, name: str) -> np.ndarray:
        """One value column, (n,) float64."""
        return self.values[:, self.columns.index(name)]

    def rows(self, index: slice | np.ndarray) -> Series:
        """The rows at `index` (a slice or a boolean mask), every column and category with them."""
        return replace(self, times=self.times[index], values=self.values[index], lines=self.lines[index],
                       categories={name: labels[index] for name, labels in self.categories.items()})

    def head(self, stop: int) -> Series:
        """The first `stop` steps: what could be seen at time `stop`."""
        return self.rows(slice(None, stop))

    def tail(self, steps: int) -> Series:
        return self.rows(slice(max(len(self) - steps, 0), None))

    def where(self, row: int) -> str:
        """'line 7 (1949-06)': a row as a person finds it in the file."""
        return f"line {self.lines[row]} ({format_time(self.times[row])})"

    @property
    def step(self) -> np.timedelta64 | int:
        """The most common difference between consecutive times (a month, a day, ... or 1 for step numbers)."""
        if len(self) < 2:
            raise DataError(f"{self.source}: one row is not enough to tell the time step")
        steps, counts = np.unique(np.diff(self.times), return_counts=True)
        return steps[np.argmax(counts)]


# --- reading ----------------------------------------------------------------------------------------------------
def read_series(path: str | Path, *, time: str | list[str], values: list[str] | None = None,
                target: str | None = None, delimiter: str | None = None, categorical: list[str] | None = None,
                fill: str | dict[str, str] | None = None, header: bool | None = None, columns: list[str] | None = None,
                encoding: str | None = None, strip: dict[str, str] | None = None) -> Series:
    """Read and check a series: the time parsed and strictly increasing, the values numbers or categories,
    missing values filled as `fill` says (else an error).

    Args:
        path: a CSV/TSV file with a header row; `$VARS` in it are expanded (e.g. `$DEEPSCOPE_DATA/...`).
        time: the time column: ISO 8601 dates or times (`1949-01`, `1981-01-31`, `1981-01-31 06:00`), or
            whole numbers counting steps; or the columns holding its parts, coarsest first
            (`["year", "month", "day", "hour"]`).
        values: the value columns (default: every column but the time's).
        target: the column to forecast; it must be one of `values` and a number (default: the first number column).
        categorical: value columns holding categories (they join the value columns if `values` omits them).
        fill: "interpolate", "ffill" or "drop" for every column, or {column: method}; None: gaps are errors.
        header, columns, encoding, strip: how the file is read, as for any table (`load_csv`): a file without a header
            row says header=False and names its columns in `columns` (which `time` and `values` then use).

    Raises:
        DataError: a missing file or column, a time that cannot be read, times out of order or repeated,
            a missing value that `fill` does not cover, a non-numeric value in a number column (the message
            gives the line and the time).

    Example:
        >>> series = read_series("airline-passengers.csv", time="Month")   # doctest: +SKIP
        >>> series.columns, series.values.shape, series.times[0]           # doctest: +SKIP
        (['Passengers'], (144, 1), numpy.datetime64('1949-01'))
    """
    from deepscope.data.sources.csv_table import load_csv

    path = expand_path(path)
    table = load_csv(path, delimiter=delimiter, header=header, columns=columns, encoding=encoding, strip=strip)
    return series_from_columns(table.splits["train"], time=time, values=values, target=target,
                               categorical=categorical, fill=fill, source=path,
                               first_line=1 if header is False else 2)


def series_from_columns(columns: dict[str, Any], *, time: str | list[str], values: list[str] | None = None,
                        target: str | None = None, categorical: list[str] | None = None,
                        fill: str | dict[str, str] | None = None, source: Any = "input",
                        first_line: int = 2) -> Series:
    """A checked series from columns already in memory (a CSV's, or a request's JSON: times as texts or whole
    numbers, values as texts or numbers, None for missing); `read_series` without the file. `first_line` is the
    line of the first row in messages (row numbers count from 1 with first_line=1)."""
    time_columns = [time] if isinstance(time, str) else list(time)
    categorical = list(categorical or [])
    channels = _check_columns(source, list(columns), time_columns, values, target, categorical)
    lengths = {name: len(columns[name]) for name in [*time_columns, *channels]}
    if len(set(lengths.values())) > 1:
        raise DataError(f"{source}: the columns hold different numbers of rows ({lengths}); give one value per "
                        "time in every column")
    label = ", ".join(time_columns)
    texts = columns[time_columns[0]] if len(time_columns) == 1 else combine_time_columns(columns, time_columns, source)
    times = parse_times(texts, source, label, first_line)
    lines = np.arange(len(times), dtype=np.int64) + first_line
    series = Series(times, np.zeros((len(times), 0)), [], label, source=str(source), lines=lines)
    check_order(series)
    numeric = [name for name in channels if name not in categorical]
    numbers = np.stack([_parse_numbers(columns[name], series, name) for name in numeric], axis=1)
    categories = {name: np.asarray(columns[name], dtype=object) for name in categorical}
    series = replace(series, values=numbers, columns=numeric, categories=categories)
    series = fill_series(series, fill)
    _warn_on_gaps(series)
    return series


def expand_path(path: str | Path) -> Path:
    """`$DEEPSCOPE_DATA/time-series/x.csv` -> the file; an unset variable is named in the error."""
    expanded = os.path.expandvars(str(path))
    if "$" in expanded:
        variable = expanded[expanded.index("$"):].split("/")[0]
        raise DataError(f"data.source: {path} uses {variable}, which is not set; set it (e.g. "
                        f"export DEEPSCOPE_DATA=../shared/data) or give the file's path")
    return Path(expanded).expanduser()


def _check_columns(path: Any, names: list[str], time: list[str], values: list[str] | None, target: str | None,
                   categorical: list[str]) -> list[str]:
    """The value columns (channels) after checking every named column exists and plays one part."""
    known = ", ".join(names)
    if len(time) > len(TIME_PARTS):
        raise ConfigError(f"data.series.time: {len(time)} columns, and a time has at most {len(TIME_PARTS)} parts "
                          f"({', '.join(part for part, _ in TIME_PARTS)})")
    for key, listed in (("time", time), ("values", values or []), ("categorical", categorical)):
        for name in listed:
            if name not in names:
                raise DataError(f"data.series.{key}: no column {name!r} in {path}; columns are: {known}")
            if key != "time" and name in time:
                raise ConfigError(f"data.series.{key}: {name!r} is a time column; list the value columns only")
    chosen = list(values) if values else [c for c in names if c not in time]
    chosen += [name for name in categorical if name not in chosen]
    if not chosen:
        raise DataError(f"{path}: only the time column(s) {', '.join(time)}; a series needs a value column")
    if target is not None and target not in chosen:
        where = "data.series.values" if values else path
        raise DataError(f"data.series.target: {target!r} is not among the value columns ({', '.join(chosen)} "
                        f"in {where}); add it to data.series.values or pick one of them")
    if target in categorical or not [name for name in chosen if name not in categorical]:
        raise ConfigError(f"data.series.target: {target or chosen[0]!r} is categorical, and a forecast is of a "
                          "number column; set data.series.target to one (or add one to data.series.values)")
    return chosen


def combine_time_columns(columns: dict[str, np.ndarray], names: list[str], path: Any = "input") -> np.ndarray:
    """Columns holding a time's parts as whole numbers, coarsest first -> (n,) ISO 8601 texts.

    >>> combine_time_columns({"y": np.array(["2010"]), "m": np.array(["1"]), "h": np.array(["5"])}, ["y", "m"])
    array(['2010-01'], dtype=object)
    """
    texts = np.full(len(columns[names[0]]), "", dtype=object)
    for name, (part, form) in zip(names, TIME_PARTS):
        for row, text in enumerate(columns[name]):
            text = None if text is None else str(text).strip()
            if text is None or not text.isdigit():
                raise DataError(
                    f"{path}, line {row + 2}: the {part} ({name}) is {text!r}; data.series.time: [{', '.join(names)}] "
                    f"reads the columns as {', '.join(part for part, _ in TIME_PARTS[:len(names)])} in whole numbers"
                )
            texts[row] += form.format(int(text))
    return texts


def parse_times(texts: np.ndarray, path: Any = "input", column: str = "time", first_line: int = 2) -> np.ndarray:
    """ISO 8601 texts -> datetime64 (the finest unit among them); whole numbers -> int64 step numbers.

    >>> parse_times(np.array(["1949-01", "1949-02"], dtype=object))
    array(['1949-01', '1949-02'], dtype='datetime64[M]')
    """
    texts = [None if t is None else str(t).strip() for t in texts]
    for row, text in enumerate(texts):
        if text is None:
            raise DataError(f"{path}, line {row + first_line}: the time ({column}) is missing; every row needs its "
                            "time")
    if all(_is_whole_number(t) for t in texts):
        return np.array([int(t) for t in texts], dtype=np.int64)
    parsed = []
    for row, text in enumerate(texts):
        try:
            parsed.append(np.datetime64(text.replace(" ", "T", 1) if " " in text else text))
        except ValueError:
            raise DataError(
                f"{path}, line {row + first_line}: cannot read {text!r} in {column} as a date or time; write times in "
                "ISO 8601 (1949-01, 1981-01-31, 1981-01-31 06:00) or as whole step numbers, or give their parts' "
                "columns: data.series.time: [year, month, day, hour]"
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
            f"in {series.time_column} (also on line {series.lines[row - 1]}); a series needs one row per "
            "time: remove or merge the duplicate (e.g. average the two rows)"
        )
    if backwards.any():
        row = int(np.argmax(backwards)) + 1
        raise DataError(
            f"{series.source}, {series.where(row)}: {series.time_column} goes back in time (the line before is "
            f"{format_time(series.times[row - 1])}); sort the file by {series.time_column}, oldest first"
        )


def _parse_numbers(texts: np.ndarray, series: Series, column: str) -> np.ndarray:
    """(n,) texts -> float64, NaN where missing (fill_series decides about those)."""
    out = np.empty(len(texts), dtype=np.float64)
    for row, text in enumerate(texts):
        try:
            out[row] = np.nan if text is None else float(text)
        except (TypeError, ValueError):
            raise DataError(f"{series.source}, {series.where(row)}: {text!r} in {column} is not a number; if "
                            f"{column} holds categories (a wind direction, a weekday), add it to "
                            "data.series.categorical; else fix the value") from None
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
    """A time as a person writes it: `1981-01-31 06:00` (hours get their minutes: `06`, alone, reads as a day)."""
    if isinstance(value, np.datetime64) and np.datetime_data(value.dtype)[0] == "h":
        value = value.astype("datetime64[m]")
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
    """Steps per season from the time step: 12 for months, 7 for days, 24 for hours, ...; 1 if unknown.

    The step is read in its coarsest whole unit first, because the unit numpy parses is that of the text:
    `2010-01-01 06:00` is in minutes, so an hourly series steps by 60 minutes, which is one hour.

    >>> default_season(Series(np.array(["2010-01-01T00:00", "2010-01-01T01:00"], dtype="datetime64[m]"),
    ...                       np.zeros((2, 1)), ["x"], "time"))
    24
    """
    if series.times.dtype.kind != "M" or len(series) < 2:
        return 1
    count, unit = step_in_coarsest_unit(series.step)
    if (count, unit) in DEFAULT_SEASONS:
        return DEFAULT_SEASONS[(count, unit)]
    day = np.timedelta64(1, "D")
    if unit not in ("Y", "M", "W", "D") and day % series.step == np.timedelta64(0, "D"):
        return int(day // series.step)  # a sub-daily step that divides a day (30 minutes, 3 hours): the daily cycle
    return 1


def step_in_coarsest_unit(step: np.timedelta64) -> tuple[int, str]:
    """np.timedelta64(60, "m") -> (1, "h"); np.timedelta64(14, "D") -> (2, "W"); months and years stay as they are.

    >>> step_in_coarsest_unit(np.timedelta64(60, "m"))
    (1, 'h')
    """
    unit = np.datetime_data(step.dtype)[0]
    if unit in ("Y", "M"):  # calendar units do not convert to days
        return int(step.astype(np.int64)), unit
    for coarser in ("W", "D", "h", "m", "s"):
        if step % np.timedelta64(1, coarser) == np.timedelta64(0, coarser):
            return int(step // np.timedelta64(1, coarser)), coarser
    return int(step.astype(np.int64)), unit


def future_times(series: Series, steps: int, step: Any = None) -> np.ndarray:
    """The `steps` times after the series' last row, one time step apart."""
    step = series.step if step is None else step
    return series.times[-1] + step * np.arange(1, steps + 1)
