"""The metric columns of a runs table (`deepscope runs list` and the dashboard): one rule, in
deepscope.track.columns."""

from __future__ import annotations

from deepscope.metrics import direction
from deepscope.track.columns import METRIC_COLUMNS, headline_columns


def row(**metrics: float) -> dict:
    """A run store row with these metrics; `test__accuracy` stands for the key test.accuracy."""
    return {"metrics": {key.replace("__", "."): value for key, value in metrics.items()}}


CLASSIFIER = row(test__accuracy=0.9, test__loss=0.3, test__f1_macro=0.8, test__precision_macro=0.8, test__n=100,
                 val__accuracy=0.85, val__loss=0.4, train__loss=0.35, lr=0.01, time=1.5, epoch=3)


def test_test_scores_come_first_in_the_order_each_task_is_read():
    assert headline_columns([CLASSIFIER]) == ["test.accuracy", "test.loss", "test.f1_macro", "test.precision_macro"]
    regression = row(test__r2=0.7, test__rmse=2.0, test__mae=1.5, test__loss=0.2)
    assert headline_columns([regression]) == ["test.loss", "test.mae", "test.rmse", "test.r2"]


def test_values_that_are_not_scores_are_never_headlines():
    counts_and_settings = row(val__loss=0.4, lr=0.01, time=2.0, epoch=4, test__n=50, val__label__n=50)
    assert headline_columns([counts_and_settings]) == ["val.loss"]
    shown = headline_columns([CLASSIFIER, counts_and_settings])
    assert all(direction(key) is not None for key in shown)  # the metrics' own table of directions decides


def test_without_a_test_evaluation_val_then_train_are_shown():
    stopped_early = row(val__loss=0.5, val__accuracy=0.8, train__loss=0.4, lr=0.001)
    assert headline_columns([stopped_early]) == ["val.accuracy", "val.loss", "train.loss"]


def test_keys_most_runs_have_come_before_rarer_ones():
    runs = [row(test__top5_accuracy=0.99, test__recall_macro=0.7), row(test__recall_macro=0.6)]
    assert headline_columns(runs) == ["test.recall_macro", "test.top5_accuracy"]


def test_keys_asked_for_lead_and_the_table_keeps_its_width():
    asked = headline_columns([CLASSIFIER], first=["val.loss", "lr", "val.loss", "no.such.metric"])
    assert asked == ["val.loss", "lr", "test.accuracy", "test.loss"]  # asked keys once, even a non-score
    assert len(asked) == METRIC_COLUMNS
    many = ["val.loss", "val.accuracy", "train.loss", "test.n", "time"]
    assert headline_columns([CLASSIFIER], first=many) == many  # more asked than room: all of them, nothing else


def test_no_rows_or_no_metrics_give_no_columns():
    assert headline_columns([]) == []
    assert headline_columns([{"metrics": {}}, {"name": "a run whose row has no metrics"}]) == []
