"""Translations from a sequence-to-sequence run: `ds.load(run).translate("A man is riding a bike.", beam=5)`.

- Each source text is tokenized with the run's vocabulary. A text longer than the model reads (the source
  feature's max_length: data.translation.max_length when trained) is refused, naming its length: cutting it
  would silently leave part of it untranslated; split it into sentences instead.
- `beam` 1 is greedy decoding; more keeps that many hypotheses (models/seq2seq/decoding.py), with GNMT's length
  penalty `alpha`. The texts are translated in batches of `batch_size`, sorted by length (less padding), and
  returned in the order given.
"""

from __future__ import annotations

from typing import Any

from deepscope.errors import UserError

MAX_BEAM = 64


def translate_texts(model: Any, source: Any, target: Any, texts: list[str], *, beam: int = 5, alpha: float = 0.6,
                    batch_size: int = 64) -> list[str]:
    """`texts` translated by `model` (a Seq2SeqModel); `source` / `target` are its fitted text features."""
    if not 1 <= beam <= MAX_BEAM:
        raise UserError(f"--beam {beam}: give 1 (greedy) to {MAX_BEAM} hypotheses")
    if alpha < 0:
        raise UserError(f"--alpha {alpha:g}: the length penalty's exponent is 0 (none) or more")
    _check_lengths(source, texts, source.fitted["max_length"])
    encoded = source.encode(texts)
    order = sorted(range(len(texts)), key=lambda i: int((encoded[i] != 0).sum()))
    device = next(model.parameters()).device
    out: list[str] = [""] * len(texts)
    for first in range(0, len(order), batch_size):
        rows = order[first : first + batch_size]
        ids = model.translate(encoded[rows].to(device), beam=beam, alpha=alpha)
        for row, text in zip(rows, target.texts(ids)):
            out[row] = text
    return out


def _check_lengths(source: Any, texts: list[str], longest: int) -> None:
    normalised = source._texts(texts)  # the feature's own checks: empty or missing texts are refused there
    for row, ids in enumerate(source.tokenizer.encode_batch(normalised)):
        if len(ids) > longest:
            raise UserError(f"text {row + 1} is {len(ids)} subword tokens long, and this model reads at most "
                            f"{longest} (data.translation.max_length); split it into sentences")
