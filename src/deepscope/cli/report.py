"""`deepscope report RUN [--out FILE]`: write the run's self-contained HTML report (RUN/report.html by default).

The model is loaded from the run and the data prepared again from its config.yaml where they still exist; a run
that is incomplete or damaged still gets a report, marked incomplete with the reasons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deepscope.cli.main import app


@app.command()
def report(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="a run directory")],
    out: Annotated[Path | None, typer.Option("--out", help="where to write it (default RUN/report.html)")] = None,
) -> None:
    """Write one self-contained HTML page about a run: model, training curves, diagnostics, evaluation, examples."""
    import deepscope as ds

    path = ds.report(run, out=out)
    status, problems = ds.runs.status(run)
    if status != "finished":
        typer.echo(f"the run is {status}: " + "; ".join(problems or ["not finished"]), err=True)
    typer.echo(f"report: {path}")
