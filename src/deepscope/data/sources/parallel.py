"""A `data.translation` config -> sentence pairs per split from parallel text files, and their unfitted features.

    multi30k/train.en.gz  train.de.gz  val.en.gz  val.de.gz  test_2016_flickr.en.gz ...

Line i of NAME.SRC translates line i of NAME.TGT. A pair with an empty side is left out (counted, listed in
`RawData.skipped`). The source language's column is a `text` input and the target's a `sequence` output, both
subword (BPE) vocabularies learned on the training pairs only: one per language, or one for both (`shared`).
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.data.timeseries import expand_path
from deepscope.data.tokenizers import SEQUENCE_SPECIAL_TOKENS
from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")
CARVED_VAL = 0.05  # without validation files, this fraction of the training pairs validates
SPLIT_SEED = 0


def load_parallel_splits(config: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """`data:` with a `translation:` section -> (RawData of source/target sentences per split, {source: text
    feature}, {target: sequence feature}), the features not yet fitted. `config` is a DataConfig."""
    from deepscope.data.features.sequence import SequenceFeature
    from deepscope.data.features.text import TextFeature
    from deepscope.data.sources.base import RawData

    t = config.translation
    _check_translation_config(config)
    folder = expand_path(config.source)
    if not folder.is_dir():
        raise DataError(f"data.source: {config.source} is not a folder; with data.translation it is the folder of "
                        f"parallel files ({t.train}.{t.source_language}, {t.train}.{t.target_language}, ...)")
    src, tgt = t.source_language, t.target_language
    names = {"train": t.train, "val": t.val, "test": t.test}
    splits, skipped = {}, []
    for split, name in names.items():
        if name is not None:
            pairs, left_out = _read_pairs(folder, name, src, tgt, config.encoding)
            splits[split], skipped = {src: pairs[0], tgt: pairs[1]}, skipped + left_out
    if config.limit is not None:  # quick trials: the first `limit` training pairs
        splits["train"] = {k: v[: config.limit] for k, v in splits["train"].items()}
    if t.val is None:
        splits["train"], splits["val"] = _carve(splits["train"])
    options = {"tokenizer": "bpe", "lowercase": False, "vocab_size": t.vocab_size, "max_length": t.max_length,
               "min_frequency": 2}
    source = TextFeature(src, options, where="data.translation")
    target = SequenceFeature(tgt, options, where="data.translation")
    target.head_config = {"label_smoothing": t.label_smoothing}
    if t.vocabulary == "shared":  # the source feature learns one vocabulary from both sides; the target takes it
        source.specials, source.also_fit_on = SEQUENCE_SPECIAL_TOKENS, list(splits["train"][tgt])
        target.tokenizer_from = source
    description = (f"translation {folder}: {src} -> {tgt}, "
                   + ", ".join(f"{split} {len(columns[src]):,} pairs" for split, columns in splits.items()))
    raw = RawData(splits, {src: "text"}, {tgt: "sequence"}, skipped=skipped, description=description)
    return raw, {src: source}, {tgt: target}


def read_lines(path: Path, encoding: str | None) -> list[str]:
    """The lines of a text file, gzipped or not, without their line ends."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding=encoding or "utf-8", newline="") as file:
            return file.read().splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"data.source: {path} is not {encoding or 'UTF-8'} text ({error.reason}); set data.encoding"
                        ) from None
    except (OSError, EOFError) as error:  # a truncated or corrupt .gz
        raise DataError(f"data.source: {path} cannot be read ({error})") from None


def find_file(folder: Path, name: str, language: str) -> Path:
    for candidate in (folder / f"{name}.{language}", folder / f"{name}.{language}.gz"):
        if candidate.is_file():
            return candidate
    present = sorted(p.name for p in folder.iterdir() if p.is_file())[:12]
    raise DataError(f"data.translation: no file {name}.{language} (or {name}.{language}.gz) in {folder}; it holds: "
                    f"{', '.join(present) or 'no files'}")


def _read_pairs(folder: Path, name: str, src: str, tgt: str, encoding: str | None
                ) -> tuple[tuple[np.ndarray, np.ndarray], list[str]]:
    paths = find_file(folder, name, src), find_file(folder, name, tgt)
    sources, targets = (read_lines(path, encoding) for path in paths)
    if len(sources) != len(targets):
        raise DataError(f"data.translation: {paths[0].name} has {len(sources):,} lines and {paths[1].name} "
                        f"{len(targets):,}; line i of one must translate line i of the other")
    keep = [i for i, (s, t) in enumerate(zip(sources, targets)) if s.strip() and t.strip()]
    kept = set(keep)
    left_out = [f"{paths[0]}, line {i + 1}: an empty sentence on one side" for i in range(len(sources))
                if i not in kept]
    if left_out:
        log.info("%s: %d pairs with an empty side left out", name, len(left_out))
    if not keep:
        raise DataError(f"data.translation: {paths[0]} and {paths[1]} hold no sentence pairs")
    column = lambda lines: np.array([lines[i].strip() for i in keep], dtype=object)  # noqa: E731
    return (column(sources), column(targets)), left_out


def _carve(train: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    n = len(next(iter(train.values())))
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    cut = max(1, round(n * CARVED_VAL))
    return ({k: v[order[cut:]] for k, v in train.items()}, {k: v[order[:cut]] for k, v in train.items()})


def _check_translation_config(config: Any) -> None:
    if config.inputs or config.outputs:
        raise ConfigError("data.inputs / data.outputs: with data.translation, the input is the source language's "
                          "column and the output the target's; remove them (or use a table with a sequence output)")
    for key in ("series", "corpus", "test_source", "weights"):
        if getattr(config, key) is not None:
            raise ConfigError(f"data.{key}: does not apply to data.translation; leave it out")
    if config.split != type(config.split)():
        raise ConfigError("data.split: a translation's splits are its files: set data.translation.val and .test")
