"""`deepscope datasets`: the builtin datasets and whether each is on this machine."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from deepscope.cli.main import app


@app.command()
def datasets(download: str = typer.Option(None, help="download this builtin dataset into the cache")) -> None:
    """List builtin datasets (found under $DEEPSCOPE_DATA or the cache), or download one."""
    import deepscope as ds

    listed = ds.datasets(download=download)
    if download:
        typer.echo(f"{download}: ready at {listed[0]['where']}")
        return
    table = Table(show_edge=False)
    for column in ("name", "description", "present", "where"):
        table.add_column(column)
    for dataset in listed:
        table.add_row(dataset["name"], dataset["description"], "yes" if dataset["present"] else "no", dataset["where"])
    Console().print(table)
