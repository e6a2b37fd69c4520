"""`deepscope runs list | show | compare | delete | reindex`: the runs of a run root, through its run store.

Each command first brings the store (`<root>/runs.sqlite`) up to date with the run folders, so runs trained
without the store, and damaged or half-written folders (listed as incomplete, with the reason), show up too.

    deepscope runs list --where "test.accuracy>0.9" --where status=finished --sort test.accuracy --limit 5
    deepscope runs show mnist-20261123-214500
    deepscope runs compare mnist-20261123-214500 mnist-20261124-090000 --metric val.loss --plot loss.png
    deepscope runs delete mnist-20261123-214500 --files
    deepscope runs reindex
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from deepscope.cli.main import app
from deepscope.errors import UserError

if TYPE_CHECKING:
    from deepscope.track.store import RunStore

runs_app = typer.Typer(help="List, show, compare and delete runs (kept in the run store <root>/runs.sqlite).",
                       no_args_is_help=True, add_completion=False)
app.add_typer(runs_app, name="runs")

METRIC_COLUMNS = 4  # headline metrics shown by `runs list` (besides those sorted or filtered on)
HIDDEN_METRICS = ("lr", "time")  # logged every epoch, rarely what a runs table is read for
Root = Annotated[Path, typer.Option("--root", help="the folder of runs (run.root of the configs)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
METRIC_HELP = "the metric to plot across the runs (default val.loss, else train.loss)"
ASCENDING_HELP = "smallest (or oldest) first; default largest (newest) first"
WHERE_HELP = ("keep runs where KEY OP VALUE holds (repeatable): OP = != > >= < <= ~ (contains); KEY a metric "
              "(test.accuracy), a param (train.optimizer.name), a field (status, name, task, started) or tag:KEY")


@runs_app.command("list")
def list_runs(
    root: Root = Path("runs"),
    where: Annotated[Optional[list[str]], typer.Option("--where", "-w", help=WHERE_HELP)] = None,
    sort: Annotated[Optional[str], typer.Option(help="sort by this metric, param or field (default: newest)")] = None,
    ascending: Annotated[bool, typer.Option("--ascending", help=ASCENDING_HELP)] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="show at most this many runs")] = None,
    json_output: AsJson = False,
) -> None:
    """The runs of a run root, newest first: status (incomplete ones with the reason), task, headline metrics."""
    store = open_store(root)
    rows = store.runs(where=where or [], sort=sort, descending=not ascending, limit=limit)
    if json_output:
        typer.echo(as_json(rows))
        return
    console = Console()
    if not rows:
        console.print(f"no runs in {root}" + (" match the filters" if where else ""))
        return
    keys = [k.split(":", 1)[-1] for k in [sort or "", *(_where_key(w) for w in where or [])] if k]
    columns = metric_columns(rows, first=[k for k in keys if any(k in r["metrics"] for r in rows)])
    table = Table(show_edge=False)
    for title in ("run", "status", "task", "started", *columns, "why incomplete"):
        table.add_column(title, justify="right" if title in columns else "left", overflow="fold")
    for row in rows:
        table.add_row(row["name"], row["status"], row["task"], short_time(row["started"]),
                      *(fmt(row["metrics"].get(c)) for c in columns), "; ".join(row["problems"]))
    console.print(table)


@runs_app.command()
def show(
    run: Annotated[str, typer.Argument(metavar="RUN", help="a run's name, or its folder")],
    root: Root = Path("runs"),
    json_output: AsJson = False,
) -> None:
    """One run: status and problems, metrics (final and last epoch), params, tags and files."""
    store, row = find_run(run, root)
    names = store.metric_names(row["name"])
    series = {name: store.metric_series(row["name"], name) for name in names}
    if json_output:
        typer.echo(as_json({**row, "series": series}))
        return
    console = Console()
    console.print(f"[bold]{row['name']}[/bold]  {row['status']}  {row['task']}  started {short_time(row['started'])}")
    console.print(f"folder {row['path']}")
    for problem in row["problems"]:
        console.print(f"  [yellow]incomplete:[/yellow] {problem}")
    if row["tags"]:
        console.print("tags " + ", ".join(f"{k}={v}" for k, v in row["tags"].items()))
    metrics = Table("metric", "value", "epochs logged", title="metrics", show_edge=False)
    for name, value in row["metrics"].items():
        metrics.add_row(name, fmt(value), str(len(series.get(name, []))) if name in series else "final")
    params = Table("param", "value", title="params", show_edge=False)
    for key, value in sorted(row["params"].items()):
        params.add_row(key, json.dumps(value) if not isinstance(value, str) else value)
    files = Table("file", "kind", "bytes", title="files", show_edge=False)
    for artefact in row["artefacts"]:
        files.add_row(artefact["path"], artefact["kind"], f"{artefact['bytes']:,}")
    for table in (metrics, params, files):
        if table.row_count:
            console.print(table)


@runs_app.command()
def compare(
    runs: Annotated[list[str], typer.Argument(metavar="RUN...", help="the runs to compare (names or folders)")],
    metric: Annotated[Optional[str], typer.Option(help=METRIC_HELP)] = None,
    plot: Annotated[Optional[Path], typer.Option(help="where to write the plot (default compare-METRIC.png)")] = None,
    root: Root = Path("runs"),
) -> None:
    """Runs side by side: metrics and the params that differ, and a plot of one metric across the runs."""
    store, rows = None, []
    for run in dict.fromkeys(runs):
        store, row = find_run(run, root, store)
        rows.append(row)
    metric = metric or next((m for m in ("val.loss", "train.loss") if any(has_metric(store, r, m) for r in rows)),
                            "val.loss")
    if not any(has_metric(store, r, metric) for r in rows):
        known = sorted({m for r in rows for m in (*r["metrics"], *store.metric_names(r["name"]))})
        raise UserError(f"--metric {metric}: none of these runs has it; they have {', '.join(known) or 'no metrics'}")
    Console().print(comparison_table(rows))
    path = plot or Path(f"compare-{metric}.png")
    missing = write_plot(store, rows, metric, path)
    if missing:
        typer.echo(f"not in the plot (no {metric}): {', '.join(missing)}")
    typer.echo(f"plot of {metric} written to {path}")


@runs_app.command()
def delete(
    run: Annotated[str, typer.Argument(metavar="RUN", help="a run's name, or its folder")],
    files: Annotated[bool, typer.Option("--files", help="delete the run's folder too")] = False,
    root: Root = Path("runs"),
) -> None:
    """Remove a run from the store (and with --files, its folder)."""
    from deepscope.track.runinfo import is_run_dir

    store, row = find_run(run, root)
    folder = Path(row["path"])
    if files and folder.exists():
        if not is_run_dir(folder):  # the store is not trusted to point at a run: never delete anything else
            raise UserError(f"{folder}: does not look like a run folder (no config.yaml, metrics.jsonl, ...); "
                            "not deleted")
        import shutil

        try:
            shutil.rmtree(folder)
        except OSError as error:
            raise UserError(f"{folder}: could not delete the folder ({error})") from None
    store.delete(row["name"])
    if files:
        typer.echo(f"deleted {row['name']} and its folder {folder}")
    else:
        typer.echo(f"deleted {row['name']} from the store; its folder {folder} stays (hidden until "
                   "`deepscope runs reindex`; --files deletes it)")


@runs_app.command()
def tag(
    run: Annotated[str, typer.Argument(metavar="RUN", help="a run's name, or its folder")],
    tags: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="tags to set; KEY= removes one")],
    root: Root = Path("runs"),
) -> None:
    """Set or remove tags of a run (filter with --where tag:KEY=VALUE); kept in the run folder's tags.json."""
    changes: dict[str, str | None] = {}
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"tag {item!r}: write KEY=VALUE (e.g. group=baseline), or KEY= to remove a tag")
        changes[key.strip()] = value.strip() or None
    store, row = find_run(run, root)
    store.set_tags(row["path"], changes)
    current = store.require_run(row["name"])["tags"]
    typer.echo(f"{row['name']}: " + (", ".join(f"{k}={v}" for k, v in current.items()) or "no tags"))


