from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

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


@pytest.fixture
def deepscope_in_process(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Callable[..., subprocess.CompletedProcess]:
    """`deepscope ARGS...` through the same `main()`, in this process: for the many small error cases, where a
    fresh interpreter would spend seconds importing torch for each."""
    from deepscope.cli.main import main

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["deepscope", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return run
