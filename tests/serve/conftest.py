"""Small finished runs the server tests serve: an image CNN (the bundled 8x8 digits), a table (numbers and a
category) and a text model (the planted reviews), trained once per test module."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import deepscope as ds
from tests.conftest import write_reviews

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
