"""`deepscope learning-curve CONFIG [key.path=value ...]`: would more data help?

Trains the config on growing fractions of its training data, prints the scores, fits a power law, says what
twice and ten times the data would likely give, and writes the plot and its numbers (JSON) into the run root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from deepscope.cli.main import app
from deepscope.formats import table_number


@app.command("learning-curve")
def learning_curve(
    config: Annotated[Path, typer.Argument(help="YAML config, e.g. examples/breastmnist.yaml")],
    overrides: Annotated[list[str] | None, typer.Argument(help="dotted overrides, e.g. train.epochs=20")] = None,
    fractions: Annotated[str, typer.Option(help="fractions of the training data, comma-separated")] = (
        "0.125,0.25,0.5,1"),
    out: Annotated[Path | None, typer.Option(
        help="the plot (PNG); default: RUN_ROOT/learning-curve-CONFIG.png")] = None,
    match_steps: Annotated[bool, typer.Option(help="give every fraction as many optimizer steps as the full data "
                                                    "(more epochs): slower, but a short recipe then does not "
                                                    "exaggerate the slope")] = False,
) -> None:
    """Train on growing fractions of the training data and judge whether more data would help."""
    import deepscope as ds
    from deepscope.diagnose.console import print_summary
    from deepscope.errors import ConfigError
    from deepscope.run.learning_curve import judge_curve

    try:
        numbers = [float(f) for f in fractions.split(",")]
    except ValueError:
        raise ConfigError(f"--fractions {fractions}: give numbers separated by commas, e.g. 0.125,0.25,0.5,1") from None
    # one line per fraction as it goes: this trains several models
    curve = ds.learning_curve(config, overrides or None, fractions=numbers, match_steps=match_steps, progress=True,
                              out=out or True)
    plot = Path(curve["plot"])
    console = Console(highlight=False)
    console.print(_table(curve))
    if "note" in curve:
        console.print(curve["note"])
    print_summary(console, judge_curve(curve))
    console.print(f"plot: {plot}  numbers: {plot.with_suffix('.json')}", soft_wrap=True)


def _table(curve: dict) -> Table:
    table = Table(title=f"learning curve ({curve['metric']} on {curve['split']})")
    for column in ("fraction", "examples", "epochs", curve["metric"], "loss", "seconds"):
        table.add_column(column, justify="right")
    for row in zip(curve["fractions"], curve["sizes"], curve["epochs"], curve["scores"], curve["losses"],
                   curve["seconds"]):
        fraction, n, epochs, score, loss, seconds = row
        table.add_row(f"{fraction:g}", f"{n:,}", str(epochs), table_number(score), table_number(loss), f"{seconds:.1f}")
    for k in ("2x", "10x"):
        table.add_row(f"{k} (projected)", f"{int(k[:-1]) * curve['sizes'][-1]:,}", "",
                      table_number(curve['projected'][k]), "", "", style="dim")
    return table
