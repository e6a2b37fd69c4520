"""A language-model run's model, in the trainer's terms: the batch's token windows in, each position's
next-token logits out, with its loss, metrics and predictions, like any deepscope model.

    model = build_model({"encoder": {"name": "transformer", "layers": 4}}, inputs, outputs)   # via the builder
    model({"tokens": ids})["next"].shape          # (B, T, vocab)
    model.generate(prompt_ids, 200, temperature=0.8, top_p=0.95, generator=torch.Generator().manual_seed(0))

The network itself (a causal Transformer or an LSTM, models/language) is `model.body`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from deepscope.metrics import LanguageModelMetrics, Metric

Batch = dict[str, torch.Tensor]


class NextTokenModel(nn.Module):
    def __init__(self, body: nn.Module, *, input_name: str, output_name: str, characters: bool,
                 label_smoothing: float = 0.0, note_ids: list[int] | None = None):
        super().__init__()
        self.body = body
        self.input_name, self.output_name = input_name, output_name
        self.characters, self.label_smoothing = characters, label_smoothing
        self.note_ids = note_ids  # a melody's duration tokens, one per note (data/music.py): nats per note

    @property
    def context(self) -> int:
        return self.body.context

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        return {self.output_name: self.body(batch[self.input_name])}

    def loss(self, outputs: dict[str, torch.Tensor], batch: Batch) -> torch.Tensor:
        """The mean cross-entropy over every position, in nats."""
        logits = outputs[self.output_name]
        return nn.functional.cross_entropy(logits.flatten(0, 1).float(), batch[self.output_name].reshape(-1),
                                           label_smoothing=self.label_smoothing)

    def metrics(self) -> dict[str, Metric]:
        return {self.output_name: LanguageModelMetrics(characters=self.characters, note_ids=self.note_ids)}

    def update_metrics(self, metrics: dict[str, Metric], outputs: dict[str, torch.Tensor], batch: Batch) -> None:
        metrics[self.output_name].update(outputs[self.output_name], batch[self.output_name])

    def predict(self, batch: Batch) -> dict[str, dict[str, torch.Tensor]]:
        """The distribution of the token after each window: {"next": {"probabilities": (B, vocab)}}."""
        logits = self.body(batch[self.input_name])[:, -1]
        return {self.output_name: {"probabilities": logits.float().softmax(dim=-1)}}

    def generate(self, prompt: torch.Tensor, max_tokens: int, **sampling: Any) -> torch.Tensor:
        """(B, max_tokens) new ids after each prompt row (models/language/sampling.py says how); never <unk>
        (id 0), which stands for characters the model does not know and has no text to write."""
        from deepscope.models.language.sampling import generate

        return generate(_NeverUnknown(self.body), prompt, max_tokens, **sampling)


class _NeverUnknown(nn.Module):
    """The body with the <unk> token's logit at -inf."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body
        self.context = body.context

    def new_cache(self, batch_size: int) -> Any:
        return self.body.new_cache(batch_size)

    def forward(self, ids: torch.Tensor, cache: Any = None) -> torch.Tensor:
        logits = self.body(ids, cache) if cache is not None else self.body(ids)
        logits[..., 0] = float("-inf")
        return logits


def build_language_model(config: dict[str, Any], inputs: dict[str, dict[str, Any]],
                         outputs: dict[str, dict[str, Any]]) -> NextTokenModel:
    from deepscope.models.language import LANGUAGE_MODELS

    (input_name, tokens), (output_name, target) = next(iter(inputs.items())), next(iter(outputs.items()))
    spec = dict(config.get("encoder") or {})
    name = spec.pop("name", None) or "transformer"
    body = LANGUAGE_MODELS.get(name, where="model.encoder.name")(tokens["vocab_size"], tokens["context"],
                                                                  where="model.encoder", **spec)
    head = target.get("head") or {}
    return NextTokenModel(body, input_name=input_name, output_name=output_name,
                          characters=tokens.get("unit") == "characters",
                          label_smoothing=float(head.get("label_smoothing", 0.0)), note_ids=tokens.get("note_ids"))
