"""A sequence-to-sequence run's model, in the trainer's terms: a source text's ids in, the target's next-token
logits out (teacher forcing), with its loss, metrics and translations, like any deepscope model.

    model = build_model({"encoder": {"name": "transformer"}}, inputs, outputs)     # via the builder
    model({"en": src, "de": tgt})["de"].shape      # (B, T, target vocab): T = the batch's longest target + 1
    model.translate(src, beam=5)                   # (B, L) ids, each ending in </s>

The target column holds each sentence's ids then `</s>` (data/features/sequence.py); the decoder reads `</s>`
then the sentence and learns each next token. Each batch is cut to its longest source and target, so padding
costs nothing beyond the batch's longest sentence. The network itself is `model.body` (models/seq2seq).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from deepscope.data.tokenizers import ids_to_text
from deepscope.metrics import Metric, TranslationMetrics
from deepscope.models.seq2seq.decoding import beam_search, greedy

Batch = dict[str, torch.Tensor]


def trim(ids: torch.Tensor) -> torch.Tensor:
    """(B, L) ids padded with 0 -> (B, L') cut after the batch's last real token."""
    length = int((ids != 0).sum(dim=1).max()) if ids.numel() else 0
    return ids[:, : max(length, 1)]


class Seq2SeqModel(nn.Module):
    def __init__(self, body: nn.Module, *, input_name: str, output_name: str, eos_id: int, target_tokens: list[str],
                 label_smoothing: float = 0.0):
        super().__init__()
        self.body = body
        self.input_name, self.output_name, self.eos_id = input_name, output_name, eos_id
        self.target_tokens, self.label_smoothing = target_tokens, label_smoothing

    @property
    def context(self) -> int:
        return self.body.context

    def _decoder_input(self, target: torch.Tensor) -> torch.Tensor:
        """</s> then the target without its last position: (B, T)."""
        return torch.cat([torch.full_like(target[:, :1], self.eos_id), target[:, :-1]], dim=1)

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Teacher forcing: the logits after each target prefix. A batch without targets (a layer table's
        example) gets those of the first target token."""
        source = trim(batch[self.input_name])
        if self.output_name in batch:
            decoder_input = self._decoder_input(trim(batch[self.output_name]))
        else:
            decoder_input = torch.full_like(source[:, :1], self.eos_id)
        return {self.output_name: self.body(source, decoder_input)}

    def loss(self, outputs: dict[str, torch.Tensor], batch: Batch) -> torch.Tensor:
        """The mean cross-entropy over the target's real tokens (and its </s>), in nats, label-smoothed."""
        logits = outputs[self.output_name]
        target = batch[self.output_name][:, : logits.shape[1]]
        return nn.functional.cross_entropy(logits.flatten(0, 1).float(), target.reshape(-1), ignore_index=0,
                                           label_smoothing=self.label_smoothing)

    def metrics(self) -> dict[str, Metric]:
        return {self.output_name: TranslationMetrics(lambda rows: ids_to_text(rows, self.target_tokens))}

    def update_metrics(self, metrics: dict[str, Metric], outputs: dict[str, torch.Tensor], batch: Batch) -> None:
        """Per-token loss and accuracy under teacher forcing, and BLEU / chrF of greedy translations."""
        logits = outputs[self.output_name]
        target = batch[self.output_name][:, : logits.shape[1]]
        metrics[self.output_name].update(logits, target, self.translate(batch[self.input_name]))

    def translate(self, src: torch.Tensor, *, beam: int = 1, alpha: float = 0.6, use_cache: bool = True
                  ) -> torch.Tensor:
        """(B, S) source ids -> (B, L) target ids, each row ending in </s> (beam 1: greedy)."""
        was_training = self.training
        self.eval()
        try:
            src = trim(src)
            if beam == 1:
                return greedy(self.body, src, eos_id=self.eos_id, use_cache=use_cache)
            return beam_search(self.body, src, eos_id=self.eos_id, beam=beam, alpha=alpha)
        finally:
            self.train(was_training)

    def predict(self, batch: Batch) -> dict[str, dict[str, torch.Tensor]]:
        """{"de": {"ids": (B, L)}}: greedy translations (`translate` for beam search)."""
        return {self.output_name: {"ids": self.translate(batch[self.input_name])}}


def build_seq2seq_model(config: dict[str, Any], inputs: dict[str, dict[str, Any]],
                        outputs: dict[str, dict[str, Any]]) -> Seq2SeqModel:
    from deepscope.models.seq2seq import SEQ2SEQ_MODELS

    (input_name, source), (output_name, target) = next(iter(inputs.items())), next(iter(outputs.items()))
    spec = dict(config.get("encoder") or {})
    name = spec.pop("name", None) or "transformer"
    context = max(source["max_length"], target["max_length"] + 1)
    body = SEQ2SEQ_MODELS.get(name, where="model.encoder.name")(
        source["vocab_size"], target["vocab_size"], context, shared_vocabulary=source["tokens"] == target["tokens"],
        where="model.encoder", **spec)
    head = target.get("head") or {}
    return Seq2SeqModel(body, input_name=input_name, output_name=output_name, eos_id=target["eos_id"],
                        target_tokens=target["tokens"], label_smoothing=float(head.get("label_smoothing", 0.0)))
