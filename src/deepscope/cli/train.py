"""`deepscope train CONFIG [key.path=value ...]`, `deepscope train DATA [--target COLUMN]` (no config: everything
inferred) and `deepscope train --resume RUN_DIR`."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app
from deepscope.cli.output import print_metrics


@app.command()
def train(
    config: Path | None = typer.Argument(None, help="YAML config, e.g. examples/mnist.yaml; or data with no config: "
                                         "a CSV/TSV table (with --target), a folder of class sub-folders, an .npz"),
    overrides: list[str] | None = typer.Argument(None, help="dotted overrides, e.g. train.epochs=3"),
    target: str | None = typer.Option(None, "--target", help="training from a table: the column to predict"),
    resume: Path | None = typer.Option(None, "--resume", help="continue this run directory from its last checkpoint"),
    devices: int = typer.Option(1, "--devices", help="train in N processes with DDP through torchrun (gloo on CPUs, "
                                "NCCL on GPUs); train.batch_size stays the global batch"),
) -> None:
    """Train a model from a config or from data; the run holds the model, its resolved config and metrics."""
    import deepscope as ds

    if config is not None and "=" in str(config) and not config.exists():
        overrides, config = [str(config), *(overrides or [])], None  # `--resume RUN epochs=5`: no config given
    if devices != 1:
        _launch(config, overrides or [], target, resume, devices)
        return
    run = ds.train(config, overrides or None, target=target, resume=resume)
    if run is None:  # a rank other than 0 under torchrun: rank 0 prints the run
        return
    print_metrics(run.metrics)
    typer.echo(f"run directory: {run.dir}")


def _launch(config: Path | None, overrides: list[str], target: str | None, resume: Path | None, devices: int) -> None:
    """The same command in `devices` processes, after checking the config once here (a mistake is said once)."""
    from deepscope.run.launch import check_devices, launch
    from deepscope.run.train import resolve_run

    check_devices(devices)
    resolve_run(config, overrides or None, target=target, resume=resume)
    command = ["train", *([str(config)] if config is not None else []), *overrides,
               *(["--target", target] if target else []), *(["--resume", str(resume)] if resume else [])]
    launch(command, devices, resume=resume)
