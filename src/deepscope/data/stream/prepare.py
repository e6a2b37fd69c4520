"""prepare_data's streaming branch: a listed source -> fitted features, StreamData splits, a bounded raw sample.

Features are fitted from what can be known without decoding every example (the table in data/stream/__init__.py):
the category map from the listing (labels are folder names), images and recordings from a sample of the training
files, a text vocabulary from a sample of the training texts.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import numpy as np
import torch

from deepscope.config.schema import DataConfig
from deepscope.data.augment.images import ImageAugment
from deepscope.data.features import Feature
from deepscope.data.prepare import PreparedData, resolve_features
from deepscope.data.sources.base import RawData
from deepscope.data.splits import make_splits
from deepscope.data.stream.dataset import SAMPLE_ROWS, BatchDecoder, StreamData, sample_index
from deepscope.data.stream.listing import Listing
from deepscope.data.stream.reading import decoded_images, read_value
from deepscope.data.stream.table import FIT_ROWS
from deepscope.data.weights import EXAMPLE_WEIGHT, balance_weights
from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")

FIT_FILES = {"image": 1_000, "audio": 1_000, "text": 50_000}  # training files a feature is fitted on, by kind
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})


def prepare_streamed(config: DataConfig, listing: Listing) -> PreparedData:
    """prepare_data for a source too large for memory: the same features and batches, decoded as they are read."""
    raw, inputs, outputs = split_listing(config, listing)
    features = {**inputs, **outputs}
    train = raw.splits["train"]
    fit_sample = _train_sample(listing, train)
    for name, feature in features.items():
        kind = listing.lazy.get(name)
        feature.fit(fit_sample[name] if kind == "table" else fit_values(feature, kind, train[name]) if kind else
                    train[name])
    splits: dict[str, StreamData] = {}
    for split, columns in raw.splits.items():
        weights = config.weights.balance if split == "train" and config.weights is not None else None
        splits[split] = stream_split(columns, features, listing.lazy, weights, listing.table)
    images = [name for name, f in inputs.items() if f.kind == "image"]
    augment = config.augment
    if images and (augment.flip != "none" or augment.shift or augment.rotate):
        splits["train"].transform = ImageAugment(images, flip=augment.flip, shift=augment.shift, rotate=augment.rotate)
    sample = sampled_raw(raw, listing.lazy, features, {s: d.sample_rows for s, d in splits.items()},
                         table=listing.table)
    log.info("data.stream: %s; features fitted from %s", raw.description, _fitted_from(listing, train))
    return PreparedData(inputs, outputs, splits, sample)


def _train_sample(listing: Listing, train: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A table's sample rows that fell in the training split (features are fitted on train only)."""
    if listing.sample is None:
        return {}
    rows = next(train[name] for name, kind in listing.lazy.items() if kind == "table")
    keep = np.isin(listing.sample_rows, rows)
    if not keep.any():
        raise DataError(f"{listing.raw.description}: no sampled row is a training row; check data.split")
    return {name: values[keep] for name, values in listing.sample.items()}


def stream_split(columns: dict[str, np.ndarray], features: dict[str, Feature], lazy: dict[str, str],
                 balance: list[str] | None = None, table: Any = None) -> StreamData:
    """One split's StreamData: lazy columns read from their references, the others (labels) encoded now, and
    loss weights balancing the `balance` columns' groups."""
    decoded = {n: (f, lazy[n], columns[n]) for n, f in features.items() if n in lazy}
    tensors = {n: f.encode(columns[n]) for n, f in features.items() if n not in lazy and n in columns}
    order = list(features)
    if balance is not None:
        tensors[EXAMPLE_WEIGHT] = torch.from_numpy(balance_weights(columns, balance))
        order.append(EXAMPLE_WEIGHT)
    return StreamData(BatchDecoder(decoded, tensors, order, table))


def streamed_split(config: DataConfig, features: dict[str, Feature], split: str) -> StreamData | None:
    """A finished run's `split`, streamed and encoded with its saved (fitted) `features`; None when its data is
    not streamed (or has no such split)."""
    from deepscope.data.stream import stream_listing

    listing = stream_listing(config)
    if listing is None:
        return None
    raw, _, _ = split_listing(config, listing)
    return stream_split(raw.splits[split], features, listing.lazy, table=listing.table) if split in raw.splits else None


def split_listing(config: DataConfig, listing: Listing) -> tuple[RawData, dict[str, Feature], dict[str, Feature]]:
    """The listing cut into splits as load_splits cuts a decoded source (same seed, same stratification), and the
    unfitted features."""
    from deepscope.data.prepare import _limit

    raw = listing.raw
    typed = raw if listing.sample is None else RawData({"train": listing.sample})  # a table's: types from values
    outputs = resolve_features(config.outputs or raw.outputs, typed, "data.outputs")
    default_inputs = raw.inputs or {c: {} for c in raw.columns if c not in outputs}
    inputs = resolve_features(config.inputs or default_inputs, typed, "data.inputs")
    raw = _limit(raw, config.limit)
    stratify = next((n for n, f in outputs.items() if f.type in ("category", "binary")), None)
    raw = make_splits(raw, val=config.split.val, test=config.split.test, seed=config.split.seed,
                      stratify=stratify if config.split.stratify else None)
    return raw, inputs, outputs


