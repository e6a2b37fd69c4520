"""Before training: a cheap statistical profile of the prepared data, judged by the data detectors.

    profile = profile_data(prepared)      # JSON: sizes, class counts, duplicates, leakage, missing, constant

Duplicates compare each example's inputs (every input column of a row together) as bytes: the encoded tensors,
except texts, which are compared as written (spaces and case aside; see `_text_ids`), since different
sentences share token ids once rare words become <unk>. A fast vectorised hash puts rows into buckets and only
rows that share a bucket are compared byte for byte, so the counts are exact, for 70,000 MNIST images in about
half a second. Near-duplicates of images are held-out images that are shifted, cropped, brightened or re-encoded
copies of a training image (`near_duplicates.py`, a few seconds more on MNIST: bench/near_duplicates.py); for
other inputs they are rows equal after rounding the normalised inputs to 0.1 (a tenth of a standard deviation).
Target leakage: input columns that give an output away on their own (`target_relations.py`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from deepscope.data.prepare import PreparedData
from deepscope.data.stream import bounded
from deepscope.diagnose.near_duplicates import canonical_views, has_detail, near_copies
from deepscope.diagnose.target_relations import Target, leaking_columns

EXAMPLES_KEPT = 5  # row indices kept as evidence
NEAR_DECIMALS = 1  # near-duplicates: equal after rounding the encoded (normalised) inputs to this
CROSS_SPLITS = (("train", "val"), ("train", "test"), ("val", "test"))
LABELLED = ("category", "binary")
RAW_NOT_VALUES = ("image", "tokens")  # raw columns that are pixel arrays or a text's windows, not values to count


def profile_data(data: PreparedData) -> dict[str, Any]:
    """Sizes, class counts per split, exact and near duplicates (within train and across splits), conflicting
    labels, missing values, constant columns and target leakage of the training split: plain JSON for
    `Record.data`. A streamed split (data larger than memory) is profiled on its bounded sample."""
    sizes, data = data.sizes(), bounded(data)
    texts = _text_ids(data)
    exact = _group_ids({split: _row_bytes(data, split, texts) for split in data.splits})
    near = _group_ids({split: _row_bytes(data, split, texts, near=True) for split in data.splits})
    return {
        "sizes": sizes,
        "classes": _classes(data),
        "duplicates": {**_duplicates(exact, data), **_near_duplicates(near, exact, data)},
        "missing": _missing(data),
        "constant": _constant(data),
        "target_leakage": _target_leakage(data, texts),
        "skipped": list(data.raw.skipped),  # what the source left out while reading, and why (every one)
    }


# --- identical rows ---------------------------------------------------------------------------------------------
def _text_ids(data: PreparedData) -> dict[str, dict[str, np.ndarray]]:
    """Per text input, an int64 id per row of every split, equal when the raw texts are equal once runs of
    white space are one space and case is ignored ("A  fine film" = "a fine film")."""
    texts = {}
    for column in (c for c, feature in data.inputs.items() if feature.type == "text"):
        raw = {split: data.raw.splits[split][column] for split in data.splits}
        normalised = [" ".join(str(v).split()).casefold() if not _absent(v) else "\0" for r in raw.values() for v in r]
        _, ids = np.unique(np.asarray(normalised, dtype=str), return_inverse=True)
        bounds = np.cumsum([0] + [len(r) for r in raw.values()])
        texts[column] = {split: ids.reshape(-1)[a:b].astype(np.int64) for split, a, b in zip(raw, bounds, bounds[1:])}
    return texts


def _row_bytes(data: PreparedData, split: str, texts: dict[str, dict[str, np.ndarray]],
               near: bool = False) -> np.ndarray:
    """(N, W) uint8: each row's input columns side by side (encoded, texts as `_text_ids`), W a multiple of 8
    (whole 64-bit words). `near`: numbers rounded, and images left out (`_near_duplicates` compares them)."""
    tensors, n = data.splits[split].tensors, len(data.splits[split])
    parts = []
    for column in data.inputs:
        if near and column in _viewed_images(data):
            continue
        values = torch.from_numpy(texts[column][split]) if column in texts else tensors[column].detach().cpu()
        values = values.reshape(n, -1)
        if near and values.is_floating_point():
            # one byte a value, which also folds -0.0 into 0 (normalised inputs lie well inside +-12.7)
            values = (values * 10**NEAR_DECIMALS).round_().clamp_(-128, 127).to(torch.int8)
        parts.append(values.contiguous().numpy().view(np.uint8).reshape(n, -1))
    rows = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1) if parts else np.zeros((n, 0), np.uint8)
    if rows.shape[1] % 8 or rows.shape[1] == 0:
        rows = np.pad(rows, ((0, 0), (0, 8 - rows.shape[1] % 8)))
    return np.ascontiguousarray(rows)


def _group_ids(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """An id per row of every split, equal exactly when the rows' bytes are equal (within and across splits)."""
    hashes = np.concatenate([_hash(r) for r in rows.values()])
    _, ids, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    ids = ids.astype(np.int64).reshape(-1)
    bounds = np.cumsum([0] + [len(r) for r in rows.values()])
    # a hash shared by several rows is a duplicate or, rarely, a collision: compare those rows' bytes
    shared = np.flatnonzero(counts[ids] > 1)
    if len(shared):
        candidates = np.concatenate([
            r[shared[(shared >= start) & (shared < stop)] - start]
            for r, start, stop in zip(rows.values(), bounds[:-1], bounds[1:])
        ])
        as_records = candidates.view(np.dtype((np.void, candidates.shape[1]))).reshape(-1)
        _, exact = np.unique(as_records, return_inverse=True)
        ids[shared] = len(counts) + exact.reshape(-1)  # past every hash id, so the two kinds never meet
    return {split: ids[start:stop] for split, start, stop in zip(rows, bounds[:-1], bounds[1:])}


