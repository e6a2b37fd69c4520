"""A `data.corpus` config -> the raw splits (token windows per split) and the unfitted token features.

The text is cut by position: the first (1 - val - test) of its characters train, the next `val` validate, the
last `test` test. The vocabulary comes from the training part only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from deepscope.data.corpus import TokenWindows, character_ids, character_vocabulary
from deepscope.data.subwords import ByteBPE
from deepscope.data.timeseries import expand_path
from deepscope.errors import ConfigError, DataError

DEFAULT_SUBWORDS = 1024  # Tiny Shakespeare: 2.3 characters a token
TOKENS, NEXT = "tokens", "next"  # the model's input (the window) and output (each position's next token)


def load_corpus_splits(config: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """`data:` with a `corpus:` section -> (RawData of TokenWindows per split, {tokens: feature},
    {next: feature}), the features not yet fitted. `config` is a DataConfig."""
    from deepscope.data.features.tokens import NextTokenFeature, TokensFeature
    from deepscope.data.sources.base import RawData

    c = config.corpus
    _check_corpus_config(config)
    text = read_text(config.source, config.encoding)
    parts = _parts(text, c.val, c.test)
    encode, vocabulary, tokenizer = _tokenizer(c, parts["train"])
    splits = {}
    for split, part in parts.items():
        stride = (c.stride or max(1, c.context // 2)) if split == "train" else c.context  # held out: no overlap
        windows = TokenWindows.over(encode(part), vocabulary, context=c.context, stride=stride, unit=c.tokens,
                                    tokenizer=tokenizer)
        if not len(windows):
            raise DataError(f"data.corpus: the {split} part of {config.source} has {len(part):,} characters, and a "
                            f"window needs context + 1 = {c.context + 1}; lower data.corpus.context or give that "
                            f"part more text (data.corpus.{'val' if split == 'val' else 'test'})"
                            if split != "train" else
                            f"data.corpus: {config.source} has too little text for context {c.context}")
        splits[split] = {TOKENS: windows, NEXT: windows}
    inputs = {TOKENS: TokensFeature(TOKENS, {}, where="data.corpus")}
    outputs = {NEXT: NextTokenFeature(NEXT, {}, where="data.corpus")}
    kinds = "distinct characters" if c.tokens == "characters" else "subwords"
    description = (f"corpus {config.source}: {len(text):,} characters, {len(vocabulary) - 1} {kinds} in training; "
                   + ", ".join(f"{k} {len(v):,} characters" for k, v in parts.items()))
    return RawData(splits, {TOKENS: "tokens"}, {NEXT: "next_token"}, description=description), inputs, outputs


def _tokenizer(c: Any, train: str) -> tuple[Callable[[str], np.ndarray], list[str], str | None]:
    """(text -> ids, the vocabulary, the subword tokenizer's JSON or None), fitted on the training text."""
    if c.tokens == "subwords":
        bpe = ByteBPE.train(train, vocab_size=c.vocab_size or DEFAULT_SUBWORDS)
        return lambda part: np.asarray(bpe.encode(part), dtype=np.int64), bpe.tokens, bpe.state()
    vocabulary = character_vocabulary(train)
    return lambda part: character_ids(part, vocabulary), vocabulary, None


def read_text(source: str, encoding: str | None) -> str:
    path = expand_path(source)
    if not path.is_file():
        raise DataError(f"data.source: {source}: no such file; a corpus is one text file (e.g. "
                        "$DEEPSCOPE_DATA/tinyshakespeare/input.txt)")
    try:
        text = path.read_text(encoding=encoding or "utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"data.source: {path} is not {encoding or 'UTF-8'} text ({error.reason} at byte "
                        f"{error.start}); set data.encoding (e.g. latin-1)") from None
    if not text.strip():
        raise DataError(f"data.source: {path} holds no text")
    return text


def _parts(text: str, val: float, test: float) -> dict[str, str]:
    n = len(text)
    train_end, val_end = round(n * (1 - val - test)), round(n * (1 - test))
    parts = {"train": text[:train_end], "val": text[train_end:val_end], "test": text[val_end:]}
    return {name: part for name, part in parts.items() if name == "train" or part}


def _check_corpus_config(config: Any) -> None:
    if config.inputs or config.outputs:
        raise ConfigError("data.inputs / data.outputs: with data.corpus, the input is a window of the text and the "
                          "output each position's next token; remove them")
    if config.series is not None:
        raise ConfigError("data.series and data.corpus: a config models a series or a text, not both")
    for key in ("test_source", "weights"):
        if getattr(config, key) is not None:
            raise ConfigError(f"data.{key}: does not apply to a corpus, whose held-out parts are its last "
                              "characters (data.corpus.val, data.corpus.test); leave it out")
    if config.split != type(config.split)():
        raise ConfigError("data.split: a corpus is split by position: set data.corpus.val and data.corpus.test")
