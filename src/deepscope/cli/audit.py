"""`deepscope audit RUN --by COLUMN [--by COLUMN ...] [--split test] [--positive CLASS] [--mitigate thresholds]
[--constraint demographic_parity|equalized_odds] [--json]`: how a classifier treats the groups of a column."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deepscope.cli.main import app
from deepscope.cli.output import literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# the table's columns, short so that a terminal of 80 columns holds them: audit key -> heading; all in %
COLUMNS = {"selection_rate": "sel.", "base_rate": "base", "accuracy": "acc.", "tpr": "TPR", "fpr": "FPR",
           "precision": "prec.", "calibration_error": "ECE"}
LEGEND = ("sel.: predicted {positive}; base: truly {positive}; acc.: correct; TPR / FPR: true- / false-positive "
          "rate; prec.: precision; ECE: calibration error")
DISPARITY = {"accuracy": "accuracy", "selection_rate": "selection rate",
             "demographic_parity_difference": "demographic parity difference",
             "demographic_parity_ratio": "demographic parity ratio",
             "equalized_odds_difference": "equalised odds difference"}
BY_HELP = "a column of the data (an input or not); numbers are binned by quantiles; repeat for intersections"
CONSTRAINT_HELP = "what the thresholds equalise: demographic_parity (selection rates) or equalized_odds (TPR and FPR)"


@app.command()
def audit(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="a classification run directory")],
    by: Annotated[list[str], typer.Option("--by", help=BY_HELP)],
    split: Annotated[str, typer.Option(help="the split to audit: train, val or test")] = "test",
    positive: Annotated[str | None, typer.Option(help="the class audited against the rest")] = None,
    mitigate: Annotated[str | None, typer.Option(help="thresholds: one threshold per group, fitted on val")] = None,
    constraint: Annotated[str, typer.Option(help=CONSTRAINT_HELP)] = "demographic_parity",
    json_output: Annotated[bool, typer.Option("--json", help="print the audit as JSON")] = False,
) -> None:
    """Fairness audit: per group rates with 95 % intervals, the disparity between groups, what it means, and
    (with --mitigate thresholds) the before / after of group thresholds. Written to RUN/audit.json."""
    import deepscope as ds
    from deepscope.run.audit import AUDIT_FILE

    result = ds.audit(run, by, split=split, positive=positive, mitigate=mitigate, constraint=constraint)
    if json_output:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    from rich.console import Console

    console = Console()
    print_groups(console, result, split)
    print_findings(console, result)
    if result.mitigation:
        print_mitigation(console, result.mitigation)
    console.print(literal(f"written to {Path(run) / AUDIT_FILE}"), style="dim")


def print_groups(console: Console, result: Any, split: str) -> None:
    from rich.table import Table

    title = f"{' × '.join(result.by)} on {split}: predicted {result.positive}, % with 95 % interval, worst first"
    table = Table(title=literal(title), show_edge=False)
    table.add_column(literal(" & ".join(result.by)))
    table.add_column("n", justify="right")
    for heading in COLUMNS.values():
        table.add_column(heading, justify="right")
    for group in result.groups:
        cells = [_rate(group.values[k], group.intervals[k]) for k in COLUMNS]
        table.add_row(literal(group.group), f"{group.count:,}", *cells)
    console.print(table)
    console.print(literal(LEGEND.format(positive=result.positive)), style="dim")
    overall = result.overall
    console.print(f"demographic parity difference {overall['demographic_parity_difference']:.3f}, "
                  f"ratio {_number(overall['demographic_parity_ratio'])}; "
                  f"equalised odds difference {overall['equalized_odds_difference']:.3f}", highlight=False)


def print_findings(console: Console, result: Any) -> None:
    from deepscope.diagnose.console import format_finding

    if not result.findings:
        console.print("no disparity found: selection rates pass the four-fifths rule and error rates agree "
                      "within 10 points", highlight=False)
    for finding in result.findings:
        console.print()
        console.print(format_finding(finding), highlight=False)


def print_mitigation(console: Console, mitigation: dict[str, Any]) -> None:
    from rich.table import Table

    console.print()
    # a line of its own, not the table's title: a title wraps at the width of the narrow table
    console.print(literal(f"group thresholds ({mitigation['constraint']}, fitted on val), on the audited split:"))
    table = Table(show_edge=False)
    for heading in ("", "before", "after"):
        table.add_column(heading, justify="right" if heading else "left")
    for key, name in DISPARITY.items():
        table.add_row(name, _number(mitigation["before"][key]), _number(mitigation["after"][key]))
    console.print(table)


def _rate(value: float, interval: tuple[float, float]) -> Text:
    """The estimate, and its 95 % interval dim on the line below: narrow enough for eight columns."""
    from rich.text import Text

    if math.isnan(value):
        return Text("n/a")
    low, high = interval
    below = "" if math.isnan(low) else f"{low * 100:.0f}–{high * 100:.0f}"
    return Text.assemble(f"{value * 100:.0f}\n", (below, "dim"))


def _number(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"
