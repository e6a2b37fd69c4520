"""`data.series`: a time series (a CSV with a time column) as windows to forecast; see SeriesConfig."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from deepscope.config.section import Section

FillMethod = Literal["interpolate", "ffill", "drop"]  # how a series' missing values are filled (data/gaps.py)


class SeriesConfig(Section):
    """A time series (a CSV with a time column): windows of `lookback` steps in, `horizon` steps out, split by time.

    The last `holdout` steps are the test period and the `val` steps before them the validation period;
    scaling is fitted on the training period only (see deepscope/data/windows.py). Each field says what it does.

        series: {time: Month, lookback: 24, horizon: 12, holdout: 24, scale: log, relative: true}
        series: {time: [year, month, day, hour], target: pm2.5, fill: {pm2.5: interpolate}, categorical: [cbwd]}
    """

    time: str | list[str] = Field(
        description="the time column: ISO 8601 dates/times (1949-01, 1981-01-31, 2010-01-01 06:00) or step numbers; "
                    "or the columns that hold its parts as whole numbers, coarsest first: [year, month, day, hour] "
                    "(then minute, second; a leading part of that list, e.g. [year, month])")
    values: list[str] | None = Field(None, description="value columns, the input channels (default: all but time)")
    categorical: list[str] = Field(
        default_factory=list,
        description="value columns that hold categories (a wind direction: NW, NE, SE, cv), each given to the "
                    "model as one-hot channels over the categories of the training period (one never seen there "
                    "is all zeros); they join the inputs whether or not `values` lists them; never the target")
    fill: FillMethod | dict[str, FillMethod] | None = Field(
        None,
        description="what to do with missing values (empty, NA, nan, ...): interpolate (linear in time; a gap at "
                    "either end takes the nearest value; numbers only), ffill (the last value before; a gap at "
                    "the start takes the first value), drop (remove those rows; windows then run across the "
                    "gap); one method for every column or one per column ({pm2.5: interpolate, cbwd: ffill}). "
                    "Default: a missing value is an error that names its line")
    target: str | None = Field(None, description="the value column to forecast (default: the first value column)")
    lookback: int = Field(24, ge=1, description="past steps the model reads")
    horizon: int = Field(1, ge=1, description="future steps it forecasts at once")
    stride: int = Field(1, ge=1, description="steps between the starts of consecutive training windows")
    holdout: float = Field(0.2, gt=0.0, description="test period: the last steps (>= 1) or a fraction (< 1) of them")
    val: float = Field(0.1, ge=0.0, description="steps (>= 1) or a fraction (< 1) of the rest, before the test period")
    season: int | None = Field(None, ge=1,
                               description="steps per season, for seasonal-naive (default: from the time step: "
                                           "months 12, quarters 4, weeks 52, days 7, hours 24, minutes 60, "
                                           "other steps that divide a day: a day's steps; else 1)")
    scale: Literal["standard", "minmax", "log", "none"] = Field("standard", description="log: log, then standard")
    relative: bool = Field(False, description="see each window relative to its last value and forecast the change "
                                              "from it (trends beyond the training range; with log: ratios)")
    covariates: list[Literal["month", "day_of_year", "day_of_week", "hour"]] = Field(
        default_factory=list, description="calendar inputs, each as a sin/cos pair of channels")
    loss: str = Field("mse", description="mse, mae or huber, in scaled units (the forecast head checks it)")

    _one_value = field_validator("values", "categorical", mode="before")(
        classmethod(lambda cls, v: [v] if isinstance(v, str) else v))

    @field_validator("holdout", "val")
    @classmethod
    def _whole_steps(cls, value: float) -> float:
        if value >= 1 and not float(value).is_integer():
            raise ValueError("give a whole number of steps (>= 1) or a fraction (< 1)")
        return value
