"""`transformer`: a GPT-style causal Transformer language model, token ids (B, T) -> next-token logits (B, T, vocab).

Pre-norm blocks (LayerNorm before attention and before the GELU MLP, a final LayerNorm), as GPT-2 and nanoGPT,
which train stably without warm-up tricks. Positions are rotary (RoPE, Su et al. 2021: queries and keys rotated by
an angle that grows with the position, so attention sees relative offsets) or a learned (context, d_model) table.
The output projection shares the token embedding's weight by default (Press & Wolf 2017). Weights start as GPT-2's:
normal with std 0.02, residual projections scaled by 1/sqrt(2 x layers) so that the residual stream's variance does
not grow with depth.

Speed: one fused QKV projection per block and `F.scaled_dot_product_attention(is_causal=True)` (a fused kernel,
no (T, T) mask in memory) in training; with a `KVCache` each decoding step computes only the new positions.

    model = CausalTransformer(vocab_size=65, context=256, d_model=128, heads=4, layers=2)
    logits = model(ids)                          # (B, T, 65)
    cache = model.new_cache(batch_size=ids.shape[0])
    logits = model(ids, cache)                   # the same logits; later calls read one token each
    model.keep_attention = True; model(ids); model.attention[0].shape   # (B, heads, T, T)
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from deepscope.config.options import parse_options
from deepscope.models.language.cache import KVCache
from deepscope.models.language.options import LANGUAGE_MODELS, TransformerLMOptions

ROTARY_BASE = 10000.0  # the wavelengths of RoPE range from 2 pi to about 10000 x 2 pi positions (Su et al.)


def rotary_tables(context: int, head_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of each position's angle for each pair of features, each (context, head_dim / 2)."""
    frequency = ROTARY_BASE ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)  # (head_dim / 2,)
    angle = torch.arange(context, dtype=torch.float32).unsqueeze(1) * frequency  # (context, head_dim / 2)
    return angle.cos(), angle.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate feature pairs (i, i + head_dim/2) of x (B, H, T, head_dim) by the angles of its T positions."""
    first, second = x.chunk(2, dim=-1)  # (B, H, T, head_dim / 2) each
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat([first * cos - second * sin, first * sin + second * cos], dim=-1)


class CausalSelfAttention(nn.Module):
    """Multi-head attention in which each position sees itself and the positions before it (cached ones too)."""

    def __init__(self, d_model: int, *, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)  # fused: one matrix product for queries, keys and values
        self.out = nn.Linear(d_model, d_model)
        # dropout on the branch's output only, not on the attention probabilities: with dropout_p > 0 PyTorch's
        # CPU attention leaves its fused kernel (4.7x slower forward + backward, 32 x 4 heads x 256 positions)
        self.out_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor] | None, cache: KVCache | None,
                layer: int, keep_attention: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)  # (B, H, T, hd)
        if rotary is not None:
            q, k = rotate(q, *rotary), rotate(k, *rotary)
        start = 0
        if cache is not None:
            start = cache.length
            k, v = cache.update(layer, k, v)  # (B, H, S, hd), S = start + T
        weights = None
        if keep_attention:
            weights = attention_weights(q, k, start)  # (B, H, T, S)
            y = weights @ v
        elif start == 0:  # a whole sequence: the fused causal kernel
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # new positions after cached ones: each sees the cache and the new positions up to itself
            mask = None if T == 1 else causal_mask(T, k.shape[2], start, x.device)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).reshape(B, T, D)  # heads side by side again
        return self.out_dropout(self.out(y)), weights


def causal_mask(T: int, S: int, start: int, device: torch.device) -> torch.Tensor:
    """(T, S) True where new position i (absolute start + i) may attend to key j: j <= start + i."""
    return torch.ones(T, S, dtype=torch.bool, device=device).tril(diagonal=start)


def attention_weights(q: torch.Tensor, k: torch.Tensor, start: int) -> torch.Tensor:
    """softmax(q k^T / sqrt(hd)) over the keys each query may see: (B, H, T, S), rows sum to 1."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = causal_mask(q.shape[2], k.shape[2], start, q.device)
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)


