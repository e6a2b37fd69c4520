"""Decoding: turn next-token logits into tokens, one at a time, with or without the model's cache.

`filter_logits` shapes the distribution (temperature, top-k, nucleus / top-p); `ContextWindow` keeps the tokens
the next prediction reads and, with a cache, the model's state over them; `generate` samples `max_tokens` tokens.

The window: every prediction reads the last `context` tokens (all of them while there are fewer), for every
model, with or without the cache, so both give the same logits and, with the same generator, the same ids.
- A prompt longer than the context is cut to its last `context` tokens.
- Without the cache, each new token costs a full pass over the window.
- With the cache, one pass reads the prompt, then each new token is one pass over ONE position, until the window
  is full. After that the window slides by one token per step, and every position in it moves: its absolute
  position changes and so does what it may attend to (the first token is gone), so in every layer but the first
  each cached key and value would be different. The cache is therefore rebuilt per step: reset, then one pass
  over the new window (the last context - 1 tokens and the new one). Past the context the cache saves nothing;
  it is exact, which a window of reused keys would not be.

    ids = generate(model, prompt, 200, temperature=0.8, top_k=20, generator=torch.Generator().manual_seed(0))
    ids.shape   # (B, 200): the new tokens only
"""

from __future__ import annotations

import torch
from torch import nn


def filter_logits(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """(B, V) -> (B, V): scaled by 1 / temperature, -inf outside the top k, then -inf outside the smallest set of
    the most likely tokens whose probability (after top-k) reaches top_p; the most likely token always stays.
    temperature 0 means greedy: every token but the argmax is -inf.

        filter_logits(torch.tensor([[1.0, 3.0, 2.0]]), top_k=2)   # tensor([[-inf, 3., 2.]])
    """
    if temperature < 0:
        raise ValueError(f"temperature must be 0 (greedy) or more, not {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, not {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], not {top_p}")
    if temperature == 0:
        top_k, top_p = 1, None
    else:
        logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        values, indices = logits.topk(top_k, dim=-1)  # exactly k, even when values tie at the k-th
        logits = torch.full_like(logits, float("-inf")).scatter(-1, indices, values)
    if top_p is not None and top_p < 1:
        ordered, indices = logits.sort(dim=-1, descending=True)
        probabilities = ordered.softmax(dim=-1)
        before = probabilities.cumsum(dim=-1) - probabilities  # the mass of the more likely tokens
        ordered = ordered.masked_fill(before >= top_p, float("-inf"))  # the first token has before == 0: kept
        logits = torch.full_like(logits, float("-inf")).scatter(-1, indices, ordered)
    return logits


def sample(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, V) logits -> (B, 1) token ids drawn from the filtered distribution (argmax at temperature 0)."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    filtered = filter_logits(logits.float(), temperature=temperature, top_k=top_k, top_p=top_p)
    return torch.multinomial(filtered.softmax(dim=-1), 1, generator=generator)


class ContextWindow:
    """The tokens the next prediction reads (at most `model.context`) and, with a cache, the model's state.

        window = ContextWindow(model, prompt)          # one pass over the prompt
        window.logits                                  # (B, V) for the token after the prompt
        window.push(token)                             # (B, 1) ids; window.logits is now for the token after it
    """

    def __init__(self, model: nn.Module, prompt: torch.Tensor, *, use_cache: bool = True):
        if prompt.ndim != 2 or prompt.shape[1] < 1:
            raise ValueError(f"the prompt must be (batch, positions) ids with at least one position, "
                             f"not {tuple(prompt.shape)}")
        self.model, self.context = model, model.context
        self.tokens = prompt[:, -self.context :]  # (B, T <= context)
        self.cache = model.new_cache(prompt.shape[0]) if use_cache else None
        self.logits = self._read(self.tokens)

    def push(self, token: torch.Tensor) -> torch.Tensor:
        """Add (B, 1) ids to the window; return (and keep in `logits`) the (B, V) logits for the next token."""
        self.tokens = torch.cat([self.tokens, token], dim=1)[:, -self.context :]
        if self.cache is not None and self.cache.length < self.context:
            self.logits = self._read(token)  # one position after the cached ones
        else:
            if self.cache is not None:
                self.cache.reset()  # the window slid: every position moved (see the module docstring)
            self.logits = self._read(self.tokens)
        return self.logits

    def _read(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(ids, self.cache)[:, -1]  # (B, V): the prediction after the last position


@torch.inference_mode()
def generate(model: nn.Module, prompt: torch.Tensor, max_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, generator: torch.Generator | None = None,
             use_cache: bool = True) -> torch.Tensor:
    """prompt (B, T0) long ids, T0 >= 1 -> the (B, max_tokens) new ids, sampled one at a time from
    `filter_logits(logits, temperature, top_k, top_p)` in eval mode (no dropout; the model's mode is restored).
    The same generator seed gives the same ids with and without the cache (see the module docstring)."""
    if max_tokens < 0:
        raise ValueError(f"max_tokens must be 0 or more, not {max_tokens}")
    was_training = model.training
    model.eval()
    try:
        window = ContextWindow(model, prompt, use_cache=use_cache)
        new: list[torch.Tensor] = []
        for step in range(max_tokens):
            new.append(sample(window.logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator))
            if step + 1 < max_tokens:  # the last token needs no prediction after it
                window.push(new[-1])
    finally:
        model.train(was_training)
    return torch.cat(new, dim=1) if new else prompt.new_empty(prompt.shape[0], 0)
