"""`deepscope predict RUN INPUT`: predictions for an image, a WAV file, a folder of them, a CSV file, or a text."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app


@app.command()
def predict(
    run: Path = typer.Argument(..., help="a finished run directory"),
    source: str = typer.Argument(..., metavar="INPUT", help="an image or WAV file, a folder of them, a CSV/TSV "
                                 "file, or (for a text model) the text itself in quotes"),
    output: Path | None = typer.Option(None, "--output", "-o", help="CSV to write (default: RUN/predictions.csv)"),
    server: str | None = typer.Option(None, "--server", metavar="URL", help="send the inputs to a running "
                                      "`deepscope serve` (e.g. http://127.0.0.1:8000) instead of loading the model"),
    api_key_env: str | None = typer.Option(None, "--api-key-env", metavar="NAME",
                                           help="the environment variable holding the server's API key"),
) -> None:
    """Predict with a trained model; writes one row per example with the prediction and class probabilities."""
    import os

    import deepscope as ds
    from deepscope.errors import UserError
    from deepscope.run.predict import write_predictions
    from deepscope.run.remote import predict_remote

    if server is None:
        rows = ds.predict(run, source)
    else:
        key = os.environ.get(api_key_env, "") if api_key_env else None
        if api_key_env and not key:
            raise UserError(f"--api-key-env {api_key_env}: the environment variable {api_key_env} is not set")
        rows = predict_remote(run, source, server, api_key=key)
    target = output or run / "predictions.csv"
    write_predictions(target, rows)
    for row in rows[:10]:
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                 if k not in ("input", "probabilities")}
        typer.echo(f"{_abbreviated(str(row['input']))}: {shown}")
    if len(rows) > 10:
        typer.echo(f"... {len(rows) - 10} more")
    typer.echo(f"predictions: {target}")


def _abbreviated(name: str, width: int = 60) -> str:
    """A paragraph given as the input is shown by its start (the CSV keeps it whole)."""
    return name if len(name) <= width else name[: width - 3] + "..."
