"""`deepscope export RUN --format onnx|torchscript|pt2 [--out PATH] [--check N]`: a file that serves the model
alone, and how closely it matches PyTorch on held-out inputs."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app
from deepscope.formats import message_number


@app.command()
def export(
    run: Path = typer.Argument(..., help="a finished run directory"),
    fmt: str = typer.Option("onnx", "--format", help="onnx, torchscript or pt2"),
    out: Path | None = typer.Option(None, "--out", help="the file to write (default: RUN/export/model.onnx, "
                                    ".ts or .pt2; a folder: model.SUFFIX in it)"),
    check: int = typer.Option(256, "--check", help="held-out examples the parity check runs (0: none)"),
    split: str | None = typer.Option(None, "--split", help="the split the parity check's examples come from "
                                     "(default: test, else val, else train)"),
) -> None:
    """Export a trained model to ONNX, TorchScript or pt2, with its features inside, and check it against PyTorch."""
    import deepscope as ds

    result = ds.export(run, fmt, out, check_n=check, split=split)
    typer.echo(f"wrote {result.path} ({result.format}, exporter: {result.exporter})")
    if result.fallback_reason:
        typer.echo(f"the dynamo exporter failed ({result.fallback_reason}); the TorchScript-based one was used")
    if not result.n_checked:
        typer.echo("no parity check (--check 0)")
        return
    typer.echo(f"parity on {result.n_checked:,} {result.split} inputs: max |{result.format} - torch| = "
               f"{message_number(result.max_abs_diff)} ({result.worst})")
    if not result.passes:
        typer.echo(f"warning: the export differs from PyTorch by {message_number(result.max_abs_diff)} on "
                   f"{result.worst}, more than {message_number(result.tolerance)}: its predictions are not the "
                   "model's; try another --format, or report it with the run's config", err=True)
