"""`deepscope shard SOURCE OUT [--per-shard N]`: a folder of images, WAVs or texts as tar shards to stream."""

from __future__ import annotations

from pathlib import Path

import typer

from deepscope.cli.main import app


@app.command()
def shard(
    source: Path = typer.Argument(..., help="a folder of class sub-folders (images, WAVs or texts), optionally under "
                                  "train/ test/ val/"),
    out: Path = typer.Argument(..., help="a new (or empty) folder for the shards"),
    per_shard: int = typer.Option(10_000, "--per-shard", help="examples per tar shard"),
) -> None:
    """Write a folder of files as WebDataset-style tar shards; train on them with data.source: OUT."""
    import deepscope as ds

    index = ds.shard(source, out, per_shard)
    for split, entry in index["splits"].items():
        typer.echo(f"{split}: {entry['examples']:,} {index['kind']} examples in {len(entry['shards'])} shard(s)")
    typer.echo(f"wrote {out}; train on it with data.source: {out}")
