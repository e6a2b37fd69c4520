"""`deepscope demo`: train a small CNN on scikit-learn's bundled digits, in seconds, with no download."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app
from deepscope.cli.output import print_metrics

DEMO_CONFIG = {
    "data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
    "model": {"encoder": "cnn"},
    "train": {"epochs": 15, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.01}, "schedule": "onecycle"},
    "run": {"name": "demo"},
}


@app.command()
def demo(root: Path = typer.Option(Path("runs"), help="folder for the run directory")) -> None:
    """Train on the bundled 8x8 digits and print test metrics (under a minute on 2 CPU cores)."""
    import deepscope as ds

    run = ds.train(DEMO_CONFIG, {"run.root": str(root)})
    print_metrics(run.metrics)
    typer.echo(f"run directory: {run.dir}")
    typer.echo(f"report: {run.dir / 'report.html'} (open it in a browser; it needs no network)")
    typer.echo(f"next: deepscope predict {run.dir} <image.png>   or   deepscope diagnose {run.dir}   or   "
               "deepscope ui (every run in a local dashboard)")
