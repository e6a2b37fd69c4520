"""Serve the dashboard of a run root: `deepscope ui`, or `deepscope.ui.serve("runs")` in Python.

Bound to 127.0.0.1 by default, so only this machine can see the runs; another host (0.0.0.0) shares them with the
network, deliberately, and then the Host-header check is off (the name people use is not known in advance).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from deepscope.errors import UserError
from deepscope.ui.app import create_app

LOOPBACK = ("127.0.0.1", "localhost", "::1")
LOCAL_HOST_NAMES = ["127.0.0.1", "localhost", "[::1]", "::1"]


def serve(root: str | Path = "runs", *, host: str = "127.0.0.1", port: int = 8000,
          say: Callable[[str], None] = print) -> None:
    """Serve the dashboard for `root` until interrupted; `say` prints where it is (and a warning off loopback)."""
    import uvicorn  # imported here: it is only needed once a server starts

    root = Path(root)
    if not root.is_dir():
        raise UserError(f"--root {root} is not a folder: train a run first (`deepscope train CONFIG`) "
                        "or pass --root with the folder that holds your runs")
    check_port_free(host, port)
    local = host in LOOPBACK
    dashboard = create_app(root, allowed_hosts=LOCAL_HOST_NAMES if local else None)
    shown = f"[{host}]" if ":" in host else host
    say(f"dashboard for {root} at http://{shown}:{port}  (Ctrl+C to stop)")
    if not local:
        say(f"listening on {host}: anyone who can reach this machine can see these runs")
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
