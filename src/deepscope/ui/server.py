"""Serve the dashboard of a run root: `deepscope ui`, or `deepscope.ui.serve("runs")` in Python.

Bound to 127.0.0.1 by default, so only this machine can see the runs; another host (0.0.0.0) shares them with the
network, deliberately. The Host-header check is on whatever the host (`deepscope.ui.security.HostCheck`): the
dashboard answers to the loopback names, the address it is bound to, and the names given with --allow-host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from deepscope.errors import UserError
from deepscope.ports import check_port_free
from deepscope.ui.app import create_app
from deepscope.ui.security import LOOPBACK_NAMES, WILDCARD_ADDRESSES, HostCheck


def serve(root: str | Path = "runs", *, host: str = "127.0.0.1", port: int = 8000, allow_hosts: Iterable[str] = (),
          say: Callable[[str], None] = print) -> None:
    """Serve the dashboard for `root` until interrupted; `say` prints where it is (and a warning off loopback).

    `allow_hosts`: host names, besides the loopback names and `host`, that the dashboard answers to (the names
    other machines reach it by, e.g. "mybox.local"); any other Host header is refused."""
    import uvicorn  # imported here: it is only needed once a server starts

    root = Path(root)
    if not root.is_dir():
        raise UserError(f"--root {root} is not a folder: train a run first (`deepscope train CONFIG`) "
                        "or pass --root with the folder that holds your runs")
    allow_hosts = list(allow_hosts)
    hosts = HostCheck.for_server(host, allow_hosts)  # a mistaken --allow-host is named before anything starts
    check_port_free(host, port)
    dashboard = create_app(root, host=host, allow_hosts=allow_hosts)
    shown = f"[{host}]" if ":" in host else host
    say(f"dashboard for {root} at http://{shown}:{port}  (Ctrl+C to stop)")
    if host not in LOOPBACK_NAMES:
        addresses = " and bare IP addresses" if host in WILDCARD_ADDRESSES else ""
        say(f"listening on {host}: anyone who can reach this machine can see these runs; it answers to "
            f"{', '.join(sorted(hosts.names))}{addresses} (--allow-host NAME adds a name)")
    uvicorn.run(dashboard, host=host, port=port, log_level="warning")
