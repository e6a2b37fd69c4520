"""From a request to encoded tensors, and from the model's tensors to the answer: the same features, fitted in
training, that `ds.load(run).predict` uses, so the server preprocesses and decodes exactly as it does.

    items, single = parse_json(adapter, body)        # validated items (pydantic), and whether one was sent
    columns = json_columns(items, inputs)            # {"image": [array (28, 28, 1)], ...}
    columns = upload_columns(files, inputs)          # from multipart uploads: {"image": [PIL image, ...]}
    tensors, n = encode(inputs, columns)             # DataError (-> 422) naming the field when a value is wrong
    rows = decode(outputs, predictions)              # [{"label": 7, "probabilities": {...}}, ...]
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, TypeAdapter

from deepscope.data.features import Feature
from deepscope.data.images import open_image
from deepscope.data.wav import Recording, decode_wav
from deepscope.errors import DataError


def parse_json(adapters: tuple[TypeAdapter, TypeAdapter], body: bytes) -> tuple[list[BaseModel], bool]:
    """The validated items of a JSON body, one item or a list of them (pydantic's ValidationError names each wrong
    field: ["image"] for one item, [3, "image"] for the fourth of a list)."""
    one, many = adapters
    if body.lstrip()[:1] == b"[":
        return many.validate_json(body), False
    return [one.validate_json(body)], True


def json_columns(items: list[BaseModel], inputs: dict[str, Feature]) -> dict[str, list[Any]]:
    """Items -> columns; images are (H, W, C) arrays already (their validator makes them)."""
    return {name: [getattr(item, name) for item in items] for name in inputs}


def upload_columns(files: dict[str, list[tuple[str, bytes]]], inputs: dict[str, Feature]) -> dict[str, list[Any]]:
    """Uploaded files by input name (each a list of (filename, bytes)) -> decoded images or recordings."""
    columns: dict[str, list[Any]] = {}
    for name, uploads in files.items():
        kind = inputs[name].kind
        columns[name] = [_image(data, f"{name}: {filename}") if kind == "image" else
                         decode_wav(data, f"{name}: {filename}") for filename, data in uploads]
    return columns


def _image(data: bytes, name: str) -> Any:
    if not data:
        raise DataError(f"{name}: the file is empty; upload an image file")
    image = open_image(io.BytesIO(data), name)
    try:
        image.load()  # decode now, in the request's thread: a truncated file fails here, naming the upload
    except (OSError, ValueError, SyntaxError) as error:
        raise DataError(f"{name}: not a readable image ({error})") from None
    return image


def encode(inputs: dict[str, Feature], columns: dict[str, list[Any]]) -> tuple[dict[str, torch.Tensor], int]:
    """Each input column through its fitted feature; the batch and its row count."""
    tensors = {name: feature.encode(columns[name]) for name, feature in inputs.items()}
    lengths = {len(t) for t in tensors.values()}
    if len(lengths) != 1:
        raise DataError(f"the inputs hold different numbers of items: {sorted(lengths)}; send one per input")
    return tensors, lengths.pop()


def decode(outputs: dict[str, Feature], predictions: dict[str, dict[str, torch.Tensor]]) -> list[dict[str, Any]]:
    decoded = [feature.decode(predictions[name]) for name, feature in outputs.items()]
    return [{k: v for part in parts for k, v in part.items()} for parts in zip(*decoded)]


def warmup_batch(inputs: dict[str, Feature]) -> dict[str, torch.Tensor]:
    """One plausible encoded item, to run the model once before the server says it is ready: blank images and
    recordings, missing table values (filled as in training), a text of one unknown token, a flat series."""
    batch: dict[str, torch.Tensor] = {}
    for name, feature in inputs.items():
        f = feature.fitted
        if feature.type == "text":
            ids = torch.zeros((1, f["max_length"]), dtype=torch.long)
            ids[0, 0] = 1  # <unk>: encoding a made-up text could fail the "nothing known" check
            batch[name] = ids
        elif feature.type == "image":
            batch[name] = feature.encode(np.zeros((1, f["height"], f["width"], f["channels"]), dtype=np.float32))
        elif feature.type == "timeseries":  # a window at the training period's mean, in scaled units
            batch[name] = torch.zeros((1, f["length"], f["channels"]))
        elif feature.type == "audio":
            batch[name] = feature.encode([Recording(np.zeros(f["n_samples"], dtype=np.float32), f["sample_rate"])])
        else:
            batch[name] = feature.encode([None])
    return batch
