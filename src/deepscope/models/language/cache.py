"""What a language model remembers between decoding steps, so that each new token costs one position, not a pass.

`KVCache` holds a Transformer's keys and values per layer, (B, heads, capacity, head_dim), allocated once for the
whole context on the first step (in the dtype and device the keys come in, so autocast needs no casts);
`RecurrentState` holds an LSTM's (h, c). Both count the positions they cover in `length` and forget them with
`reset()`; `select(rows)` keeps some batch rows in a new order (beam search).

    cache = model.new_cache(batch_size=2)
    logits = model(prompt, cache)          # cache.length == prompt.shape[1]
    logits = model(next_token, cache)      # one more position, attending to all before it
"""

from __future__ import annotations

import torch


class KVCache:
    """Keys and values of every layer for the positions seen so far, preallocated to `capacity` positions."""

    def __init__(self, layers: int, capacity: int, batch_size: int):
        self.capacity = capacity
        self.batch_size = batch_size
        self.length = 0
        self.keys: list[torch.Tensor | None] = [None] * layers  # each (B, heads, capacity, head_dim)
        self.values: list[torch.Tensor | None] = [None] * layers

    def update(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new positions' (B, heads, T, head_dim) keys and values after the cached ones and return all
        of them, (B, heads, length + T, head_dim). The length moves on with `advance`, once every layer wrote."""
        end = self.length + keys.shape[2]
        if end > self.capacity:
            raise ValueError(f"the cache holds {self.capacity} positions; {self.length} cached + {keys.shape[2]} new "
                             f"do not fit")
        if keys.shape[0] != self.batch_size:
            raise ValueError(f"the cache was made for a batch of {self.batch_size}, not {keys.shape[0]}")
        if self.keys[layer] is None:
            shape = (*keys.shape[:2], self.capacity, keys.shape[3])
            self.keys[layer] = keys.new_empty(shape)
            self.values[layer] = values.new_empty(shape)
        self.keys[layer][:, :, self.length : end] = keys
        self.values[layer][:, :, self.length : end] = values
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def advance(self, steps: int) -> None:
        self.length += steps

    def reset(self) -> None:
        """Forget every position (the storage stays allocated)."""
        self.length = 0

    def select(self, rows: torch.Tensor) -> None:
        """Keep batch rows `rows` (in that order) of every layer, e.g. the surviving beams."""
        self.keys = [None if k is None else k[rows] for k in self.keys]
        self.values = [None if v is None else v[rows] for v in self.values]
        self.batch_size = len(rows)


class RecurrentState:
    """An LSTM's hidden and cell states after the positions seen so far, each (layers, B, hidden)."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.length = 0
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None  # None: zeros, as at the start of a window

    def reset(self) -> None:
        self.length = 0
        self.state = None

    def select(self, rows: torch.Tensor) -> None:
        if self.state is not None:
            self.state = (self.state[0][:, rows], self.state[1][:, rows])
        self.batch_size = len(rows)
