from __future__ import annotations

from pathlib import Path

import pytest


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
