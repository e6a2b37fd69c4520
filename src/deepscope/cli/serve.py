"""`deepscope serve RUN [--host 127.0.0.1] [--port 8000] [--workers N] [--max-batch 64] [--max-wait-ms 5]
[--no-batching] [--api-key-env NAME] [--backend torch|onnx]`: the model of a finished run behind a REST API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from deepscope.cli.main import app
from deepscope.errors import UserError


@app.command("serve")
def serve(
    run: Annotated[Path, typer.Argument(help="a finished run directory (with --backend onnx: or an .onnx file)")],
    host: Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 lets other machines in")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="server processes sharing the port (each loads the model)")] = 1,
    max_batch: Annotated[int, typer.Option(help="items per forward pass at most")] = 64,
    max_wait_ms: Annotated[float, typer.Option(help="how long a request waits for others to batch with")] = 5.0,
    batching: Annotated[bool, typer.Option("--batching/--no-batching", help="batch concurrent requests")] = True,
    api_key_env: Annotated[str | None, typer.Option(
        metavar="NAME", help="require the API key held in this environment variable (X-API-Key header) on every "
        "route but /health")] = None,
    backend: Annotated[str, typer.Option(help="torch, or onnx (an exported model on onnxruntime)")] = "torch",
    max_body_mb: Annotated[float, typer.Option(help="largest request body accepted")] = 16.0,
    timeout: Annotated[float, typer.Option(help="seconds a request may take before it is answered 504")] = 30.0,
) -> None:
    """Serve a run's model: POST /predict (JSON or file uploads), /explain; GET /health, /ready, /metadata,
    /metrics (Prometheus); the OpenAPI schema at /docs. Concurrent requests share forward passes."""
    import deepscope as ds

    key = None
    if api_key_env is not None:
        key = os.environ.get(api_key_env, "")
        if not key.strip():
            raise UserError(f"--api-key-env {api_key_env}: the environment variable {api_key_env} is not set (or "
                            f"empty); set it to the key, e.g. export {api_key_env}=$(openssl rand -hex 16)")
    options = ds.serve.ServeOptions(run=str(run), max_batch=max_batch, max_wait_ms=max_wait_ms, batching=batching,
                                    api_key=key, max_body_bytes=int(max_body_mb * 2**20), timeout_s=timeout,
                                    backend=backend)
    console = Console(stderr=True, highlight=False)
    ds.serve.run_server(options, host=host, port=port, workers=workers,
                        say=lambda line: console.print(line, markup=False))