def load_streamed_splits(config: DataConfig, listing: Listing) -> tuple[RawData, dict[str, Feature],
                                                                          dict[str, Feature]]:
    """load_splits for a streamed source: the raw sample every split keeps (SAMPLE_ROWS rows, as the training
    run kept them), for readers of a finished run (the report), and the unfitted features."""
    raw, inputs, outputs = split_listing(config, listing)
    features = {**inputs, **outputs}
    rows = {split: sample_index(raw.size(split), SAMPLE_ROWS) for split in raw.splits}
    geometry = {name: image_geometry(f, raw.splits["train"][name]) for name, f in features.items()
                if listing.lazy.get(name) == "image"}
    return sampled_raw(raw, listing.lazy, features, rows, geometry, listing.table), inputs, outputs


def fit_values(feature: Feature, kind: str, references: np.ndarray) -> Any:
    """What `feature` is fitted on: FIT_FILES[kind] training files at random (seed 0), decoded."""
    picked = sample_index(len(references), FIT_FILES[kind]).numpy()
    if kind == "image":
        return decoded_images(references[picked], image_geometry(feature, references))
    values = np.empty(len(picked), dtype=object)
    values[:] = [read_value(kind, references[i]) for i in picked]
    return values


def image_geometry(feature: Feature, references: np.ndarray) -> tuple[int, int, int]:
    """(height, width, channels) the images are decoded at: the feature's options, else, over the fitting
    sample, the most common size and greyscale when every image is (as the in-memory image folder decides)."""
    if feature.fitted:
        return feature.fitted["height"], feature.fitted["width"], feature.fitted["channels"]
    size, channels = feature.options.size, feature.options.channels
    if size is None or channels is None:
        picked = sample_index(len(references), FIT_FILES["image"]).numpy()
        shapes = [(image.height, image.width, image.mode) for image in (read_value("image", references[i])
                                                                        for i in picked)]
        size = size or Counter((h, w) for h, w, _ in shapes).most_common(1)[0][0]
        channels = channels or (1 if all(mode in GREY_MODES for _, _, mode in shapes) else 3)
    if channels not in (1, 3):
        raise ConfigError(f"{feature.where}.{feature.name}.channels: {channels}; streamed images are decoded as "
                          "greyscale (1) or RGB (3)")
    return int(size[0]), int(size[1]), int(channels)


def sampled_raw(raw: RawData, lazy: dict[str, str], features: dict[str, Feature], rows: dict[str, torch.Tensor],
                geometry: dict[str, tuple[int, int, int]] | None = None, table: Any = None) -> RawData:
    """Each split's raw values at `rows`, decoded (images as arrays, recordings, texts): what PreparedData.raw
    holds for a streamed source, never every example."""
    splits = {}
    for split, columns in raw.splits.items():
        index = rows[split].numpy()
        taken = {}
        if table is not None:  # a table's rows, read once for all of its lazy columns
            numbers = next(columns[name] for name, kind in lazy.items() if kind == "table")[index]
            read = table.read(numbers.tolist())
            taken.update({name: read[name] for name in lazy})
        for name, values in columns.items():
            values = np.asarray(values)[index] if not isinstance(values, np.ndarray) else values[index]
            kind = lazy.get(name)
            if kind == "table":
                continue
            if kind == "image":
                shape = (geometry or {}).get(name) or image_geometry(features[name], values)
                taken[name] = decoded_images(values, shape)
            elif kind is not None:
                decoded = np.empty(len(values), dtype=object)
                decoded[:] = [read_value(kind, reference) for reference in values]
                taken[name] = decoded
            else:
                taken[name] = values
        splits[split] = {name: taken[name] for name in columns}
    sizes = ", ".join(f"{split} {raw.size(split):,}" for split in raw.splits)
    description = f"{raw.description}: {sizes}; raw examples: a sample of up to {SAMPLE_ROWS} rows per split"
    return RawData(splits, dict(raw.inputs), dict(raw.outputs), list(raw.skipped), description)


def _fitted_from(listing: Listing, train: dict[str, np.ndarray]) -> str:
    n = len(next(iter(train.values())))
    if listing.table is not None:
        return f"inputs from a sample of {min(FIT_ROWS, n):,} rows, outputs from all {n:,} training rows"
    parts = [f"{name} from {min(FIT_FILES[kind], n):,} of {n:,} training files" for name, kind in listing.lazy.items()]
    return "; ".join(parts + ["labels from the listing"])

