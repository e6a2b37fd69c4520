"""A forecaster behind the server: the history goes as JSON columns, the way the training CSV had them, and the
answer is the forecast `deepscope predict RUN file.csv` gives for the same rows, with the times it is for; a bad
history gets a 422 naming the column and the row, and the server goes on."""

from __future__ import annotations

import csv

import pytest
from fastapi.testclient import TestClient

from deepscope.run.forecast import forecast_from_csv
from deepscope.serve import ServeOptions, create_app
from deepscope.track.runinfo import read_run
from tests.serve.conftest import listening


def history(run: str, rows: int | None = None) -> dict[str, list]:
    """The training CSV's columns (numbers as numbers), its last `rows` rows."""
    with open(read_run(run).config["data"]["source"]) as handle:
        table = list(csv.DictReader(handle))[-(rows or 0):]
    return {"Month": [r["Month"] for r in table], "Passengers": [float(r["Passengers"]) for r in table]}


def written(columns: dict[str, list], path) -> str:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values()))
    return str(path)


def test_a_history_gets_the_forecast_of_the_same_rows_as_a_csv(forecast_run, tmp_path):
    recent = history(forecast_run, rows=10)
    local = forecast_from_csv(forecast_run, written(recent, tmp_path / "recent.csv"))
    older = {name: values[:-2] for name, values in recent.items()}
    with TestClient(create_app(ServeOptions(run=forecast_run))) as c:
        one = c.post("/predict", json={"history": recent})
        two = c.post("/predict", json=[{"history": recent}, {"history": older}])
        meta = c.get("/metadata").json()
        schema = c.get("/openapi.json").json()["components"]["schemas"]["Item"]["properties"]["history"]
    assert one.status_code == 200, one.text
    answer = one.json()
    assert answer["Month"] == [row["Month"] for row in local] == ["2005-01", "2005-02", "2005-03"]
    assert answer["Passengers"] == pytest.approx([row["Passengers"] for row in local], abs=1e-4)
    assert len(two.json()) == 2 and two.json()[0]["Month"] == answer["Month"]
    assert two.json()[0]["Passengers"] == pytest.approx(answer["Passengers"], rel=1e-5)  # batched: float32 sums
    assert two.json()[1]["Month"] == ["2004-11", "2004-12", "2005-01"]
    assert meta["inputs"]["history"] == {"type": "timeseries", "time": "Month", "values": ["Passengers"],
                                         "categorical": [], "lookback": 6}
    assert meta["outputs"]["Passengers"]["horizon"] == 3
    assert set(schema["properties"]) == {"Month", "Passengers"} and schema["properties"]["Month"]["minItems"] == 6


BAD = {
    "too short": (lambda h: {k: v[-4:] for k, v in h.items()}, "4 rows, and this model reads the last 6"),
    "backwards": (lambda h: {"Month": h["Month"][::-1], "Passengers": h["Passengers"]}, "goes back in time"),
    "a text value": (lambda h: {**h, "Passengers": [*h["Passengers"][:-1], "many"]},
                     "Passengers, row 8: 'many' is not a number"),
    "an unreadable time": (lambda h: {**h, "Month": ["soon", *h["Month"][1:]]}, "cannot read 'soon'"),
    "a missing column": (lambda h: {"Month": h["Month"]}, "missing: Passengers"),
    "an unknown column": (lambda h: {**h, "Cargo": h["Passengers"]}, "unknown: Cargo"),
    "uneven columns": (lambda h: {**h, "Passengers": h["Passengers"][:-1]}, "different numbers of rows"),
    "not columns": (lambda h: [1, 2, 3], "expected an object of columns"),
    "a missing value": (lambda h: {**h, "Passengers": [None, *h["Passengers"][1:]]}, "missing"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_history_gets_a_422_that_says_what_and_where(forecast_run, case):
    spoil, reason = BAD[case]
    with TestClient(create_app(ServeOptions(run=forecast_run))) as c:
        answer = c.post("/predict", json={"history": spoil(history(forecast_run, rows=8))})
        assert c.get("/health").status_code == 200
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["loc"] == ["history"] and reason in problem["msg"], problem


def test_predict_server_forecasts_a_csv_as_predict_does(forecast_run, tmp_path):
    from deepscope.run.predict import predict
    from deepscope.run.remote import predict_remote

    path = written(history(forecast_run, rows=12), tmp_path / "recent.csv")
    with listening(create_app(ServeOptions(run=forecast_run))) as url:
        remote = predict_remote(forecast_run, path, url)
    local = predict(forecast_run, path)
    assert [(r["input"], r["Month"]) for r in remote] == [(r["input"], r["Month"]) for r in local]
    assert [r["Passengers"] for r in remote] == pytest.approx([r["Passengers"] for r in local], abs=1e-4)


def test_a_forecast_is_explained_over_its_lookback_steps_and_channels(forecast_run):
    with TestClient(create_app(ServeOptions(run=forecast_run))) as c:
        answer = c.post("/explain", json={"history": history(forecast_run, rows=8)})
    assert answer.status_code == 200, answer.text
    attributions = answer.json()["attributions"]
    assert answer.json()["input"] == "history" and len(attributions) == 1
    assert len(attributions[0]) == 6 and all(len(step) == len(attributions[0][0]) >= 1 for step in attributions[0])
