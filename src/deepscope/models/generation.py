"""Text from a language-model run: `ds.load(run).generate("ROMEO:", max_tokens=200, temperature=0.8, top_p=0.95)`.

- The prompt is encoded with the run's vocabulary; a character it never saw is refused, naming it. An empty
  prompt starts the text after a line break when the vocabulary has one (a text's start), else it is refused.
  A melody run's prompt is token names (data/music.py), and its texts are token names too; every melody starts
  at a <piece> token, empty prompt or not (models/melody.py turns the tokens into notes).
- `max_tokens` new tokens (1 to MAX_TOKENS). Past the model's context the window slides: each new token is
  predicted from the last `context` tokens (models/language/sampling.py).
- Sampling: `temperature` (0: always the most likely token), then `top_k` (only the k likeliest) and `top_p`
  (the smallest set whose probability reaches p). `seed` makes the samples repeatable; `n` samples run as one
  batch.
"""

from __future__ import annotations

from typing import Any

import torch

from deepscope.data.music import PIECE
from deepscope.errors import UserError

MAX_TOKENS = 100_000  # one call's new tokens at most: a novel's chapter; more is a typo


def generate_text(model: Any, tokens: Any, prompt: str = "", *, max_tokens: int = 200, temperature: float = 0.8,
                  top_k: int | None = None, top_p: float | None = 0.95, n: int = 1, seed: int | None = None,
                  use_cache: bool = True) -> list[str]:
    """`n` continuations of `prompt` (without it). `model` is a NextTokenModel, `tokens` its input feature."""
    _check(max_tokens, temperature, top_k, top_p, n)
    ids = _start(tokens) + tokens.ids(prompt) if tokens.is_music else tokens.ids(prompt) if prompt else _start(tokens)
    device = next(model.parameters()).device
    prompt_ids = torch.tensor([ids] * n, dtype=torch.long, device=device)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ()).item()))
    was_training = model.training  # a model in training writes its samples too (the per-epoch samples)
    model.eval()
    try:
        new = model.generate(prompt_ids, max_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
                             generator=generator, use_cache=use_cache)
    finally:
        model.train(was_training)
    return [tokens.text(row) for row in new.cpu()]


def _start(tokens: Any) -> list[int]:
    vocabulary = tokens.fitted["vocabulary"]
    if tokens.is_music:  # a melody starts where a piece does
        return [vocabulary.index(PIECE)]
    if tokens.fitted.get("unit") == "subwords":
        return tokens.ids("\n")[-1:]
    if "\n" not in vocabulary:
        raise UserError("the prompt is empty, and this model's text has no line breaks to start after; give a "
                        "prompt (--prompt \"...\")")
    return [vocabulary.index("\n")]


def _check(max_tokens: int, temperature: float, top_k: int | None, top_p: float | None, n: int) -> None:
    if not 1 <= max_tokens <= MAX_TOKENS:
        raise UserError(f"--max-tokens {max_tokens}: give 1 to {MAX_TOKENS:,} new tokens")
    if temperature < 0:
        raise UserError(f"--temperature {temperature:g}: give 0 (always the likeliest token) or more")
    if top_k is not None and top_k < 1:
        raise UserError(f"--top-k {top_k}: give at least 1 (or leave it out)")
    if top_p is not None and not 0 < top_p <= 1:
        raise UserError(f"--top-p {top_p:g}: give a probability above 0 and at most 1")
    if not 1 <= n <= 1000:
        raise UserError(f"--n {n}: give 1 to 1,000 samples")
