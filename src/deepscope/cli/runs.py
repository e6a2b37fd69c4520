"""`deepscope runs list | show | compare | tag | delete | reindex`: the runs of a run root, through its run store.

Argument parsing and printing only; the work is `deepscope.runs` (src/deepscope/run/runs.py).

    deepscope runs list --where "test.accuracy>0.9" --where status=finished --sort test.accuracy --limit 5
    deepscope runs show mnist-20261123-214500
    deepscope runs compare mnist-20261123-214500 mnist-20261124-090000 --metric val.loss --plot loss.png
    deepscope runs delete mnist-20261123-214500 --files     # lists the files, asks (--yes: does not ask)
    deepscope runs reindex
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from deepscope.cli.main import app
from deepscope.cli.output import cells, literal, plain
from deepscope.errors import UserError
from deepscope.formats import short_time, table_number

runs_app = typer.Typer(help="List, show, compare and delete runs (kept in the run store <root>/runs.sqlite).",
                       no_args_is_help=True, add_completion=False)
app.add_typer(runs_app, name="runs")

Root = Annotated[Path, typer.Option("--root", help="the folder of runs (run.root of the configs)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
METRIC_HELP = "the metric to plot across the runs (default val.loss, else train.loss)"
ASCENDING_HELP = "smallest (or oldest) first; default largest (newest) first"
SHOWN_FILES = 20  # files listed before a folder is deleted; the rest are counted
WHERE_HELP = ("keep runs where KEY OP VALUE holds (repeatable): OP = != > >= < <= ~ (contains); KEY a metric "
              "(test.accuracy), a param (train.optimizer.name), a field (status, name, task, started) or tag:KEY")


@runs_app.command("list")
def list_runs(
    root: Root = Path("runs"),
    where: Annotated[list[str] | None, typer.Option("--where", "-w", help=WHERE_HELP)] = None,
    sort: Annotated[str | None, typer.Option(help="sort by this metric, param or field (default: newest)")] = None,
    ascending: Annotated[bool, typer.Option("--ascending", help=ASCENDING_HELP)] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="show at most this many runs")] = None,
    json_output: AsJson = False,
) -> None:
    """The runs of a run root, newest first: status (incomplete ones with the reason), task, headline metrics."""
    import deepscope as ds

    rows = ds.runs.list_runs(root, where=where or [], sort=sort, descending=not ascending, limit=limit)
    if json_output:
        typer.echo(as_json(rows))
        return
    console = Console()
    if not rows:
        console.print(literal(f"no runs in {root}" + (" match the filters" if where else "")))
        return
    columns = ds.runs.columns_for(rows, sort=sort, where=where or [])
    table = Table(show_edge=False)
    for title in ("run", "status", "task", "started", *columns, "why incomplete"):
        table.add_column(literal(title), justify="right" if title in columns else "left", overflow="fold")
    for row in rows:
        table.add_row(*cells(row["name"], row["status"], row["task"], short_time(row["started"])),
                      *(table_number(row["metrics"].get(c)) for c in columns), literal("; ".join(row["problems"])))
    console.print(table)


@runs_app.command()
def show(
    run: Annotated[str, typer.Argument(metavar="RUN", help="a run's name, or its folder")],
    root: Root = Path("runs"),
    json_output: AsJson = False,
) -> None:
    """One run: status and problems, metrics (final and last epoch), params, tags and files."""
    import deepscope as ds

    row = ds.runs.show(run, root)
    if json_output:
        typer.echo(as_json(row))
        return
    console = Console()
    console.print(Text.assemble(literal(row["name"], "bold"), "  ", literal(row["status"]), "  ", literal(row["task"]),
                                "  started ", literal(short_time(row["started"]))))
    console.print(Text.assemble("folder ", literal(row["path"])))
    for problem in row["problems"]:
        console.print(Text.assemble("  ", ("incomplete:", "yellow"), " ", literal(problem)))
    if row["tags"]:
        console.print(Text.assemble("tags ", literal(", ".join(f"{k}={v}" for k, v in row["tags"].items()))))
    series = row["series"]
    metrics = Table("metric", "value", "epochs logged", title="metrics", show_edge=False)
    for name, value in row["metrics"].items():
        metrics.add_row(literal(name), table_number(value), str(len(series[name])) if name in series else "final")
    params = Table("param", "value", title="params", show_edge=False)
    for key, value in sorted(row["params"].items()):
        params.add_row(*cells(key, json.dumps(value) if not isinstance(value, str) else value))
    files = Table("file", "kind", "bytes", title="files", show_edge=False)
    for artefact in row["artefacts"]:
        files.add_row(*cells(artefact["path"], artefact["kind"]), table_number(artefact["bytes"]))
    for table in (metrics, params, files):
        if table.row_count:
            console.print(table)


@runs_app.command()
def compare(
    runs: Annotated[list[str], typer.Argument(metavar="RUN...", help="the runs to compare (names or folders)")],
    metric: Annotated[str | None, typer.Option(help=METRIC_HELP)] = None,
    plot: Annotated[Path | None, typer.Option(help="where to write the plot (default compare-METRIC.png)")] = None,
    root: Root = Path("runs"),
) -> None:
    """Runs side by side: metrics and the params that differ, and a plot of one metric across the runs."""
    import deepscope as ds

    comparison = ds.runs.compare(runs, metric=metric, plot=plot or True, root=root)
    Console().print(comparison_table(comparison.rows, ds.runs.differing_params(comparison.rows)))
    if comparison.missing:
        typer.echo(plain(f"not in the plot (no {comparison.metric}): {', '.join(comparison.missing)}"))
    typer.echo(plain(f"plot of {comparison.metric} written to {comparison.plot}"))


@runs_app.command()
def delete(
    run: Annotated[str, typer.Argument(metavar="RUN", help="a run's name, or its folder")],
    files: Annotated[bool, typer.Option("--files", help="delete the run's folder too (only a folder deepscope "
                                        "trained in, inside the run root)")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="delete the folder without asking (needed without a terminal)")]
    = False,
    root: Root = Path("runs"),
) -> None:
    """Remove a run from the store (and with --files, its folder: its files are listed and you are asked first)."""
    import deepscope as ds

    row = ds.runs.delete(run, root, files=files, confirm=lambda listing: _confirm_deletion(listing, yes))
    if row is None:
        typer.echo("nothing deleted")
        raise typer.Exit(1)
    if files:
        typer.echo(plain(f"deleted {row['name']} and its folder {row['path']}"))
    else:
        typer.echo(plain(f"deleted {row['name']} from the store; its folder {row['path']} stays (hidden until "
                         "`deepscope runs reindex`; --files deletes it)"))


def _confirm_deletion(listing: Any, yes: bool) -> bool:
    """List what deleting the folder removes, then ask, unless --yes; without a terminal to ask, refuse."""
    typer.echo(plain(f"the run folder {listing.folder} will be deleted: {len(listing.files):,} files, "
                     f"{listing.bytes:,} bytes"))
    for name in listing.files[:SHOWN_FILES]:
        typer.echo(plain(f"  {listing.folder / name}"))
    if len(listing.files) > SHOWN_FILES:
        typer.echo(f"  ... and {len(listing.files) - SHOWN_FILES:,} more files")
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask whether to delete the folder listed above: nothing deleted; pass --yes "
                        "to delete it without asking")
    return typer.confirm("delete it?", default=False)


@runs_app.command()
def tag(
    run: Annotated[str, typer.Argument(metavar="RUN", help="a run's name, or its folder")],
    tags: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="tags to set; KEY= removes one")],
    root: Root = Path("runs"),
) -> None:
    """Set or remove tags of a run (filter with --where tag:KEY=VALUE); kept in the run folder's tags.json."""
    import deepscope as ds

    current = ds.runs.tag(run, ds.runs.parse_tags(tags), root)
    typer.echo(plain(f"{Path(run).name}: " + (", ".join(f"{k}={v}" for k, v in current.items()) or "no tags")))


