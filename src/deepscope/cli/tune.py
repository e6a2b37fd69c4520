"""`deepscope tune CONFIG [key.path=value ...] [--trials 50] [--jobs N] [--storage URL] [--study NAME]
[--timeout SECONDS]`: search the config's `tune:` space on Optuna, print the best trial and write its config.

Several commands given the same --study and --storage (a database URL, or a journal file on a shared folder) add
trials to one study, on one machine or several.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from deepscope.cli.main import app
from deepscope.cli.output import literal


@app.command()
def tune(
    config: Annotated[Path, typer.Argument(help="YAML config with a `tune:` section, e.g. "
                                                "examples/breastmnist-tune.yaml")],
    overrides: Annotated[list[str] | None, typer.Argument(help="dotted overrides, e.g. train.epochs=20")] = None,
    trials: Annotated[int | None, typer.Option(help="trials to run, all workers together (default: tune.trials, "
                                                    "else 50)")] = None,
    jobs: Annotated[int | None, typer.Option(help="worker processes on this machine sharing the study (default: "
                                                  "tune.jobs, else 1); the CPU threads are shared out")] = None,
    storage: Annotated[str | None, typer.Option(help="where the study is kept: a database URL (sqlite:///tune.db, "
                                                     "postgresql://user@host/db) or a journal file; default "
                                                     "RUN_ROOT/STUDY.optuna.journal")] = None,
    study: Annotated[str | None, typer.Option(help="the study's name (default: the config file's); an existing "
                                                   "study gets more trials")] = None,
    timeout: Annotated[float | None, typer.Option(help="seconds after which no trial starts")] = None,
) -> None:
    """Search hyperparameters: each trial a run in the run store, pruned early when it cannot win."""
    import deepscope as ds

    try:
        result = ds.tune(config, overrides or None, trials=trials, jobs=jobs, storage=storage, study=study,
                         timeout=timeout)
    except KeyboardInterrupt:  # not the training message of main(): a search is continued by running it again
        typer.echo("interrupted; the finished trials are kept in the study: the same command adds more", err=True)
        raise typer.Exit(130) from None
    print_result(result)


def print_result(result) -> None:
    from deepscope.formats import table_number
    from deepscope.run.tune import summary_counts
    from deepscope.run.tune_worker import value_text

    console = Console(highlight=False)
    console.print(literal(f"study {result.study} ({result.storage}): {summary_counts(result)}"), soft_wrap=True)
    if result.best_trial is None:
        console.print("no trial finished, so there is no best config; see the trials' run folders for why")
        return
    table = Table(title=f"best trial: {result.best_trial}", show_edge=False)
    table.add_column("setting")
    table.add_column("value", justify="right")
    table.add_row(literal(result.metric), table_number(result.best_value), style="bold")
    for key, value in result.best_params.items():
        table.add_row(literal(key), literal(value_text(value)))
    console.print(table)
    console.print(literal(f"best run: {result.best_run}"), soft_wrap=True)
    console.print(literal(f"best config: {result.best_config}  (deepscope train {result.best_config})"), soft_wrap=True)
