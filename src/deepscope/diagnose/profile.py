"""Before training: a cheap statistical profile of the prepared data, judged by the data detectors.

    profile = profile_data(prepared)      # JSON: sizes, class counts, duplicates, leakage, missing, constant

Duplicates are found by hashing each example's encoded inputs (every input column of a row together), so
60,000 MNIST images profile in well under a second; near-duplicates are the same after coarse rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deepscope.data.prepare import PreparedData

EXAMPLES_KEPT = 5  # row indices kept as evidence
NEAR_DECIMALS = 1  # near-duplicates: equal after rounding the encoded (normalised) inputs to this


def profile_data(data: PreparedData) -> dict[str, Any]:
    inputs = list(data.inputs)
    exact = {split: _row_hashes(tensors.tensors, inputs) for split, tensors in data.splits.items()}
    near = {split: _row_hashes(tensors.tensors, inputs, decimals=NEAR_DECIMALS) for split, tensors in data.splits.items()}
    return {
        "sizes": {split: len(tensors) for split, tensors in data.splits.items()},
        "classes": _classes(data),
        "duplicates": {**_duplicates(exact, data), **_near(near)},
        "missing": _missing(data),
        "constant": _constant(data),
    }


def _row_hashes(tensors: dict[str, torch.Tensor], columns: list[str], decimals: int | None = None) -> np.ndarray:
    """One 64-bit hash per row of the given columns: equal rows get equal hashes, different rows collide with
    probability about 2**-64 (a random linear hash of the row's 64-bit words, vectorised: MNIST in ~0.2 s)."""
    n = len(next(iter(tensors.values())))
    parts = []
    for column in columns:
        values = tensors[column].detach().cpu().reshape(n, -1)
        if decimals is not None and values.is_floating_point():
            # one byte a value: no -0.0, and 4x fewer words to hash (normalised inputs lie well inside +-12.7)
            values = (values * 10**decimals).round_().clamp_(-128, 127).to(torch.int8)
        parts.append(np.ascontiguousarray(values.numpy()).view(np.uint8).reshape(n, -1))
    rows = np.concatenate(parts, axis=1) if parts else np.zeros((n, 0), dtype=np.uint8)
    if rows.shape[1] % 8:
        rows = np.pad(rows, ((0, 0), (0, -rows.shape[1] % 8)))
    words = np.ascontiguousarray(rows).view(np.uint64)
    coefficients = np.random.default_rng(0).integers(1, 2**63, size=words.shape[1], dtype=np.uint64) * 2 + 1
    with np.errstate(over="ignore"):
        return (words * coefficients).sum(axis=1, dtype=np.uint64) ^ np.uint64(words.shape[1])


def _duplicates(hashes: dict[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
    train = hashes.get("train", np.zeros(0, dtype=np.uint64))
    _, first = np.unique(train, return_index=True)
    result: dict[str, Any] = {"within_train": int(len(train) - len(first))}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        if a in hashes and b in hashes:
            shared = np.flatnonzero(np.isin(hashes[b], hashes[a]))
            result[f"{a}_{b}"] = int(len(shared))
            result[f"{a}_{b}_examples"] = shared[:EXAMPLES_KEPT].tolist()
    result["conflicting_labels"] = _conflicting_labels(train, data)
    return result


def _conflicting_labels(train_hashes: np.ndarray, data: PreparedData) -> int:
    """Groups of identical training inputs that carry different labels."""
    outputs = [n for n, f in data.outputs.items() if f.type in ("category", "binary")]
    if not outputs or not len(train_hashes):
        return 0
    labels = data.splits["train"].tensors[outputs[0]].detach().cpu().numpy()
    pairs = np.unique(np.stack([train_hashes, labels.astype(np.uint64)], axis=1), axis=0)
    groups, counts = np.unique(pairs[:, 0], return_counts=True)
    return int((counts > 1).sum())


def _near(hashes: dict[str, np.ndarray]) -> dict[str, int]:
    result = {}
    for split in ("val", "test"):
        if "train" in hashes and split in hashes:
            result[f"near_train_{split}"] = int(np.isin(hashes[split], hashes["train"]).sum())
    return result


def _classes(data: PreparedData) -> dict[str, Any]:
    classes = {}
    for name, feature in data.outputs.items():
        if feature.type not in ("category", "binary"):
            continue
        names = ([str(c) for c in feature.classes] if feature.type == "category"
                 else [str(feature.fitted.get("negative")), str(feature.fitted.get("positive"))])
        counts = {}
        for split, tensors in data.splits.items():
            labels = tensors.tensors[name].detach().cpu().long().reshape(-1)
            counts[split] = torch.bincount(labels, minlength=len(names)).tolist()[: len(names)]
        classes[name] = {"names": names, "counts": counts}
    return classes


def _missing(data: PreparedData) -> dict[str, int]:
    """Missing values per raw training column (None or NaN)."""
    missing = {}
    for column, values in data.raw.splits.get("train", {}).items():
        if column not in data.features or data.features[column].kind == "image":
            continue
        count = _count_missing(np.asarray(values))
        if count:
            missing[column] = count
    return missing


def _count_missing(values: np.ndarray) -> int:
    if values.dtype.kind == "f":
        return int(np.isnan(values).sum())
    if values.dtype.kind == "O":
        return int(sum(v is None or (isinstance(v, float) and np.isnan(v)) or v == "" for v in values))
    return 0


def _constant(data: PreparedData) -> list[str]:
    """Input columns with a single value over the training split (they carry no information)."""
    constant = []
    for column, values in data.raw.splits.get("train", {}).items():
        if column in data.inputs and data.inputs[column].kind != "image":
            present = [v for v in np.asarray(values).tolist() if v is not None and v == v]
            if len(set(map(str, present))) <= 1:
                constant.append(column)
    return constant
