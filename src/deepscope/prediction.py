"""Predict from files: an image, a folder of images, or a CSV/TSV table; write the results as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from deepscope.errors import DataError
from deepscope.io import write_text
from deepscope.serve.predictor import Predictor

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt"}


def predict_path(run: str | Path, source: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(one prediction per example, the example's name: file path or row number)."""
    predictor = Predictor.load(run)
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source}: no such file or folder; give an image, a folder of images, or a CSV file")
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"{source}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
        return predictor.predict({_image_input(predictor, source): files}), [str(f) for f in files]
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return predictor.predict({_image_input(predictor, source): [source]}), [str(source)]
    if source.suffix.lower() in TABLE_SUFFIXES:
        from deepscope.data.sources.csv_table import load_csv

        columns = load_csv(source).splits["train"]
        n = len(next(iter(columns.values())))
        return predictor.predict(columns), [f"row {i + 1}" for i in range(n)]
    raise DataError(f"{source}: unknown input type {source.suffix!r}; give an image, a folder of images, or a CSV file")


def _image_input(predictor: Predictor, source: Path) -> str:
    images = [n for n, f in predictor.inputs.items() if f.kind == "image"]
    if len(predictor.inputs) != 1 or not images:
        raise DataError(
            f"{source}: this model reads the columns {list(predictor.inputs)}, not images; give a CSV with those columns"
        )
    return images[0]


def write_predictions(path: str | Path, names: list[str], rows: list[dict[str, Any]]) -> None:
    """CSV with `input`, each output's prediction and one `p(<class>)` column per class probability."""
    flat = [{"input": name, **_flatten(row)} for name, row in zip(names, rows)]
    columns = list(dict.fromkeys(k for row in flat for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(flat)
    write_text(path, buffer.getvalue())


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update({f"p({k})": round(v, 6) for k, v in value.items()})
        else:
            out[key] = value
    return out
