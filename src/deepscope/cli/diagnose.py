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
    from deepscope.diagnose.finding import Finding, Severity

RUNS_SUGGESTED = 2  # name the latest runs, not a whole folder listing
REJUDGE_HELP = "judge the saved record again with the current detectors instead of showing the saved findings"


@app.command()
def diagnose(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="a run directory (or its diagnosis.json)")],
    json_output: Annotated[bool, typer.Option("--json", help="print the findings as JSON")] = False,
    min_severity: Annotated[str, typer.Option(help="hide findings below this: info, warning or error")] = "info",
    rejudge: Annotated[bool, typer.Option("--rejudge", help=REJUDGE_HELP)] = False,
) -> None:
    """Show what the diagnostics found in a run: each problem, its evidence and what to try."""
    severity = checked_severity(min_severity)
    findings = read_findings(run, rejudge=rejudge)
    if json_output:
        from deepscope.diagnose.finding import at_least

        shown = at_least(findings, severity)
        typer.echo(json.dumps([f.to_dict() for f in shown], indent=2, default=str))
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


def read_findings(run: Path, *, rejudge: bool) -> list[Finding]:
    """The saved findings, or (rejudge) the current detectors' findings on the saved record."""
    from deepscope.diagnose.judge import judge, load_diagnosis

    path = diagnosis_path(run)
    try:
        findings, record = load_diagnosis(path)
    except (OSError, AttributeError) as error:  # unreadable, or JSON of the wrong shape: still the user's file
        raise UserError(f"{path}: not a readable diagnosis ({error}); train the run again to rewrite it") from None
    if not rejudge:
        return findings
    if not any(record.to_dict().values()):
        raise UserError(f"{path}: no record was saved to judge again; drop --rejudge to see the saved findings")
    return judge(record)


def diagnosis_path(run: Path) -> Path:
    """RUN/diagnosis.json, with a message that points the way when RUN is not a run directory."""
    from deepscope.track.rundir import RunDir

    if run.is_file():
        return run
    if not run.is_dir():
        raise UserError(f"{run}: no such run directory")
    path = RunDir(run).diagnosis
    if path.exists() or RunDir(run).config.exists():
        return path  # a run without diagnosis.json: load_diagnosis says why
    runs = latest_runs(run)
    if runs:
        names = " or ".join(f"`deepscope diagnose {r}`" for r in runs)
        raise UserError(f"{run}: this is a folder of runs, not a run; the latest: {names}")
    raise UserError(f"{run}: not a run directory (no config.yaml or diagnosis.json); "
                    "pass the folder `deepscope train` printed as 'run directory'")


def latest_runs(folder: Path) -> list[Path]:
    """The most recently written run directories directly inside `folder`, newest first."""
    from deepscope.track.rundir import RunDir

    try:
        runs = [p for p in folder.iterdir() if p.is_dir() and RunDir(p).config.exists()]
    except OSError:
        return []
    runs.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return runs[:RUNS_SUGGESTED]
