"""Serving a trained run: the REST server with dynamic micro-batching, and exports.

    from deepscope.serve import ServeOptions, create_app, run_server
    run_server(ServeOptions(run="runs/mnist-...", max_batch=64, max_wait_ms=5), port=8000)
    app = create_app(ServeOptions(run="runs/mnist-..."))      # an ASGI app, e.g. for tests or another server
"""

from deepscope.serve.app import create_app
from deepscope.serve.options import ServeOptions
from deepscope.serve.server import run_server

__all__ = ["ServeOptions", "create_app", "run_server"]
