"""Metrics of next-token predictions: language models, melodies and translations."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from deepscope.metrics.base import Metric, summed


class LanguageModelMetrics(Metric):
    """A language model's next-token predictions: the mean cross-entropy in nats per token, the perplexity
    (e^nats: as unsure as a uniform choice among that many tokens), bits per token (nats / ln 2; per character
    when the tokens are characters), and next-token accuracy. Given `note_ids` (a melody's duration tokens,
    one per note: data/music.py), also nats per note: every predicted token's nats over the notes among them.

    >>> metric = LanguageModelMetrics()
    >>> metric.update(torch.zeros(1, 2, 4), torch.tensor([[0, 3]]))   # uniform over 4 tokens
    >>> round(metric.compute()["perplexity"], 6), round(metric.compute()["bits_per_token"], 6)
    (4.0, 2.0)
    """

    directions = {"nats": "min", "perplexity": "min", "bits_per_token": "min", "bits_per_char": "min",
                  "nats_per_note": "min"}

    def __init__(self, characters: bool = False, note_ids: Sequence[int] | None = None) -> None:
        self.characters = characters  # tokens are characters: bits per token are bits per character
        self.note_ids = torch.tensor(list(note_ids), dtype=torch.long) if note_ids else None
        self.reset()

    def reset(self) -> None:
        self.sums: torch.Tensor | None = None  # (3,): Σ nats, Σ correct, Σ notes
        self.count = 0

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """output: logits (B, T, V); target: ids (B, T)."""
        logits, target = output.detach().flatten(0, -2).float(), target.detach().reshape(-1)
        nats = torch.nn.functional.cross_entropy(logits, target, reduction="sum").double()
        correct = (logits.argmax(dim=-1) == target).sum().double()
        notes = (torch.isin(target, self.note_ids.to(target.device)).sum().double() if self.note_ids is not None
                 else torch.zeros((), dtype=torch.double, device=target.device))
        step = torch.stack([nats, correct, notes])
        self.sums = step if self.sums is None else self.sums + step
        self.count += target.numel()

    def merge(self, other: LanguageModelMetrics) -> None:
        self.sums = summed(self.sums, other.sums)
        self.count += other.count

    def compute(self) -> dict[str, Any]:
        if self.sums is None or self.count == 0:
            return {"nats": math.nan, "perplexity": math.nan, "bits_per_token": math.nan, "n": 0}
        total, correct, notes = self.sums.cpu().tolist()
        nats, correct = total / self.count, correct / self.count
        result = {"nats": nats, "perplexity": math.exp(min(nats, 700.0)), "bits_per_token": nats / math.log(2),
                  "accuracy": correct, "n": self.count}
        if self.characters:
            result["bits_per_char"] = result["bits_per_token"]
        if self.note_ids is not None and notes:
            result["nats_per_note"] = total / notes
        return result


class TranslationMetrics(LanguageModelMetrics):
    """A translation model's: per-token nats, perplexity and accuracy of the next target token under teacher
    forcing (padding left out), and sacreBLEU's corpus BLEU and chrF of the written translations against the
    references, both turned into text by `to_text` (rows of ids -> texts; the run's evaluation scores the raw
    reference texts instead)."""

    directions = {**LanguageModelMetrics.directions, "bleu": "max", "chrf": "max"}

    def __init__(self, to_text: Callable[[list[list[int]]], list[str]] | None = None) -> None:
        self.to_text = to_text
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.hypotheses: list[list[int]] = []
        self.references: list[list[int]] = []

    def update(self, output: torch.Tensor, target: torch.Tensor, written: torch.Tensor | None = None) -> None:
        """output: logits (B, T, V); target: ids (B, T), 0 = padding; written: the model's ids (B, L)."""
        keep = target.reshape(-1) != 0
        super().update(output.detach().flatten(0, -2)[keep], target.reshape(-1)[keep])
        if written is not None and self.to_text is not None:
            self.hypotheses += written.tolist()
            self.references += target.tolist()

    def merge(self, other: TranslationMetrics) -> None:
        super().merge(other)
        self.hypotheses += other.hypotheses
        self.references += other.references

    def compute(self) -> dict[str, Any]:
        result = super().compute()
        if self.hypotheses:
            import sacrebleu

            hypotheses, references = self.to_text(self.hypotheses), self.to_text(self.references)
            result["bleu"] = sacrebleu.corpus_bleu(hypotheses, [references]).score
            result["chrf"] = sacrebleu.corpus_chrf(hypotheses, [references]).score
        return result
