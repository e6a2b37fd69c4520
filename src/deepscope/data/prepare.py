"""From a `data:` config to fitted features and tensors per split.

    prepared = prepare_data(load_config("examples/mnist.yaml").data)
    prepared.splits["train"]          # TensorData with one tensor per input and output column
    prepared.inputs["image"].state()  # fitted feature state, saved with the model
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from deepscope.config.schema import DataConfig
from deepscope.data.augment.images import ImageAugment
from deepscope.data.dataset import TensorData
from deepscope.data.features import FEATURES, Feature
from deepscope.data.sources import TABLE_OPTIONS, load_source
from deepscope.data.sources.base import RawData
from deepscope.data.sources.corpus import load_corpus_splits
from deepscope.data.sources.csv_table import infer_feature_type
from deepscope.data.sources.music import load_music_splits
from deepscope.data.sources.parallel import load_parallel_splits
from deepscope.data.sources.series import load_series_splits
from deepscope.data.splits import make_splits
from deepscope.data.stream import stream_listing
from deepscope.data.weights import EXAMPLE_WEIGHT, balance_weights
from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")


@dataclass
class PreparedData:
    inputs: dict[str, Feature]
    outputs: dict[str, Feature]
    splits: dict[str, TensorData]  # a StreamData (a TensorData decoded lazily) for data larger than memory
    raw: RawData  # the raw values per split, for showing examples and re-encoding with saved features

    @property
    def features(self) -> dict[str, Feature]:
        return {**self.inputs, **self.outputs}

    def sizes(self) -> dict[str, int]:
        return {name: len(data) for name, data in self.splits.items()}


def prepare_data(config: DataConfig) -> PreparedData:
    """Load the source, resolve feature types, split, fit features on train, and encode every split; or, for data
    larger than memory (data.stream), list it and stream its splits (data/stream)."""
    listing = stream_listing(config)
    if listing is not None:
        from deepscope.data.stream.prepare import prepare_streamed

        return prepare_streamed(config, listing)
    raw, inputs, outputs = load_splits(config, stream=False)
    features = {**inputs, **outputs}
    train = raw.splits["train"]
    for name, feature in features.items():
        feature.fit(train[name])
    splits = {split: encode_columns(features, columns) for split, columns in raw.splits.items()}
    if config.weights is not None:  # training batches only: validation and test are scored unweighted
        weights = balance_weights(train, config.weights.balance)
        splits["train"] = TensorData({**splits["train"].tensors, EXAMPLE_WEIGHT: torch.from_numpy(weights)})
    sentences = [name for name, f in features.items() if f.type in ("text", "sequence")]
    if any(f.type == "sequence" for f in outputs.values()):  # a model that cuts each batch to its longest sentence
        splits["train"].lengths = sum((splits["train"].tensors[name] != 0).sum(dim=1) for name in sentences)
    images = [name for name, f in inputs.items() if f.kind == "image"]
    augment = config.augment
    if images and (augment.flip != "none" or augment.shift or augment.rotate):
        splits["train"].transform = ImageAugment(images, flip=augment.flip, shift=augment.shift, rotate=augment.rotate)
    return PreparedData(inputs, outputs, splits, raw)


def load_splits(config: DataConfig, *, stream: bool = True) -> tuple[RawData, dict[str, Feature], dict[str, Feature]]:
    """The raw splits, and unfitted input and output features with their types resolved. A source that streams
    (`stream`: unless the caller has decided it does not) gives the bounded sample of rows a streamed run keeps."""
    if config.series is not None:  # a time series: windows per chronological split (data/timeseries.py)
        for key in ("test_source", "weights"):
            if getattr(config, key) is not None:
                raise ConfigError(f"data.{key}: does not apply to a series (data.series), whose test period is its "
                                  "last steps (data.series.holdout); leave it out")
        return load_series_splits(config)
    if config.corpus is not None:  # a text to model: token windows per positional split (data/corpus.py)
        return load_corpus_splits(config)
    if config.music is not None:  # melodies: token windows of one voice per split of whole pieces (data/music.py)
        return load_music_splits(config)
    if config.translation is not None:  # sentence pairs from parallel files (data/sources/parallel.py)
        return load_parallel_splits(config)
    listing = stream_listing(config) if stream else None
    if listing is not None:  # too large for memory: the sample of raw rows a streamed run keeps (data/stream)
        from deepscope.data.stream.prepare import load_streamed_splits

        return load_streamed_splits(config, listing)
    reading = {key: getattr(config, key) for key in TABLE_OPTIONS}  # how a table or text file is read
    raw = load_source(config.source, pattern=config.pattern, **reading)
    if config.test_source is not None:
        raw = _with_test_file(raw, load_source(config.test_source, pattern=config.pattern, **reading), config)
    _check_stripped_columns(config, raw)
    outputs = resolve_features(config.outputs or raw.outputs, raw, "data.outputs")
    if not outputs:
        raise DataError(
            f"data.outputs: say which column to predict, e.g. outputs: {{label: category}}; "
            f"columns in {config.source}: {', '.join(raw.columns)}"
        )
    default_inputs = raw.inputs or {c: {} for c in raw.columns if c not in outputs}
    inputs = resolve_features(config.inputs or default_inputs, raw, "data.inputs")
    raw = _limit(raw, config.limit)
    stratify = next((n for n, f in outputs.items() if f.type in ("category", "binary")), None)
    raw = make_splits(
        raw, val=config.split.val, test=config.split.test, seed=config.split.seed,
        stratify=stratify if config.split.stratify else None,
    )
    return raw, inputs, outputs


def _with_test_file(raw: RawData, test: RawData, config: DataConfig) -> RawData:
    """`raw` with the rows of `data.test_source` as its test split; the two files must have the same columns."""
    if "test" in raw.splits:
        raise ConfigError(f"data.test_source: {config.source} has a test split of its own; leave test_source out, "
                          "or give a source without one")
    if list(test.splits) != ["train"]:
        raise DataError(f"data.test_source: {config.test_source} holds splits ({', '.join(test.splits)}); give one "
                        "file or folder of test rows")
    missing = [c for c in raw.columns if c not in test.columns]
    extra = [c for c in test.columns if c not in raw.columns]
    if missing or extra:
        differ = [f"it lacks {', '.join(missing)}"] if missing else []
        differ += [f"it has {', '.join(extra)} besides"] if extra else []
        raise DataError(f"data.test_source: {config.test_source} must have the columns of {config.source}: "
                        f"{'; '.join(differ)} (read with the same data.header and data.columns)")
    splits = {**raw.splits, "test": {c: test.splits["train"][c] for c in raw.columns}}
    description = f"{raw.description}; test: {test.description}" if raw.description else test.description
    return RawData(splits, raw.inputs, raw.outputs, raw.skipped + test.skipped, description)


def _check_stripped_columns(config: DataConfig, raw: RawData) -> None:
    unknown = [name for name in config.strip or {} if name not in raw.columns]
    if unknown:
        raise DataError(f"data.strip: no column {unknown[0]!r} in the data; columns are: {', '.join(raw.columns)}")


def resolve_features(specs: dict[str, Any], raw: RawData, where: str) -> dict[str, Feature]:
    """Check the named columns exist and build a (not yet fitted) feature for each, inferring missing types."""
    features = {}
    train = raw.splits["train"]
    for name, spec in specs.items():
        options = _spec_dict(spec)
        if name not in train:
            raise DataError(
                f"{where}: no column {name!r} in the data; columns are: {', '.join(raw.columns)}"
            )
        kind = options.pop("type", None) or raw.inputs.get(name) or raw.outputs.get(name)
        kind = kind or infer_feature_type(np.asarray(train[name]))
        features[name] = FEATURES.get(kind, where=f"{where}.{name}.type")(name, options, where=where)
    return features


def _spec_dict(spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"type": spec}
    if hasattr(spec, "model_dump"):
        return {k: v for k, v in spec.model_dump().items() if v is not None}
    return dict(spec or {})


def encode_columns(features: dict[str, Feature], columns: dict[str, Any]) -> TensorData:
    return TensorData({name: feature.encode(columns[name]) for name, feature in features.items()})


def _limit(raw: RawData, limit: int | None) -> RawData:
    if limit is None or raw.size("train") <= limit:
        return raw
    log.info("data.limit: using the first %d of %d training rows", limit, raw.size("train"))
    splits = dict(raw.splits)
    splits["train"] = {k: v[:limit] for k, v in raw.splits["train"].items()}
    return RawData(splits, raw.inputs, raw.outputs, raw.skipped, raw.description)
