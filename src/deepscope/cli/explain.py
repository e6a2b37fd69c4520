"""`deepscope explain RUN INPUT... [--method NAME] [--target CLASS] [--out DIR]`, or `--split test --n 100`:
attributions for inputs or a sample of a split, their pictures, and how far they can be trusted."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app
from deepscope.errors import UserError
from deepscope.formats import table_number


@app.command()
def explain(
    run: Path = typer.Argument(..., help="a finished run directory"),
    inputs: list[str] | None = typer.Argument(None, metavar="INPUT...", help="image or WAV files, a CSV file, or "
                                              "(for a text model) texts in quotes; none: a sample of --split"),
    method: str | None = typer.Option(None, "--method", help="an attribution method (default: the modality's)"),
    target: str | None = typer.Option(None, "--target", help="the class to explain (default: the predicted one)"),
    input_name: str | None = typer.Option(None, "--input", help="the input column to explain, for a model that "
                                          "reads several (default: its first own input; * for its table columns)"),
    split: str | None = typer.Option(None, "--split", help="explain a sample of this split (default: test)"),
    n: int = typer.Option(100, "--n", help="examples of the split to explain"),
    out: Path | None = typer.Option(None, "--out", help="folder for the files (default: RUN/explanations)"),
) -> None:
    """Explain a trained model's predictions; prints the faithfulness of each method's attributions."""
    # `deepscope.explain` is the package of methods, so the workflow is called by its module
    from deepscope.run.explain import explain_run

    if inputs and split:
        raise UserError("give INPUT... or --split, not both")
    folder = out or run / "explanations"
    result = explain_run(run, inputs or None, split=split, n=n, method=method, target=target, out_dir=folder,
                         input_name=input_name)
    what = f"{result.n} example(s) from {len(inputs)} input(s)" if inputs else \
        f"{result.n} examples of the {split or 'test'} split"
    typer.echo(f"explained {what} with {', '.join(result.explanations)}")
    for name, numbers in result.faithfulness.items():
        typer.echo(f"{name}: {_faithfulness_line(numbers)}")
    _print_findings([f for numbers in result.faithfulness.values() for f in numbers.get("findings", [])])
    if result.importance is not None:
        ranked = ", ".join(f"{label} {table_number(mean)} [{table_number(low)}, {table_number(high)}]"
                           for label, mean, low, high in result.importance.ranked()[:10])
        typer.echo(f"permutation importance (95 % interval): {ranked}")
    for name, by_class in result.tokens.items():
        for label, ranked in by_class.items():
            typer.echo(f"{name}: tokens towards {label}: {', '.join(token for token, *_ in ranked[:8])}")
    for path in result.files:
        typer.echo(f"wrote {path}")


def _print_findings(findings: list[dict]) -> None:
    """What the faithfulness numbers say, in the diagnostics' short form (title and first advice; the whole finding
    is in explanations.json and the report)."""
    from rich.console import Console

    from deepscope.diagnose.console import format_finding
    from deepscope.diagnose.finding import Finding

    console = Console()
    for finding in findings:
        console.print(format_finding(Finding.from_dict(finding), detail=False), highlight=False)


def _gain(gain: float) -> str:
    return f"{abs(gain):.0%} {'better' if gain >= 0 else 'worse'} than random"


def _faithfulness_line(f: dict) -> str:
    parts = [f"deletion area {f['deletion_area']:.3f} vs random {f['deletion_random_area']:.3f}"
             f" ({_gain(f['deletion_gain'])})",
             f"insertion area {f['insertion_area']:.3f} vs random {f['insertion_random_area']:.3f}"
             f" ({_gain(f['insertion_gain'])})"]
    if f.get("values"):
        parts[0] = "scores in the output's encoded units: " + parts[0]
    if f.get("completeness_error") is not None:
        parts.append(f"completeness error {f['completeness_error']:.3f}")
    if f.get("randomisation"):
        check = f["randomisation"]
        verdict = "passes" if check["passes"] else "FAILS: the map barely depends on the weights"
        magnitude = check.get("magnitude_final")
        of_sizes = f", |map| {magnitude:.2f}" if magnitude is not None else ""
        parts.append(f"randomisation check {verdict} (rank correlation {check['final']:.2f}{of_sizes} once re-drawn)")
    return "; ".join(parts)
