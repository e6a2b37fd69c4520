"""Tables of metrics for the console."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from deepscope.formats import table_number


def print_metrics(metrics: dict[str, dict[str, Any]], console: Console | None = None) -> None:
    """One row per metric, one column per split; lists (confusion matrices) are left to the run files."""
    console = console or Console()
    # a forecasting run's "forecast" entry holds the evaluation beside the baselines, printed as its own table
    splits = [s for s, values in metrics.items() if any(isinstance(v, (int, float)) for v in values.values())]
    names = [k for k in dict.fromkeys(k for s in splits for k in metrics[s]) if _scalar(metrics, splits, k)]
    table = Table(title="metrics", show_edge=False)
    table.add_column("metric")
    for split in splits:
        table.add_column(split, justify="right")
    for name in names:
        table.add_row(name, *(table_number(metrics[s].get(name)) for s in splits))
    console.print(table)


def _scalar(metrics: dict[str, dict[str, Any]], splits: list[str], name: str) -> bool:
    return all(isinstance(metrics[s].get(name), (int, float, type(None))) for s in splits)

