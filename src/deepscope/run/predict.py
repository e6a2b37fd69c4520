"""Predict from raw input: an image, a WAV recording, a folder of either, a CSV/TSV table, or a text itself.

    rows = deepscope.predict("runs/mnist-...", "digits/")      # [{"input": "digits/0.png", "label": 0, ...}, ...]
    write_predictions("predictions.csv", rows)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from deepscope.config.loading import load_config
from deepscope.data.sources import TABLE_OPTIONS
from deepscope.data.sources.csv_table import check_delimiter, first_fields, load_csv
from deepscope.data.suffixes import AUDIO_SUFFIXES, IMAGE_SUFFIXES, TABLE_SUFFIXES
from deepscope.errors import DataError
from deepscope.io import write_text
from deepscope.models.predictor import Predictor
from deepscope.run.forecast import forecast_from_csv
from deepscope.track.rundir import RunDir

FILE_KINDS = {"image": IMAGE_SUFFIXES, "audio": AUDIO_SUFFIXES}


def predict(run: str | Path, source: str | Path) -> list[dict[str, Any]]:
    """One row per example: `input` (its file, its row number, or the text itself) and the decoded prediction.

    Args:
        run: a finished run directory.
        source: an image or WAV file, a folder of them, a CSV/TSV file with the model's input columns (for a
            forecasting run: its last rows are the lookback window), or for a one-input text model a text.
    """
    rows, names = predict_path(run, source)
    return [{"input": name, **row} for name, row in zip(names, rows)]


def predict_path(run: str | Path, source: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(one prediction per example, the example's name: file path, row number or the text)."""
    predictor = Predictor.load(run)
    predictor.check_predicts()
    path = _existing_path(source)
    if path is None:
        text = _text_input(predictor)
        if text is None:
            what = f"{str(source)[:200]}: no such file or folder" if str(source).strip() else "no input given"
            raise DataError(f"{what}; give an image, a WAV file, a folder of them, or a CSV file")
        if not str(source).strip():
            raise DataError(f"the text is empty: this model predicts {', '.join(predictor.outputs)} from its text "
                            f"input {text!r}; give the text in quotes, e.g. deepscope predict RUN \"a fine film\"")
        return predictor.predict({text: [str(source)]}), [str(source)]
    if path.is_dir():
        kind = _file_kind(predictor, path)
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in FILE_KINDS[kind])
        if not files:
            raise DataError(f"{path}: no {kind} files ({', '.join(sorted(FILE_KINDS[kind]))}) in this folder")
        return predictor.predict({_single_input(predictor, kind, path): files}), [str(f) for f in files]
    suffix = path.suffix.lower()
    for kind, suffixes in FILE_KINDS.items():
        if suffix in suffixes:
            return predictor.predict({_single_input(predictor, kind, path): [path]}), [str(path)]
    if suffix in TABLE_SUFFIXES:
        return _predict_table(predictor, run, path)
    raise DataError(f"{path}: unknown input type {suffix!r}; "
                    "give an image, a WAV file, a folder of them, or a CSV file")


def _predict_table(predictor: Predictor, run: str | Path, path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    reading = table_reading(run)
    if any(f.type == "timeseries" for f in predictor.inputs.values()):  # the CSV's last rows are the lookback window
        rows = forecast_from_csv(run, path, reading=reading)
        return rows, [f"step {i + 1}" for i in range(len(rows))]
    columns = _read_table(path, reading, outputs=list(predictor.outputs))
    n = len(next(iter(columns.values())))
    return predictor.predict(columns), [f"row {i + 1}" for i in range(n)]


def table_reading(run: str | Path) -> dict[str, Any]:
    """How the run read its table (`data.delimiter`, `header`, `columns`, `encoding` of its config.yaml), so that a
    file shaped like the training file is read the same way; {} for a model folder without its config."""
    config = RunDir(Path(run)).config
    if not config.is_file():
        return {}
    data = load_config(config).data
    return {key: getattr(data, key) for key in TABLE_OPTIONS if getattr(data, key) is not None}


def _read_table(path: Path, reading: dict[str, Any], *, outputs: list[str]) -> dict[str, Any]:
    """The file's columns by name. A run that named its columns (`data.columns`, as for a file without a header
    row) names this file's columns the same way: all of them, or all but the outputs (a file to predict has no
    target column)."""
    names = reading.get("columns")
    if not names:
        return load_csv(path, **reading).splits["train"]
    inputs_only = [name for name in names if name not in outputs]
    first, delimiter = first_fields(path, delimiter=reading.get("delimiter"), encoding=reading.get("encoding"))
    width = len(first)
    for chosen in (names, inputs_only):
        if len(chosen) == width:  # named before reading, so that a message about a cell names its column
            return load_csv(path, **{**reading, "columns": chosen}).splits["train"]
    check_delimiter(path, first, delimiter)  # one field holding `;`: a file separated by another delimiter
    raise DataError(f"{path}: {width} columns, but this run's data.columns names {len(names)} "
                    f"({len(inputs_only)} without the outputs {', '.join(outputs)}): give a file with the columns "
                    f"{', '.join(inputs_only)} in that order")


def _existing_path(source: str | Path) -> Path | None:
    """The file or folder `source` names, or None: an empty argument is no path (Path("") is the current
    folder), and a paragraph longer than a file name may be cannot be one (the system refuses to look it up)."""
    if not str(source).strip():
        return None
    path = Path(source)
    try:
        return path if path.exists() else None
    except (OSError, ValueError):  # a name too long, or holding a NUL byte
        return None


def _text_input(predictor: Predictor) -> str | None:
    """The input a bare string on the command line is for: the model's only input, if it reads text."""
    texts = [n for n, f in predictor.inputs.items() if f.type == "text"]
    return texts[0] if len(predictor.inputs) == 1 and texts else None


def _file_kind(predictor: Predictor, folder: Path) -> str:
    kinds = {f.kind for f in predictor.inputs.values()} & set(FILE_KINDS)
    return kinds.pop() if len(kinds) == 1 else "image"


def _single_input(predictor: Predictor, kind: str, source: Path) -> str:
    names = [n for n, f in predictor.inputs.items() if f.kind == kind]
    if len(predictor.inputs) != 1 or not names:
        raise DataError(
            f"{source}: this model reads the columns {list(predictor.inputs)}, not {kind} files; give a CSV with "
            "those columns"
        )
    return names[0]


def write_predictions(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """CSV with `input`, each output's prediction and one `p(<class>)` column per class probability."""
    flat = [_flatten(row) for row in rows]
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
