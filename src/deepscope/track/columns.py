"""Which metrics a runs table shows: one rule for `deepscope runs list` and the dashboard's runs table.

A run store row carries many metrics (every split, every output, lr, time, sample counts); a table has room for
a few. The rule, in order:

1. the keys the reader asked for (what they sort or filter on), when some listed run has them;
2. then scores only: a key whose `deepscope.metrics.direction` is None (lr, time, epoch, `test.n`) is not a
   score, so it is never a headline, and that table of names stays the one place that says so;
3. test before val before the rest (what a run achieved, then how its training ended);
4. within a split, the names each task is judged by first (accuracy, loss, ...), then the keys most runs
   have, then by name, so the order is the same at every listing;
5. every listed run keeps the score it is judged by (its first score in that order that is not a loss: accuracy
   for a classifier, MAE for a forecast, whose loss is on scaled values), so a table that mixes tasks still shows
   each task's headline, even when most runs do not have it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from deepscope.metrics import direction

METRIC_COLUMNS = 4  # metric columns of a runs table; more when the reader asks for more (sort and filter keys)
SPLIT_ORDER = ("test.", "val.")  # final evaluations first, then the last validation; train and the rest after
HEADLINE_NAMES = ("accuracy", "loss", "f1_macro", "mae", "rmse", "r2", "roc_auc")  # read first, whatever the task


def headline_columns(rows: Iterable[Mapping[str, Any]], first: Iterable[str] = ()) -> list[str]:
    """The metric keys a runs table shows as columns, for run store rows (dicts with a "metrics" dict).

    Args:
        rows: the listed runs; a key counts when at least one of them has it.
        first: keys asked for (a sort key, filtered keys); they lead, in their order, when a row has them,
            and take the first of the METRIC_COLUMNS places, so the table stays as wide.

    >>> rows = [{"metrics": {"test.loss": 0.3, "test.accuracy": 0.9, "test.n": 100, "val.loss": 0.4, "lr": 0.01}},
    ...         {"metrics": {"val.loss": 0.5, "train.loss": 0.6, "time": 2.0}}]
    >>> headline_columns(rows)
    ['test.accuracy', 'test.loss', 'val.loss', 'train.loss']
    >>> headline_columns(rows, first=["lr", "no.such.metric"])
    ['lr', 'test.accuracy', 'test.loss', 'val.loss']
    """
    rows = list(rows)
    counts = Counter(key for row in rows for key in row.get("metrics") or {})
    asked = [key for key in dict.fromkeys(first) if key in counts]
    scores = [key for key in counts if key not in asked and direction(key) is not None]
    scores.sort(key=lambda key: (split_rank(key), headline_rank(key), -counts[key], key))
    room = max(METRIC_COLUMNS - len(asked), 0)
    judged_by = [key for key in dict.fromkeys(_judged_by(row, scores) for row in rows) if key is not None]
    kept = set(judged_by[:room])
    kept |= set([key for key in scores if key not in kept][:room - len(kept)])
    return asked + [key for key in scores if key in kept]


def _judged_by(row: Mapping[str, Any], scores: list[str]) -> str | None:
    """The first of `scores` (in table order) that the row has and that is not a loss."""
    metrics = row.get("metrics") or {}
    return next((key for key in scores if key in metrics and not key.endswith("loss")), None)


def split_rank(key: str) -> int:
    """0 for test.*, 1 for val.*, 2 for the rest."""
    return next((i for i, prefix in enumerate(SPLIT_ORDER) if key.startswith(prefix)), len(SPLIT_ORDER))


def headline_rank(key: str) -> int:
    """Where the metric's own name (the last part: `test.label.accuracy` -> accuracy) sits in HEADLINE_NAMES."""
    name = key.rsplit(".", 1)[-1]
    return HEADLINE_NAMES.index(name) if name in HEADLINE_NAMES else len(HEADLINE_NAMES)
