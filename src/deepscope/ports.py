"""Ports a server listens on: the dashboard's and the prediction server's."""

from __future__ import annotations

import socket

from deepscope.errors import UserError


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
