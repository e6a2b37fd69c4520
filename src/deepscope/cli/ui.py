"""`deepscope ui [--root runs] [--host 127.0.0.1] [--port 8000] [--allow-host NAME ...]`: the local dashboard.

Bound to 127.0.0.1 by default, so only this machine can see the runs; --host 0.0.0.0 shares them with the network,
deliberately. It answers only to the loopback names, the --host address and the --allow-host names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from deepscope.cli.main import app


@app.command("ui")
def ui(
    root: Annotated[Path, typer.Option(help="the folder that holds the runs (and runs.sqlite)")] = Path("runs"),
    host: Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 lets other machines in")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    allow_host: Annotated[list[str] | None, typer.Option(
        "--allow-host", metavar="NAME", help="a host name other machines reach the dashboard by (e.g. mybox.local); "
        "repeatable. Requests naming any other host are refused (DNS rebinding)")] = None,
) -> None:
    """Serve the dashboard: the runs table, each run's report, and curves of chosen runs side by side."""
    import deepscope as ds

    console = Console(stderr=True, highlight=False)
    ds.ui.serve(root, host=host, port=port, allow_hosts=allow_host or (),
                say=lambda line: console.print(line, markup=False))  # names and paths printed literally
