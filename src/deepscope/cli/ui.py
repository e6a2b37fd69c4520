"""`deepscope ui [--root runs] [--host 127.0.0.1] [--port 8000]`: the local dashboard in a browser.

Bound to 127.0.0.1 by default, so only this machine can see the runs; --host 0.0.0.0 shares them with the network,
deliberately.
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
) -> None:
    """Serve the dashboard: the runs table, each run's report, and curves of chosen runs side by side."""
    import deepscope as ds

    console = Console(stderr=True, highlight=False)
    ds.ui.serve(root, host=host, port=port, say=console.print)
