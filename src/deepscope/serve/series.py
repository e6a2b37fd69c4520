"""A forecaster's requests: the history as an object of columns, the way the training CSV had them.

    {"history": {"Month": ["1960-01", ..., "1960-12"], "Passengers": [417, ..., 432]}}
    -> {"Passengers": [447.1, ...], "Month": ["1961-01", ...]}      (the next `horizon` steps and their times)

The validator builds the checked Series the CSV path builds (data/timeseries.series_from_columns: times parsed and
strictly increasing, gaps filled as in training), so a request and a file are read alike; what is wrong is said
in the same words, under the field's name.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from deepscope.data.features.timeseries import TimeseriesFeature
from deepscope.data.timeseries import series_from_columns
from deepscope.errors import UserError
from deepscope.run.forecast import forecast_times
from deepscope.serve.schema import LARGEST

MAX_ROWS = 100_000  # rows of history per request: years of hourly data; only the last `lookback` are read


def series_field(feature: TimeseriesFeature) -> Any:
    o = feature.options
    times = [o.time] if isinstance(o.time, str) else list(o.time)
    columns = [*times, *o.values, *[c for c in o.categorical if c not in o.values]]

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"expected an object of columns {{{', '.join(map(repr, columns))}: [...]}}, each a "
                             "list of the series' rows, oldest first")
        unknown, missing = sorted(set(value) - set(columns)), [c for c in columns if c not in value]
        if unknown or missing:
            raise ValueError(f"the columns are {', '.join(columns)}" + (f"; missing: {', '.join(missing)}" if missing
                             else "") + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
        for name in columns:
            _check_column(name, value[name], times, o.categorical)
        rows = len(value[columns[0]])
        if rows < o.lookback:
            raise ValueError(f"{rows} rows, and this model reads the last {o.lookback} (its lookback); send at "
                             f"least {o.lookback}")
        try:
            return series_from_columns(value, time=o.time, values=list(o.values), target=o.target,
                                       categorical=list(o.categorical), fill=o.fill, source=feature.name,
                                       first_line=1)
        except UserError as error:
            raise ValueError(str(error)) from None

    number = {"anyOf": [{"type": "number", "minimum": -LARGEST, "maximum": LARGEST}, {"type": "null"}]}
    kinds = {**{t: {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}]} for t in times},
             **{c: number for c in o.values}, **{c: {"anyOf": [{"type": "string"}, {"type": "null"}]}
                                                for c in o.categorical if c not in o.values}}
    schema = {"type": "object", "additionalProperties": False, "required": columns,
              "properties": {name: {"type": "array", "items": kind, "minItems": o.lookback, "maxItems": MAX_ROWS}
                             for name, kind in kinds.items()}}
    return Annotated[Any, PlainValidator(check), WithJsonSchema(schema)]


def _check_column(name: str, column: Any, times: list[str], categorical: list[str]) -> None:
    if not isinstance(column, list) or not 1 <= len(column) <= MAX_ROWS:
        raise ValueError(f"{name}: expected a list of 1 to {MAX_ROWS:,} values, one per row")
    for row, v in enumerate(column, 1):
        if name in times:
            fine = isinstance(v, int) and not isinstance(v, bool) or isinstance(v, str) and v.strip()
            what = "a time (an ISO 8601 text or a whole step number)"
        elif name in categorical:
            fine, what = v is None or isinstance(v, str), "a category (a text) or null"
        else:
            fine = v is None or isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= LARGEST
            what = f"a number from -{LARGEST:g} to {LARGEST:g}, or null for a missing value"
        if not fine:
            raise ValueError(f"{name}, row {row}: {v!r} is not {what}")


def with_forecast_times(rows: list[dict[str, Any]], inputs: dict[str, Any], columns: dict[str, list[Any]]
                        ) -> list[dict[str, Any]]:
    """Each forecast with the times it is for, under the time column's name (the answers of other models as
    they are)."""
    history = next((f for f in inputs.values() if isinstance(f, TimeseriesFeature)), None)
    if history is None:
        return rows
    dated = []
    for row, series in zip(rows, columns[history.name]):
        steps = max(len(v) for v in row.values() if isinstance(v, list))
        time, texts = forecast_times(history, series, steps)
        dated.append({**row, time: texts})
    return dated
