"""`deepscope evaluate RUN [--split test]`: the saved model's metrics on a split of the run's data."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app
from deepscope.cli.output import print_metrics


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="a run directory"),
    split: str = typer.Option("test", help="train, val or test (a translation run: also NAME, for the files "
                              "NAME.SRC and NAME.TGT of its folder)"),
    beam: int = typer.Option(5, "--beam", help="a translation run: hypotheses kept by beam search (1: greedy)"),
    alpha: float = typer.Option(0.6, "--alpha", help="a translation run: the length penalty's exponent"),
) -> None:
    """Re-load the run's data and model, print its metrics on a split; also written to RUN/evaluation-SPLIT.json.
    A translation run's BLEU and chrF are sacreBLEU's, on the raw references, with its signature."""
    import deepscope as ds

    metrics = ds.evaluate(run, split, beam=beam, alpha=alpha)
    signatures = {k: metrics.pop(k) for k in ("bleu_signature", "chrf_signature") if k in metrics}
    print_metrics({split: metrics})
    for name, signature in signatures.items():
        typer.echo(f"{name.split('_')[0].upper()} signature: {signature}")
