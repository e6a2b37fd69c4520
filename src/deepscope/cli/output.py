"""What the console prints: tables of metrics, and the one rule for text that came from a user or a run folder.

Rich reads `[...]` in a string as markup: a tag `[/red]` crashes a print with a MarkupError and `[link=...]`
becomes a terminal hyperlink. Every run name, tag, note, config value, path, problem or finding text goes through
`literal` (a rich Text, printed as it is written) or `plain` (the same for typer.echo), which also replace control
characters (an ESC sequence in a run name would drive the terminal).

    console.print(literal(row["name"]), "finished")      # "[/red]" prints as those six characters
    table.add_row(*cells(row["name"], row["status"]))
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from deepscope.formats import table_number

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls, tab and newline kept
REPLACEMENT = "\ufffd"


def plain(value: Any) -> str:
    """`value` as text with its control characters replaced: for typer.echo and other unstyled prints."""
    return CONTROL.sub(REPLACEMENT, value if isinstance(value, str) else str(value))


def literal(value: Any, style: str = "") -> Text:
    """`value` as a rich Text: printed exactly as written (no markup), control characters replaced."""
    return Text(plain(value), style=style)


def cells(*values: Any) -> list[Text]:
    """Table cells of user text (`table.add_row(*cells(...))`): each printed literally."""
    return [literal(value) for value in values]


def print_metrics(metrics: dict[str, dict[str, Any]], console: Console | None = None) -> None:
    """One row per metric, one column per split; lists (confusion matrices) are left to the run files."""
    console = console or Console()
    # a forecasting run's "forecast" entry holds the evaluation beside the baselines, printed as its own table
    splits = [s for s, values in metrics.items() if any(isinstance(v, (int, float)) for v in values.values())]
    names = [k for k in dict.fromkeys(k for s in splits for k in metrics[s]) if _scalar(metrics, splits, k)]
    table = Table(title="metrics", show_edge=False)
    table.add_column("metric")
    for split in splits:
        table.add_column(literal(split), justify="right")
    for name in names:
        table.add_row(literal(name), *(table_number(metrics[s].get(name)) for s in splits))
    console.print(table)


def _scalar(metrics: dict[str, dict[str, Any]], splits: list[str], name: str) -> bool:
    return all(isinstance(metrics[s].get(name), (int, float, type(None))) for s in splits)
