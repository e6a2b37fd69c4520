"""`deepscope datasets`: the builtin datasets and whether each is on this machine."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from deepscope.cli.main import app


@app.command()
def datasets(download: str = typer.Option(None, help="download this builtin dataset into the cache")) -> None:
    """List builtin datasets (found under $DEEPSCOPE_DATA or the cache), or download one."""
    from deepscope.data.sources.builtin import BUILTIN_DATASETS, dataset_status

    if download:
        dataset = BUILTIN_DATASETS.get(download, where="--download")
        dataset.load()
        typer.echo(f"{download}: ready at {dataset_status(download)[1]}")
        return
    table = Table(show_edge=False)
    for column in ("name", "description", "present", "where"):
        table.add_column(column)
    for name, dataset in BUILTIN_DATASETS.items():
        present, where = dataset_status(name)
        table.add_row(name, dataset.description, "yes" if present else "no", where)
    Console().print(table)
