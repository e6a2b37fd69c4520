"""`deepscope lr-find CONFIG [key.path=value ...]`: the learning-rate range test, with a plot and a suggestion.

The model is trained for a few dozen batches on a throwaway copy, so no run directory is made; only the plot
and its numbers (JSON) are written, by default into the run root (runs/lr-find-<config>.png).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from deepscope.cli.main import app

if TYPE_CHECKING:
    from deepscope.run.lr_find import LRFindResult

LR_KEY = "train.optimizer.lr"


@app.command("lr-find")
def lr_find(
    config: Annotated[Path, typer.Argument(help="YAML config, e.g. examples/mnist.yaml")],
    overrides: Annotated[list[str] | None, typer.Argument(help="dotted overrides, e.g. train.batch_size=64")] = None,
    start: Annotated[float, typer.Option(help="the smallest learning rate tried")] = 1e-7,
    end: Annotated[float, typer.Option(help="the largest learning rate tried")] = 10.0,
    steps: Annotated[int, typer.Option(help="mini-batches to train, one learning rate each")] = 100,
    out: Annotated[Path | None, typer.Option(help="the plot (PNG); default: RUN_ROOT/lr-find-CONFIG.png")] = None,
) -> None:
    """Try learning rates from --start to --end on a throwaway model and suggest one to train with."""
    import deepscope as ds

    result = ds.lr_find(config, overrides or None, start=start, end=end, steps=steps, out=out or True)
    _report(result, config, overrides or [], end, result.plot, result.plot.with_suffix(".json"))


def _report(result: LRFindResult, config: Path, overrides: list[str], end: float, plot: Path, data: Path) -> None:
    """A few plain lines: the rate, where the loss falls, the override to use, and where the plot is."""
    console = Console(highlight=False, markup=False, soft_wrap=True)  # a wrapped command could not be pasted
    low, high = result.steep_range
    console.print(Text.assemble("suggested learning rate: ", (_rate(result.suggestion), "bold green"),
                                f"  ({_rule_words(result.rule)})"))
    if result.rule == "steepest":
        console.print(f"the loss falls fastest between {_rate(low)} and {_rate(high)} "
                      f"and is lowest at {_rate(result.minimum_lr)}")
    else:
        console.print(f"the loss is lowest at {_rate(result.minimum_lr)}")
    if not result.stopped_early and result.smoothed.index(min(result.smoothed)) == len(result.smoothed) - 1:
        console.print(f"the loss was still falling at --end {end:g}: try a larger --end to see where it turns")
    kept = [item for item in overrides if not item.startswith(f"{LR_KEY}=")]  # the new rate replaces an old one
    command = shlex.join(["deepscope", "train", str(config), *kept, f"{LR_KEY}={_rate(result.suggestion)}"])
    console.print(Text.assemble("use it: ", (command, "bold")))
    console.print(f"plot: {plot}  (numbers: {data})")


def _rate(lr: float) -> str:
    """Two significant figures in a form YAML reads as a number (`5.9e-03`; PyYAML needs the dot)."""
    return f"{lr:.1e}"


def _rule_words(rule: str) -> str:
    if rule == "steepest":
        return "where the loss falls fastest"
    return "a tenth of where the loss was lowest: it never clearly fell, so try more --steps or a lower --start"
