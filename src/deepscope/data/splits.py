"""Make the train / val / test splits a source does not give, seeded and (by default) stratified.

    raw = make_splits(load_source("digits"), val=0.1, test=0.2, seed=0, stratify="label")
    raw.size("train"), raw.size("val"), raw.size("test")   # (1257, 180, 360)

What is missing is carved out of "train"; splits the source gives are kept as they are:
- only train: `test` and `val` are fractions of the whole;
- train and test (MNIST): `val` is a fraction of train; train and val: `test` is a fraction of train;
- train, val and test: nothing changes.
"""

from __future__ import annotations

import logging

import numpy as np

from deepscope.data.sources.base import SPLITS, RawData
from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")

Columns = dict[str, np.ndarray]


def make_splits(raw: RawData, *, val: float, test: float, seed: int, stratify: str | None) -> RawData:
    """Split off the missing val and test splits from train.

    Args:
        raw: the source's data; must have a "train" split.
        val: fraction for validation (see the module docstring for "of what"); 0 means no val split.
        test: fraction for test; 0 means no test split.
        seed: the same seed and data give the same splits.
        stratify: a column whose class ratios each split keeps (e.g. the label), or None for a plain random
            split. If a class is too rare to be spread over the splits, the split falls back to random and a
            warning is logged.

    Returns:
        `raw` itself if it already has train, val and test; else new RawData (the input is not changed) with
        splits in the order train, val, test. Within a split, rows keep their order in the source.

    Example:
        >>> raw = RawData({"train": {"x": np.arange(10), "y": np.array([0, 1] * 5)}})
        >>> parts = make_splits(raw, val=0.2, test=0.2, seed=0, stratify="y")
        >>> [parts.size(s) for s in ("train", "val", "test")]
        [6, 2, 2]
    """
    if all(split in raw.splits for split in SPLITS):
        return raw  # the source's own splits are the ones results are compared on: keep them
    if "train" not in raw.splits:
        raise DataError(f"the data has no training split, only: {', '.join(raw.splits)}")
    if val + test >= 1.0:
        raise ConfigError(f"data.split: val ({val}) + test ({test}) = {val + test:g} leaves nothing to train on; "
                          "make their sum less than 1")
    splits = dict(raw.splits)
    train = splits["train"]
    carve_test = "test" not in splits and test > 0
    carve_val = "val" not in splits and val > 0
    if carve_test:
        train, splits["test"] = _carve(train, test, seed=seed, stratify=stratify, name="test")
    if carve_val:
        # both carved from the whole: val of the whole is val / (1 - test) of what is left after test
        fraction = val / (1.0 - test) if carve_test else val
        train, splits["val"] = _carve(train, fraction, seed=seed, stratify=stratify, name="val")
    splits["train"] = train
    ordered = {name: splits[name] for name in SPLITS if name in splits}
    ordered.update({name: cols for name, cols in splits.items() if name not in ordered})
    return RawData(ordered, dict(raw.inputs), dict(raw.outputs), list(raw.skipped), raw.description)


def _carve(
    columns: Columns, fraction: float, *, seed: int, stratify: str | None, name: str
) -> tuple[Columns, Columns]:
    """(rest, held out): `fraction` of the rows held out, at random (stratified when asked)."""
    n = len(next(iter(columns.values())))
    kept, held = _split_indices(n, fraction, seed, _labels(columns, stratify), name)
    return _take(columns, kept), _take(columns, held)


def _split_indices(
    n: int, fraction: float, seed: int, labels: np.ndarray | None, name: str
) -> tuple[np.ndarray, np.ndarray]:
    # imported here: scikit-learn takes 0.5 s to import, and many runs split nothing off (`split: {val: 0}`)
    from sklearn.model_selection import train_test_split

    indices = np.arange(n)
    if n < 2:
        raise DataError(f"data.split: {n} training row(s) is too few to split off a {name} split; "
                        f"add data or set data.split.{name}: 0")
    if labels is not None:
        try:
            kept, held = train_test_split(indices, test_size=fraction, random_state=seed, stratify=labels)
            return np.sort(kept), np.sort(held)
        except ValueError as error:  # a class with 1 member, or fewer held-out rows than classes
            log.warning("data.split: cannot stratify the %s split (%s); splitting at random instead", name, error)
    try:
        kept, held = train_test_split(indices, test_size=fraction, random_state=seed)
    except ValueError as error:
        raise DataError(f"data.split: cannot split {n} rows into train and {name}: {error}") from error
    # sorted, so rows keep the source's order within each split (reproducible and easy to trace back)
    return np.sort(kept), np.sort(held)


def _labels(columns: Columns, stratify: str | None) -> np.ndarray | None:
    if stratify is None:
        return None
    if stratify not in columns:
        raise DataError(f"data.split: cannot stratify by {stratify!r}: no such column; "
                        f"columns are: {', '.join(columns)}")
    values = np.asarray(columns[stratify])
    if values.ndim != 1:
        values = values.reshape(len(values), -1)[:, 0]  # (N, 1) labels, as MedMNIST stores them
    # as text, so missing values (None) and mixed types compare; None becomes a class of its own
    return np.array([str(value) for value in values])


def _take(columns: Columns, indices: np.ndarray) -> Columns:
    return {name: np.asarray(values)[indices] for name, values in columns.items()}