class Block(nn.Module):
    """x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x))."""

    def __init__(self, d_model: int, heads: int, feedforward: int, dropout: float):
        super().__init__()
        self.attention_norm = nn.LayerNorm(d_model)
        self.attention = CausalSelfAttention(d_model, dropout=dropout, heads=heads)
        self.mlp_norm = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, feedforward), nn.GELU(), nn.Linear(feedforward, d_model),
                                 nn.Dropout(dropout))

    def forward(self, x, rotary, cache, layer, keep_attention):
        attended, weights = self.attention(self.attention_norm(x), rotary, cache, layer, keep_attention)
        x = x + attended
        return x + self.mlp(self.mlp_norm(x)), weights


@LANGUAGE_MODELS.register("transformer")
class CausalTransformer(nn.Module):
    """GPT-style decoder-only Transformer; reads at most `context` positions."""

    Options = TransformerLMOptions

    def __init__(self, vocab_size: int, context: int, *, where: str = "model.encoder", **options: Any):
        super().__init__()
        if vocab_size < 1 or context < 1:
            raise ValueError(f"vocab_size ({vocab_size}) and context ({context}) must be at least 1")
        o = self.options = parse_options(self.Options, options, where, what="the transformer language model")
        self.vocab_size, self.context = vocab_size, context
        self.keep_attention = False  # True: forward keeps each layer's attention weights in `self.attention`
        self.attention: list[torch.Tensor] = []
        self.embedding = nn.Embedding(vocab_size, o.d_model)
        self.positions = nn.Embedding(context, o.d_model) if o.positions == "learned" else None
        if o.positions == "rotary":  # not saved: computed again from the sizes
            cos, sin = rotary_tables(context, o.d_model // o.heads)
            self.register_buffer("rotary_cos", cos, persistent=False)
            self.register_buffer("rotary_sin", sin, persistent=False)
        self.dropout = nn.Dropout(o.dropout)
        self.blocks = nn.ModuleList(Block(o.d_model, o.heads, o.feedforward or 4 * o.d_model, o.dropout)
                                    for _ in range(o.layers))
        self.norm = nn.LayerNorm(o.d_model)
        # tied: the logits use the embedding's weight itself, so the state dict holds it once (safetensors refuses
        # two names for one tensor)
        self.head = None if o.tie_weights else nn.Linear(o.d_model, vocab_size, bias=False)
        self.apply(gpt2_init)
        for block in self.blocks:  # each residual branch adds to the stream: 2 per layer
            for projection in (block.attention.out, block.mlp[2]):
                nn.init.normal_(projection.weight, std=0.02 / math.sqrt(2 * o.layers))

    @property
    def output_weight(self) -> torch.Tensor:
        """(vocab, d_model): the output projection's weight; the embedding's own tensor when tied."""
        return self.embedding.weight if self.head is None else self.head.weight

    def new_cache(self, batch_size: int) -> KVCache:
        return KVCache(len(self.blocks), self.context, batch_size)

    def forward(self, ids: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """ids (B, T) long -> logits (B, T, vocab). With a cache, the T positions follow the cached ones and are
        added to it. Raises ValueError when cached + T positions exceed the context."""
        T = ids.shape[1]
        start = 0 if cache is None else cache.length
        if start + T > self.context:
            raise ValueError(f"the model reads at most {self.context} positions; got {start} cached + {T} new")
        x = self.embedding(ids)  # (B, T, d_model)
        rotary = None
        if self.positions is not None:
            x = x + self.positions.weight[start : start + T]
        else:
            rotary = self.rotary_cos[start : start + T], self.rotary_sin[start : start + T]  # (T, hd / 2) each
        x = self.dropout(x)
        self.attention = []
        for layer, block in enumerate(self.blocks):
            x, weights = block(x, rotary, cache, layer, self.keep_attention)
            if weights is not None:
                self.attention.append(weights)
        if cache is not None:
            cache.advance(T)
        return F.linear(self.norm(x), self.output_weight)  # (B, T, vocab)


def gpt2_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