@runs_app.command()
def reindex(root: Root = Path("runs")) -> None:
    """Rebuild the store from the run folders (they are the source of truth)."""
    import deepscope as ds

    done = ds.runs.reindex(root)
    if done.replaced:
        typer.echo(plain(f"{done.replaced}: replaced by a new store built from the run folders"))
    incomplete = sum(row["status"] == "incomplete" for row in ds.runs.list_runs(root))
    typer.echo(plain(f"reindexed {done.runs} runs from {root} into {root / 'runs.sqlite'}" +
                     (f" ({incomplete} incomplete)" if incomplete else "")))


def comparison_table(rows: list[dict[str, Any]], params: list[str]) -> Table:
    table = Table("", show_edge=False)
    for row in rows:
        table.add_column(literal(row["name"]))
    table.add_row("status", *cells(*(r["status"] for r in rows)))
    table.add_row("task", *cells(*(r["task"] for r in rows)))
    for name in dict.fromkeys(k for r in rows for k in r["metrics"]):
        table.add_row(literal(name), *(table_number(r["metrics"].get(name)) for r in rows))
    for key in params:
        table.add_row(*cells(key, *(str(r["params"].get(key, "")) for r in rows)))
    return table


def as_json(value: Any) -> str:
    """Strict JSON (what jq and browsers read): NaN and infinities (a diverged loss) become null."""
    def clean(item: Any) -> Any:
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {k: clean(v) for k, v in item.items()}
        return [clean(v) for v in item] if isinstance(item, (list, tuple)) else item
    return json.dumps(clean(value), indent=2, default=str, allow_nan=False)
