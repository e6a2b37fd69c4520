"""Shared fixtures. Real datasets are found through DEEPSCOPE_DATA (CI: ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))

# an absolute path, so that subprocesses and tests that change folder find the data too
if os.environ.get("DEEPSCOPE_DATA"):
    os.environ["DEEPSCOPE_DATA"] = str(Path(os.environ["DEEPSCOPE_DATA"]).resolve())


def shared_data() -> Path | None:
    for candidate in (os.environ.get("DEEPSCOPE_DATA"), Path(__file__).parents[2] / "shared" / "data"):
        if candidate and (Path(candidate) / "mnist").exists():
            return Path(candidate).resolve()
    return None


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared real datasets; skips when they are not on this machine."""
    found = shared_data()
    if found is None:
        pytest.skip("real datasets not found: set DEEPSCOPE_DATA to the shared data folder")
    monkeypatch.setenv("DEEPSCOPE_DATA", str(found))
    return found


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never write into the user's cache."""
    monkeypatch.setenv("DEEPSCOPE_CACHE", str(tmp_path_factory.mktemp("cache")))


# a valid safetensors file holding no tensor (8-byte header length, then the JSON header "{}"): fake run folders
EMPTY_SAFETENSORS = (2).to_bytes(8, "little") + b"{}"
