"""Run folders written by hand (no training), for the dashboard's tests: two finished runs and a broken one."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import EMPTY_SAFETENSORS, FAKE_MODEL_SPEC

CONFIG = ("data:\n  source: digits\nmodel:\n  encoder: cnn\n"
          "train:\n  epochs: {epochs}\n  optimizer:\n    name: adam\n    lr: {lr}\n")


def write_run(root: Path, name: str, *, lr: float = 0.01, val_loss: list[float] = (1.0, 0.6, 0.4),
              accuracy: float | None = 0.9, model: bool = True, cut_short: bool = False) -> Path:
    """A run folder as training leaves it: config.yaml, env.json, metrics.jsonl (epochs, then the test
    evaluation) and model/; `cut_short` ends metrics.jsonl in the middle of a line, as a killed process does."""
    run = root / name
    (run / "model").mkdir(parents=True)
    (run / "config.yaml").write_text(CONFIG.format(epochs=len(val_loss), lr=lr))
    (run / "env.json").write_text(json.dumps({"started": "2026-11-30T10:00:00+0000", "seed": 0}))
    rows = [{"epoch": n, "train.loss": loss * 1.1, "lr": lr, "val.loss": loss, "val.accuracy": 1 - loss / 2,
             "time": 0.1}
            for n, loss in enumerate(val_loss, 1)]
    if accuracy is not None:
        rows.append({"split": "test", "accuracy": accuracy, "loss": val_loss[-1]})
    text = "".join(json.dumps(row) + "\n" for row in rows)
    (run / "metrics.jsonl").write_text(text + ('{"epoch": 9, "train.lo' if cut_short else ""))
    if model:
        (run / "model" / "model.json").write_text(json.dumps(FAKE_MODEL_SPEC))
        (run / "model" / "weights.safetensors").write_bytes(EMPTY_SAFETENSORS)
    else:  # written an hour ago, so the run is not taken to be still training
        old = time.time() - 3600
        for path in [*run.rglob("*"), run]:
            os.utime(path, (old, old))
    return run


@pytest.fixture
def make_run() -> Callable[..., Path]:
    return write_run


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    """fast (lr 0.01, 4 epochs), slow (lr 0.001, 3 epochs) and broken (killed: cut-short metrics, no model)."""
    root = tmp_path / "runs"
    write_run(root, "fast-20261130-100000", lr=0.01, val_loss=[1.0, 0.5, 0.3, 0.25], accuracy=0.95)
    write_run(root, "slow-20261130-110000", lr=0.001, val_loss=[1.2, 1.0, 0.9], accuracy=0.8)
    write_run(root, "broken-20261130-120000", val_loss=[1.5, 1.4], accuracy=None, model=False, cut_short=True)
    return root


@contextmanager
def serving(app) -> Iterator[str]:
    """`app` (any ASGI app) served by uvicorn on a free 127.0.0.1 port, in a thread; its base URL."""
    import uvicorn

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))  # the port is taken here, so no other process can take it before uvicorn
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the dashboard did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listening.close()
