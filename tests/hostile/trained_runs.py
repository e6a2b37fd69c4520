"""Small real runs for the hostile suites to attack: one per kind of input a model reads (a table with a number
column, a text, an image, a recording), each trained for one epoch on a few rows written to a temporary folder."""

from __future__ import annotations

import csv
import wave
from pathlib import Path

import numpy as np
from PIL import Image

import deepscope as ds

TABLE_COLUMNS = ["age", "job", "bought"]
REVIEWS = {"pos": ["a gripping , funny film", "warm and funny", "funny and moving"],
           "neg": ["a dull , tedious mess", "dull and lifeless", "boring from start to end"]}


def _train(folder: Path, source: Path, inputs: dict, outputs: dict, model: dict) -> Path:
    data = {"source": str(source), "inputs": inputs, "outputs": outputs, "split": {"val": 0.0, "test": 0.25}}
    config = {"data": data, "model": model, "train": {"epochs": 1, "batch_size": 16},
              "run": {"root": str(folder / "runs"), "report": False}}
    return Path(ds.train(config, progress=False).dir)


def table_run(folder: Path) -> Path:
    """age (number), job (category) -> bought (binary), from table.csv in `folder`."""
    rng = np.random.default_rng(0)
    with open(folder / "table.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TABLE_COLUMNS)
        for _ in range(40):
            age = int(rng.integers(18, 70))
            writer.writerow([age, rng.choice(["admin", "nurse", "cook"]), "yes" if age > 40 else "no"])
    return _train(folder, folder / "table.csv", {"age": "number", "job": "category"}, {"bought": "binary"},
                  {"encoder": {"name": "tabular"}})


def text_run(folder: Path) -> Path:
    with open(folder / "reviews.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        writer.writerows([text, label] for label, texts in REVIEWS.items() for text in texts * 4)
    return _train(folder, folder / "reviews.csv", {"review": "text"}, {"sentiment": "category"},
                  {"encoder": {"name": "cnn1d"}})


def image_run(folder: Path) -> Path:
    """8x8 greyscale squares, dark or light, in class folders."""
    for label, level in (("dark", 40), ("light", 210)):
        (folder / "images" / label).mkdir(parents=True)
        for i in range(6):
            Image.new("L", (8, 8), level + i).save(folder / "images" / label / f"{i}.png")
    return _train(folder, folder / "images", {"image": "image"}, {"label": "category"},
                  {"encoder": {"name": "cnn", "filters": [4], "dense": 8}})


def write_tone(path: Path, hz: float, seconds: float = 0.1, rate: int = 8000) -> Path:
    """A 16-bit mono sine tone, written by Python's own `wave` module."""
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.sin(2 * np.pi * hz * t) * 12000).astype("<i2").tobytes())
    return path


def audio_run(folder: Path) -> Path:
    for label, hz in (("low", 300), ("high", 1500)):
        (folder / "speech" / label).mkdir(parents=True)
        for i in range(6):
            write_tone(folder / "speech" / label / f"{i}.wav", hz + 10 * i)
    return _train(folder, folder / "speech", {"audio": "audio"}, {"label": "category"},
                  {"encoder": {"name": "cnn", "filters": [4], "dense": 8}})
