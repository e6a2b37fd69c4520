"""`deepscope ui [--root runs] [--host 127.0.0.1] [--port 8000]`: the local dashboard in a browser.

Bound to 127.0.0.1 by default, so only this machine can see the runs; --host 0.0.0.0 shares them with the network,
deliberately.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from deepscope.cli.main import app
from deepscope.errors import UserError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command("ui")
def ui(
    root: Annotated[Path, typer.Option(help="the folder that holds the runs (and runs.sqlite)")] = Path("runs"),
    host: Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 lets other machines in")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Serve the dashboard: the runs table, each run's report, and curves of chosen runs side by side."""
    import uvicorn

    from deepscope.ui import create_app

    if not root.is_dir():
        raise UserError(f"--root {root} is not a folder: train a run first (`deepscope train CONFIG`) "
                        "or pass --root with the folder that holds your runs")
    check_port_free(host, port)
    local = host in LOOPBACK
    dashboard = create_app(root, allowed_hosts=["127.0.0.1", "localhost", "[::1]", "::1"] if local else None)
    console = Console(stderr=True, highlight=False)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"dashboard for {root} at http://{shown}:{port}  (Ctrl+C to stop)")
    if not local:
        console.print(f"listening on {host}: anyone who can reach this machine can see these runs")
    uvicorn.run(dashboard, host=host, port=port, log_level="warning")


def check_port_free(host: str, port: int) -> None:
    """A taken port is the usual way the server fails to start; say so plainly rather than in uvicorn's log."""
    if not 0 < port < 65536:
        raise UserError(f"--port {port} is not a port: use a number from 1 to 65535, e.g. --port 8000")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a just-closed port is free
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(f"cannot listen on {host}:{port} ({error.strerror or error}): "
                            f"another program may use it; pass --port with another number") from None
