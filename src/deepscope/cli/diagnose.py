"""`deepscope diagnose RUN [--json] [--min-severity warning] [--rejudge]`: what the diagnostics found in a run.

Reads RUN/diagnosis.json (written at the end of `deepscope train`). `--rejudge` runs today's detectors on the
record saved there, so a run trained before a detector was added or improved can be read again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deepscope.cli.main import app
from deepscope.errors import UserError

# deepscope.diagnose and deepscope.track import torch: they are imported where used, so that `deepscope --help`
# and the other commands do not pay for it
if TYPE_CHECKING:
    from deepscope.diagnose.finding import Severity

REJUDGE_HELP = "judge the saved record again with the current detectors instead of showing the saved findings"


@app.command()
def diagnose(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="a run directory (or its diagnosis.json)")],
    json_output: Annotated[bool, typer.Option("--json", help="print the findings as JSON")] = False,
    min_severity: Annotated[str, typer.Option(help="hide findings below this: info, warning or error")] = "info",
    rejudge: Annotated[bool, typer.Option("--rejudge", help=REJUDGE_HELP)] = False,
) -> None:
    """Show what the diagnostics found in a run: each problem, its evidence and what to try."""
    import deepscope as ds
    from deepscope.diagnose.finding import at_least

    severity = checked_severity(min_severity)
    findings = ds.diagnose(run, rejudge=rejudge)
    if json_output:
        typer.echo(json.dumps([f.to_dict() for f in at_least(findings, severity)], indent=2, default=str))
        return
    from rich.console import Console

    from deepscope.diagnose.console import print_summary

    console = Console()
    if rejudge:
        console.print("(judged again with the current detectors; diagnosis.json is unchanged)", style="dim")
    print_summary(console, findings, min_severity=severity)


def checked_severity(value: str) -> Severity:
    # checked here rather than by a typer Enum: a bad choice is then a UserError like any other mistake
    from deepscope.diagnose.finding import SEVERITIES

    if value not in SEVERITIES:
        raise UserError(f"--min-severity {value}: choose one of {', '.join(SEVERITIES)}")
    return value  # type: ignore[return-value]