@runs_app.command()
def reindex(root: Root = Path("runs")) -> None:
    """Rebuild the store from the run folders (they are the source of truth)."""
    store = open_store(root)
    count = store.reindex(root)
    incomplete = sum(r["status"] == "incomplete" for r in store.runs())
    typer.echo(f"reindexed {count} runs from {root} into {store.path}" + (f" ({incomplete} incomplete)"
                                                                          if incomplete else ""))


# --- helpers -----------------------------------------------------------------------------------------------------
def open_store(root: Path, *, sync: bool = True) -> "RunStore":
    """The store of `root`, up to date with its run folders."""
    from deepscope.track.store import RunStore

    if not root.is_dir():
        raise UserError(f"{root}: no such folder of runs; pass --root with the folder runs are written to "
                        "(run.root in the config, 'runs' by default)")
    store = RunStore.for_root(root)
    if sync:
        store.sync(root)
    return store


def find_run(run: str, root: Path, store: "RunStore | None" = None) -> tuple["RunStore", dict[str, Any]]:
    """A run given by name (in the store of `root`) or by its folder (in the store of the folder's root, recorded
    on the way)."""
    from deepscope.track.runinfo import is_run_dir, read_run

    folder = Path(run)
    if os.sep in run and is_run_dir(folder):
        store = store or open_store(folder.resolve().parent, sync=False)
        store.record_run(read_run(folder))
        run = folder.resolve().name
    store = store or open_store(root)
    return store, store.require_run(run)