def _hash(rows: np.ndarray) -> np.ndarray:
    """A 64-bit hash per row: a random linear combination of its 64-bit words (wrapping). Equal rows hash
    equal; it is only a bucket, as structured differences (sign bits) can cancel out, hence `_group_ids`."""
    words = rows.view(np.uint64)
    coefficients = np.random.default_rng(0).integers(1, 2**62, size=words.shape[1], dtype=np.uint64) * 2 + 1
    return np.einsum("ij,j->i", words, coefficients)  # einsum: no (N, W) temporary, 4x faster than (w * c).sum


def _duplicates(ids: dict[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
    train = ids.get("train", np.zeros(0, np.int64))
    _, first = np.unique(train, return_index=True)
    repeats = np.setdiff1d(np.arange(len(train)), first)  # every row that repeats an earlier one
    result: dict[str, Any] = {"within_train": len(repeats), "within_train_examples": repeats[:EXAMPLES_KEPT].tolist()}
    for seen, held_out in CROSS_SPLITS:
        if seen in ids and held_out in ids:
            shared = np.flatnonzero(np.isin(ids[held_out], ids[seen]))
            result[f"{seen}_{held_out}"] = len(shared)
            result[f"{seen}_{held_out}_examples"] = shared[:EXAMPLES_KEPT].tolist()  # rows of `held_out`
    conflicts = _conflicting_rows(train, data)
    result["conflicting_labels"] = len(np.unique(train[conflicts]))
    result["conflicting_labels_examples"] = conflicts[:EXAMPLES_KEPT].tolist()
    return result


def _conflicting_rows(train_ids: np.ndarray, data: PreparedData) -> np.ndarray:
    """Training rows whose inputs also occur in another training row with a different label (any class
    output); regression targets are left out, as identical inputs with different numbers are ordinary noise."""
    outputs = [name for name, f in data.outputs.items() if f.type in LABELLED]
    if not outputs or not len(train_ids):
        return np.zeros(0, np.int64)
    labels = np.stack([data.splits["train"].tensors[o].detach().cpu().reshape(-1).long().numpy() for o in outputs], 1)
    _, label_ids = np.unique(labels, axis=0, return_inverse=True)
    pairs = train_ids * (int(label_ids.max()) + 1) + label_ids.reshape(-1)
    _, pair_first = np.unique(pairs, return_index=True)
    groups, labels_per_group = np.unique(train_ids[pair_first], return_counts=True)
    return np.flatnonzero(np.isin(train_ids, groups[labels_per_group > 1]))


def _near_duplicates(near: dict[str, np.ndarray], exact: dict[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
    """Held-out rows that nearly copy a training row (`near_train_{split}`), exact copies included; for images
    also how many are edited copies (not exact ones), with examples, their training sources and cosines."""
    held_out = [split for split in ("val", "test") if split in near and "train" in near]
    images = _viewed_images(data)
    if not images:
        result: dict[str, Any] = {}
        for split in held_out:
            shared = np.flatnonzero(np.isin(near[split], near["train"]))
            result[f"near_train_{split}"] = len(shared)
            result[f"near_train_{split}_examples"] = shared[:EXAMPLES_KEPT].tolist()
        return result
    result = {"near_method": "image_views"}
    for split, (source, cosine) in zip(held_out, _image_sources(data, images, held_out, near)):
        copies = np.flatnonzero(source >= 0)
        edited = copies[~np.isin(exact[split][copies], exact["train"])]
        result[f"near_train_{split}"] = len(copies)
        result[f"near_train_{split}_edited"] = len(edited)
        result[f"near_train_{split}_examples"] = edited[:EXAMPLES_KEPT].tolist()  # rows of `split`
        result[f"near_train_{split}_sources"] = source[edited[:EXAMPLES_KEPT]].tolist()  # their training rows
        result[f"near_train_{split}_cosine"] = [round(float(c), 4) for c in cosine[edited[:EXAMPLES_KEPT]]]
    return result


def _viewed_images(data: PreparedData) -> list[str]:
    """The image inputs whose near-copies are found by their views (large enough to tell copies apart)."""
    return [column for column, feature in data.inputs.items() if feature.kind == "image" and has_detail(feature.shape)]


def _image_sources(data: PreparedData, images: list[str], held_out: list[str],
                   near: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per held-out split, each row's training source (-1 for none) and the cosine of their first image: a
    row is a near copy when every image input copies the same training row and the other inputs are nearly
    equal. The held-out splits are matched together, so the training signatures are computed once."""
    if not held_out:
        return []
    sizes = [len(data.splits[split]) for split in held_out]
    source, cosine = None, None
    for column in images:
        train = canonical_views(data.splits["train"].tensors[column])
        queries = torch.cat([canonical_views(data.splits[split].tensors[column]) for split in held_out])
        found, similarity = near_copies(train, queries)
        source, cosine = (found, similarity) if source is None else (np.where(found == source, source, -1), cosine)
    rest = np.concatenate([near[split] for split in held_out])  # the other inputs, rounded
    source[(source >= 0) & (rest != near["train"][np.maximum(source, 0)])] = -1
    bounds = np.cumsum([0] + sizes)
    return [(source[a:b], cosine[a:b]) for a, b in zip(bounds, bounds[1:])]


# --- target leakage ---------------------------------------------------------------------------------------------
def _target_leakage(data: PreparedData, texts: dict[str, dict[str, np.ndarray]]) -> list[dict[str, Any]]:
    """Input columns that give an output away in the training split (`target_relations.leaking_columns`), each
    with the other inputs and their types (for the advice to keep only those)."""
    train = data.splits.get("train")
    if train is None or not len(train):
        return []
    inputs = {}
    for column, feature in data.inputs.items():
        if column in texts:
            inputs[column] = texts[column]["train"]
        elif feature.kind == "tabular" and train.tensors[column][0].numel() == 1:
            values = train.tensors[column].detach().cpu().reshape(-1)
            inputs[column] = values.double().numpy() if values.is_floating_point() else values.long().numpy()
    targets: dict[str, Target] = {}
    for name, feature in data.outputs.items():
        values = train.tensors[name].detach().cpu()
        if feature.type in LABELLED and values.dim() == 1:
            targets[name] = ("class", values.long().numpy())
        elif feature.type == "number" and values.reshape(len(values), -1).shape[1] == 1:
            targets[name] = ("number", values.double().reshape(-1).numpy())
    found = leaking_columns(inputs, targets)
    for relation in found:
        relation["other_inputs"] = {c: f.type for c, f in data.inputs.items() if c not in {r["column"] for r in found}}
    return found


# --- classes, missing values, constant columns ------------------------------------------------------------------
def _classes(data: PreparedData) -> dict[str, Any]:
    """Per class output: the class names in encoding order and how many rows of each split carry each."""
    classes = {}
    for name, feature in data.outputs.items():
        if feature.type not in LABELLED:
            continue
        if feature.type == "category":
            names = [str(c) for c in feature.classes]
        else:  # binary encodes the negative value as 0, the positive one as 1
            names = [str(feature.fitted["negative"]), str(feature.fitted["positive"])]
        counts = {}
        for split, tensors in data.splits.items():
            labels = tensors.tensors[name].detach().cpu().long().reshape(-1)
            counts[split] = torch.bincount(labels, minlength=len(names)).tolist()[: len(names)]
        classes[name] = {"type": feature.type, "names": names, "counts": counts}
    return classes


def _missing(data: PreparedData) -> dict[str, int]:
    """Missing values per raw training column that is an input or output (None, NaN or empty text)."""
    missing = {}
    for column, values in data.raw.splits.get("train", {}).items():
        if column in data.features and data.features[column].kind not in RAW_NOT_VALUES:
            count = _count_missing(np.asarray(values))
            if count:
                missing[column] = count
    return missing


def _count_missing(values: np.ndarray) -> int:
    if values.dtype.kind == "f":
        return int(np.isnan(values).sum())
    if values.dtype.kind == "U":
        return int((values == "").sum())
    if values.dtype.kind == "O":
        return sum(_absent(v) or (isinstance(v, str) and not v.strip()) for v in values.tolist())
    return 0


def _constant(data: PreparedData) -> list[str]:
    """Tabular input columns with a single value over the training split: they carry no information.
    Image inputs are left out (a constant pixel is normal: MNIST's borders)."""
    train = data.raw.splits.get("train", {})
    return [column for column, feature in data.inputs.items()
            if feature.kind not in RAW_NOT_VALUES and column in train and _is_constant(np.asarray(train[column]))]


def _is_constant(values: np.ndarray) -> bool:
    if values.dtype.kind == "O":  # text with None for missing (CSV): compare what is there
        return len({v for v in values.tolist() if not _absent(v)}) <= 1
    if values.dtype.kind == "f":
        values = values[~np.isnan(values).reshape(len(values), -1).any(axis=1)]
    return len(values) == 0 or bool((values == values[:1]).all())


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
