"""`deepscope evaluate RUN [--split test]`: the saved model's metrics on a split of the run's data."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app
from deepscope.cli.output import print_metrics


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="a run directory"),
    split: str = typer.Option("test", help="train, val or test"),
) -> None:
    """Re-load the run's data and model, print its metrics on a split; also written to RUN/evaluation-SPLIT.json."""
    import deepscope as ds

    metrics = ds.evaluate(run, split)
    print_metrics({split: metrics})