def metric_columns(rows: list[dict[str, Any]], first: list[str]) -> list[str]:
    """The metrics a runs table shows: those asked for, then the most common, test before val before the rest."""
    counts = Counter(k for r in rows for k in r["metrics"] if k not in HIDDEN_METRICS)
    rank = {name: (not name.startswith("test."), not name.startswith("val."), -n, name) for name, n in counts.items()}
    rest = [k for k in sorted(counts, key=rank.__getitem__) if k not in first]
    return list(dict.fromkeys(first)) + rest[:max(METRIC_COLUMNS - len(first), 0)]


def comparison_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("", *(r["name"] for r in rows), show_edge=False)
    table.add_row("status", *(r["status"] for r in rows))
    table.add_row("task", *(r["task"] for r in rows))
    for name in dict.fromkeys(k for r in rows for k in r["metrics"]):
        table.add_row(name, *(fmt(r["metrics"].get(name)) for r in rows))
    keys = sorted({k for r in rows for k in r["params"]})
    differ = [k for k in keys if len({json.dumps(r["params"].get(k), default=str) for r in rows}) > 1]
    for key in differ:
        table.add_row(key, *(str(r["params"].get(key, "")) for r in rows))
    return table


def has_metric(store: "RunStore", row: dict[str, Any], metric: str) -> bool:
    return metric in row["metrics"] or metric in store.metric_names(row["name"])


def write_plot(store: "RunStore", rows: list[dict[str, Any]], metric: str, path: Path) -> list[str]:
    """A line per run of the metric over epochs (or, for a final-only metric, a bar per run); returns the runs
    without it."""
    from matplotlib.figure import Figure  # a figure without pyplot: no GUI backend, nothing global

    from deepscope.report.plots import whole_numbers

    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.add_subplot()
    series = {r["name"]: store.metric_series(r["name"], metric) for r in rows}
    if any(series.values()):
        for name, points in series.items():
            if points:
                axes.plot(*zip(*points), marker="o" if len(points) < 30 else None, markersize=3, label=name)
        axes.set_xlabel("epoch")
        whole_numbers(axes)
        missing = [name for name, points in series.items() if not points]
    else:
        shown = [r for r in rows if metric in r["metrics"]]
        axes.bar([r["name"] for r in shown], [r["metrics"][metric] for r in shown])
        axes.tick_params(axis="x", labelrotation=20)
        missing = [r["name"] for r in rows if metric not in r["metrics"]]
    axes.set_ylabel(metric)
    axes.set_title(f"{metric} across runs")
    axes.grid(alpha=0.3)
    if any(series.values()):
        axes.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    figure.savefig(partial, format="png", dpi=100)
    os.replace(partial, path)  # atomic: a reader never sees half a PNG
    return missing


def as_json(value: Any) -> str:
    """Strict JSON (what jq and browsers read): NaN and infinities (a diverged loss) become null."""
    def clean(item: Any) -> Any:
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {k: clean(v) for k, v in item.items()}
        return [clean(v) for v in item] if isinstance(item, (list, tuple)) else item
    return json.dumps(clean(value), indent=2, default=str, allow_nan=False)


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:  # counts come back from SQLite as REAL
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def short_time(started: str | None) -> str:
    """'2026-11-30T10:00:00+0000' as '2026-11-30 10:00'."""
    return (started or "")[:16].replace("T", " ")


def _where_key(expression: str) -> str:
    from deepscope.track.store_query import WHERE

    match = WHERE.match(expression)
    return match["key"] if match else ""
