"""`deepscope report RUN [--out FILE]`: write the run's self-contained HTML report (RUN/report.html by default).

The model is loaded from the run and the data prepared again from its config.yaml where they still exist; a run
that is incomplete or damaged still gets a report, marked incomplete with the reasons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from deepscope.cli.main import app


@app.command()
def report(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="a run directory")],
    out: Annotated[Optional[Path], typer.Option("--out", help="where to write it (default RUN/report.html)")] = None,
) -> None:
    """Write one self-contained HTML page about a run: model, training curves, diagnostics, evaluation, examples."""
    from deepscope.errors import UserError
    from deepscope.report import write_report
    from deepscope.track.runinfo import is_run_dir, read_run

    if run.is_dir() and not is_run_dir(run):
        raise UserError(f"{run}: not a run directory (no config.yaml, metrics.jsonl or model/ inside); give a folder "
                        "made by `deepscope train`, e.g. runs/mnist-20261130-192105")
    path = write_report(run, out=out)
    info = read_run(run)
    if info.status != "finished":
        typer.echo(f"the run is {info.status}: " + "; ".join(info.problems or ["not finished"]), err=True)
    typer.echo(f"report: {path}")
