"""`deepscope predict RUN INPUT --server URL`: the same inputs as a local prediction, sent to a running server.

    rows = predict_remote("runs/mnist-...", "digits/", "http://127.0.0.1:8000")   # as `predict` returns them

Files (images, WAVs, a folder of them) go as multipart uploads, CSV rows and texts as JSON, in requests of at most
CHUNK items; the server's /metadata says which input each belongs to. Standard library only (urllib): a client
needs nothing the toolkit does not already have.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from deepscope.data.suffixes import AUDIO_SUFFIXES, IMAGE_SUFFIXES, TABLE_SUFFIXES
from deepscope.errors import DataError, UserError
from deepscope.run.predict import _existing_path, _read_table, table_reading

CHUNK = 64  # items per request: the server batches across requests, so small requests lose nothing
FILE_TYPES = {"image": IMAGE_SUFFIXES, "audio": AUDIO_SUFFIXES}


def predict_remote(run: str | Path, source: str | Path, server: str, *, api_key: str | None = None,
                   timeout: float = 60.0) -> list[dict[str, Any]]:
    client = _Client(server.rstrip("/"), api_key, timeout)
    meta = client.get("/metadata")
    inputs: dict[str, dict[str, Any]] = meta["inputs"]
    client.outputs = list(meta["outputs"])
    path = _existing_path(source)
    if path is None:
        texts = [name for name, f in inputs.items() if f["type"] == "text"]
        if len(inputs) != 1 or not texts:
            raise DataError(f"{str(source)[:200]}: no such file or folder; give an image, a WAV file, a folder of "
                            "them, or a CSV file")
        return [{"input": str(source), **client.post_json([{texts[0]: str(source)}])[0]}]
    if path.suffix.lower() in TABLE_SUFFIXES and path.is_file():
        columns = _read_table(path, table_reading(run), outputs=list(meta["outputs"]))
        history = next((name for name, f in inputs.items() if f["type"] == "timeseries"), None)
        if history is not None:
            return _forecast(client, history, inputs[history], columns)
        rows = [{name: _plain(columns[name][i]) for name in inputs} for i in range(len(next(iter(columns.values()))))]
        answers = [a for start in range(0, len(rows), CHUNK) for a in client.post_json(rows[start:start + CHUNK])]
        return [{"input": f"row {i + 1}", **a} for i, a in enumerate(answers)]
    name, kind = _file_input(inputs, path)
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in FILE_TYPES[kind]) if path.is_dir() else [path]
    if not files:
        raise DataError(f"{path}: no {kind} files ({', '.join(sorted(FILE_TYPES[kind]))}) in this folder")
    answers = [a for start in range(0, len(files), CHUNK) for a in client.post_files(name, files[start:start + CHUNK])]
    return [{"input": str(f), **a} for f, a in zip(files, answers)]


def _forecast(client: _Client, name: str, history: dict[str, Any], columns: dict[str, Any]) -> list[dict[str, Any]]:
    """A forecasting run: the CSV's columns as the history (its last `lookback` rows are the window), answered as
    `predict` answers locally, one row per future step."""
    times = [history["time"]] if isinstance(history["time"], str) else history["time"]
    wanted = [*times, *history["values"], *[c for c in history["categorical"] if c not in history["values"]]]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise DataError(f"no column(s) {', '.join(missing)} in the file; this model reads {', '.join(wanted)}")
    numbers = [c for c in history["values"] if c not in history["categorical"]]
    series = {c: [_number(v) if c in numbers else _plain(v) for v in columns[c]] for c in wanted}
    answer = client.post_json({name: series})
    time = next(k for k in answer if k not in client.outputs)
    target = next(k for k in answer if k in client.outputs)
    steps = zip(answer[time], answer[target])
    return [{"input": f"step {i + 1}", time: t, target: v} for i, (t, v) in enumerate(steps)]


def _number(text: Any) -> Any:
    """A CSV cell of a number column as JSON: a number, null when missing, the text itself when it is not a number
    (the server then says which row)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _file_input(inputs: dict[str, dict[str, Any]], path: Path) -> tuple[str, str]:
    own = [(name, f["type"]) for name, f in inputs.items() if f["type"] in FILE_TYPES]
    if len(inputs) != 1 or not own:
        raise DataError(f"{path}: the served model reads {', '.join(inputs)}; give a CSV file with those columns")
    return own[0]


def _plain(value: Any) -> Any:
    """A CSV cell as JSON: numpy scalars as Python values, NaN (a missing number) as null."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


class _Client:
    def __init__(self, url: str, api_key: str | None, timeout: float):
        self.url, self.timeout = url, timeout
        self.outputs: list[str] = []  # the served model's outputs (its /metadata)
        self.headers = {"X-API-Key": api_key} if api_key else {}

    def get(self, route: str) -> Any:
        return self._send(urllib.request.Request(self.url + route, headers=self.headers))

    def post_json(self, items: list[dict[str, Any]] | dict[str, Any]) -> Any:
        body = json.dumps(items).encode()
        return self._send(urllib.request.Request(self.url + "/predict", data=body, method="POST",
                                                 headers={**self.headers, "Content-Type": "application/json"}))

    def post_files(self, field: str, files: list[Path]) -> list[dict[str, Any]]:
        boundary = uuid.uuid4().hex
        parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{f.name}\"\r\n"
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + f.read_bytes() + b"\r\n" for f in files]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        answer = self._send(urllib.request.Request(
            self.url + "/predict", data=body, method="POST",
            headers={**self.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}))
        return answer if isinstance(answer, list) else [answer]

    def _send(self, request: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            detail = _detail(error)
            raise DataError(f"the server at {self.url} answered {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise UserError(f"no server answers at {self.url} ({reason}); start one with `deepscope serve RUN`, or "
                            "check --server") from None


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        detail = json.loads(error.read()).get("detail")
    except (ValueError, AttributeError):
        return error.reason
    if isinstance(detail, list):  # validation errors: each field and why
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail[:5])
    return str(detail)[:500]
