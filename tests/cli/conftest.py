from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def run_deepscope(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """`deepscope ARGS...` in a fresh process, exactly as typed in a shell."""
    return subprocess.run([sys.executable, "-m", "deepscope.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture
def deepscope() -> Callable[..., subprocess.CompletedProcess]:
    return run_deepscope


@pytest.fixture(scope="session")
def trained_digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small finished run on the bundled digits, shared by the tests that need a model."""
    import deepscope as ds

    root = tmp_path_factory.mktemp("runs")
    run = ds.train(
        {"data": {"source": "digits"}, "model": {"encoder": "cnn"}, "train": {"epochs": 3, "batch_size": 64}},
        {"run.root": str(root)}, progress=False,
    )
    return run.dir
