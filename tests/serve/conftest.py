"""Small finished runs the server tests serve: an image CNN (the bundled 8x8 digits), a table (numbers and a
category), a text model (the planted reviews), a spectrogram CNN (tones) and a forecaster (a monthly series),
trained once per test module."""

from __future__ import annotations

import csv
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import uvicorn

import deepscope as ds
from tests.conftest import monthly_series, tone_folders, write_reviews

COLOURS = ["red", "green", "blue"]


def _train(config: dict, tmp_path_factory) -> str:
    config = {**config, "run": {"root": str(tmp_path_factory.mktemp("runs"))}}
    return str(ds.train(config, progress=False).dir)


@pytest.fixture(scope="module")
def image_run(tmp_path_factory) -> str:
    return _train({"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
                   "model": {"encoder": {"name": "cnn", "filters": [8], "dense": 32}}, "train": {"epochs": 1}},
                  tmp_path_factory)


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    with open(folder / "rows.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["size", "colour", "label"])
        for _ in range(300):
            size, colour = rng.normal(), COLOURS[rng.integers(3)]
            writer.writerow([f"{size:.3f}", colour, "big" if size + (colour == "red") > 0.5 else "small"])
    return _train({"data": {"source": str(folder / "rows.csv"), "inputs": {"size": "number", "colour": "category"},
                            "outputs": {"label": "category"}},
                   "model": {"encoder": {"name": "mlp", "hidden": [16]}}, "train": {"epochs": 3}}, tmp_path_factory)


@pytest.fixture(scope="module")
def text_run(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("reviews")
    write_reviews(folder, 6)
    return _train({"data": {"source": str(folder / "reviews.csv"), "inputs": {"review": "text"},
                            "outputs": {"sentiment": "category"}, "split": {"val": 0.0, "test": 0.0}},
                   "model": {"encoder": {"name": "cnn1d", "filters": 16, "embedding": {"dim": 16}}},
                   "train": {"epochs": 4, "batch_size": 16}}, tmp_path_factory)


@pytest.fixture(scope="module")
def audio_run(tmp_path_factory) -> str:
    """A CNN over the spectrograms of two kinds of tones (WAV files in class folders)."""
    tones = tone_folders(tmp_path_factory.mktemp("tones"))
    return _train({"data": {"source": tones, "split": {"val": 0.0, "test": 0.25}},
                   "model": {"encoder": {"name": "cnn", "filters": [4], "dense": 8}},
                   "train": {"epochs": 2, "batch_size": 8}}, tmp_path_factory)


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory) -> str:
    """An MLP forecasting 3 months from the last 6 of a monthly series (data/monthly.csv)."""
    series = {"time": "Month", "lookback": 6, "horizon": 3, "holdout": 6, "val": 6}
    csv_path = monthly_series(tmp_path_factory.mktemp("series"))
    return _train({"data": {"source": csv_path, "series": series},
                   "model": {"encoder": {"name": "mlp", "hidden": [16]}}, "train": {"epochs": 2}}, tmp_path_factory)


@contextmanager
def listening(app) -> Iterator[str]:
    """The app served by uvicorn on a free port of 127.0.0.1, in a thread; its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            assert thread.is_alive(), "the server ended before it started"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
