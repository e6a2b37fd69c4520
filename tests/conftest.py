"""Shared fixtures. Real datasets are found through DEEPSCOPE_DATA (CI: ../shared/data)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `gpu` are skipped, not failed, on a machine without CUDA: one rule instead of a skipif in each."""
    if torch.cuda.is_available():
        return
    needs_cuda = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(needs_cuda)


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
# a model.json holding the keys a model is loaded from (models/saving.py): fake run folders that count as finished
FAKE_MODEL_SPEC = {"format": 1, "model": {"encoder": "cnn"}, "inputs": {"image": {"type": "image"}},
                   "outputs": {"label": {"type": "category"}}}
FAKE_VERSIONS = {"versions": {"deepscope": "0.0.0", "torch": "2"}}  # env.json's versions: what marks a folder a run


@pytest.fixture
def deepscope_in_process(capsys: pytest.CaptureFixture,
                         monkeypatch: pytest.MonkeyPatch) -> Callable[..., subprocess.CompletedProcess]:
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


# planted reviews a text model tells apart within a few epochs: the text runs of the CLI and explain tests
POSITIVE_REVIEWS = ["a gripping , funny film", "warm and funny", "a gripping story , wonderfully told",
                    "funny and moving"]
NEGATIVE_REVIEWS = ["a dull , tedious mess", "dull and lifeless", "a tedious , boring film", "boring from start to end"]


def write_reviews(folder: Path, copies: int) -> Path:
    """`folder/reviews.csv` (review, sentiment): every planted review `copies` times, positive ones first."""
    path = folder / "reviews.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        writer.writerows([[text, "pos"] for text in POSITIVE_REVIEWS * copies]
                         + [[text, "neg"] for text in NEGATIVE_REVIEWS * copies])
    return path


def tone_folders(root):
    """Two classes of noisy tones as 16-bit WAVs in class folders."""
    for label, hz in (("high", 1500.0), ("low", 300.0)):
        (root / label).mkdir(parents=True)
        for i in range(6):
            t = np.arange(1600) / 8000
            noise = np.random.default_rng(i).standard_normal(len(t)) * 0.05
            samples = ((0.5 * np.sin(2 * np.pi * hz * t) + noise) * 32767).astype(np.int16)
            with wave.open(str(root / label / f"{i}.wav"), "wb") as handle:
                handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(8000)
                handle.writeframes(samples.tobytes())
    return str(root)


def monthly_series(folder) -> str:
    path = folder / "monthly.csv"
    months = np.datetime64("2000-01") + np.arange(60)
    lines = ["Month,Passengers"] + [f"{m},{100 + 10 * np.sin(i / 2) + i:.3f}" for i, m in enumerate(months)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)
