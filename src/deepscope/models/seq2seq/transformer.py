"""`transformer`: an encoder-decoder Transformer (Vaswani et al. 2017) in the pre-norm form, for translation.

The encoder reads the whole source (padding masked out); each decoder block attends causally to the target so
far, then to the encoded source (cross-attention), then applies a GELU MLP; LayerNorm comes before each part and
once at the end of each stack (pre-norm: stable without a long warm-up). Positions are the fixed sinusoids of
Vaswani et al., added to embeddings scaled by sqrt(d_model); the output projection shares the target embedding
(with a shared vocabulary the source embedding too: three-way tying, Press & Wolf 2017).

Decoding: `encode` once, `start` a `DecoderState` (the self-attention `KVCache` from models/language, and the
cross-attention keys and values of the source, computed once), then `step` reads only the new target tokens.

    model = Seq2SeqTransformer(src_vocab=8000, tgt_vocab=8000, context=128, d_model=256)
    logits = model(src, tgt_in)                  # (B, T, 8000), teacher forcing
    state = model.start(model.encode(src))
    logits = model.step(first_tokens, state)     # (B, 1, 8000); later calls read one token each
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from deepscope.config.options import parse_options
from deepscope.models.language.cache import KVCache
from deepscope.models.language.transformer import causal_mask
from deepscope.models.seq2seq.memory import DecoderState, Memory, Seq2SeqNetwork
from deepscope.models.seq2seq.options import SEQ2SEQ_MODELS, TransformerOptions


def sinusoids(positions: int, d_model: int) -> torch.Tensor:
    """(positions, d_model): sin on even features, cos on odd ones, wavelengths 2 pi ... 10000 x 2 pi."""
    frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    angle = torch.arange(positions, dtype=torch.float32).unsqueeze(1) * frequency
    table = torch.zeros(positions, d_model)
    table[:, 0::2], table[:, 1::2] = angle.sin(), angle.cos()[:, : d_model // 2]
    return table


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    B, T, D = x.shape
    return x.view(B, T, heads, D // heads).transpose(1, 2)  # (B, H, T, hd)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, *, causal: bool = False,
           keep: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(B, H, T, hd) queries over (B, H, S, hd) keys; `mask` broadcasts to (B, H, T, S), True where a query may
    look. With `keep`, the weights (B, H, T, S) are computed explicitly and returned."""
    if not keep:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal and mask is None), None
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal and mask is None:
        mask = causal_mask(q.shape[2], k.shape[2], k.shape[2] - q.shape[2], q.device)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, *, causal: bool, cache: KVCache | None = None,
                layer: int = 0, keep: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        start = 0
        if cache is not None:
            start = cache.length
            k, v = cache.update(layer, k, v)
        if start and causal:  # new positions after cached ones: each sees the cache and the new ones up to itself
            mask = None if T == 1 else causal_mask(T, k.shape[2], start, x.device)
            causal = False
        y, weights = attend(q, k, v, mask, causal=causal, keep=keep)
        return self.out(y.transpose(1, 2).reshape(B, T, D)), weights


class CrossAttention(nn.Module):
    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(d_model, d_model)
        self.key_value = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def keys_values(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.key_value(memory).chunk(2, dim=-1)
        return split_heads(k, self.heads), split_heads(v, self.heads)

    def forward(self, x: torch.Tensor, keys_values: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor, *,
                keep: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, D = x.shape
        y, weights = attend(split_heads(self.query(x), self.heads), *keys_values, mask, keep=keep)
        return self.out(y.transpose(1, 2).reshape(B, T, D)), weights


def mlp(d_model: int, feedforward: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_model, feedforward), nn.GELU(), nn.Linear(feedforward, d_model),
                         nn.Dropout(dropout))


class EncoderBlock(nn.Module):
    def __init__(self, d_model: int, heads: int, feedforward: int, dropout: float):
        super().__init__()
        self.attention_norm, self.attention = nn.LayerNorm(d_model), SelfAttention(d_model, heads)
        self.mlp_norm, self.mlp = nn.LayerNorm(d_model), mlp(d_model, feedforward, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, keep: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, weights = self.attention(self.attention_norm(x), mask, causal=False, keep=keep)
        x = x + self.dropout(attended)
        return x + self.mlp(self.mlp_norm(x)), weights


class DecoderBlock(nn.Module):
    def __init__(self, d_model: int, heads: int, feedforward: int, dropout: float):
        super().__init__()
        self.attention_norm, self.attention = nn.LayerNorm(d_model), SelfAttention(d_model, heads)
        self.cross_norm, self.cross = nn.LayerNorm(d_model), CrossAttention(d_model, heads)
        self.mlp_norm, self.mlp = nn.LayerNorm(d_model), mlp(d_model, feedforward, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cross_kv: tuple[torch.Tensor, torch.Tensor], source_mask: torch.Tensor,
                cache: KVCache | None, layer: int, keep: bool) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        attended, self_weights = self.attention(self.attention_norm(x), None, causal=True, cache=cache,
                                                layer=layer, keep=keep)
        x = x + self.dropout(attended)
        attended, cross_weights = self.cross(self.cross_norm(x), cross_kv, source_mask, keep=keep)
        x = x + self.dropout(attended)
        return x + self.mlp(self.mlp_norm(x)), [self_weights, cross_weights]


@SEQ2SEQ_MODELS.register("transformer")
class Seq2SeqTransformer(Seq2SeqNetwork):
    """Source ids (B, S) and target ids (B, T) -> logits (B, T, tgt_vocab); reads at most `context` positions."""

    Options = TransformerOptions

    def __init__(self, src_vocab: int, tgt_vocab: int, context: int, *, shared_vocabulary: bool = False,
                 where: str = "model.encoder", **options: Any):
        super().__init__(context)
        o = self.options = parse_options(self.Options, options, where, what="the translation transformer")
        self.d_model = o.d_model
        self._embeddings(src_vocab, tgt_vocab, o.d_model, shared=shared_vocabulary, tied=o.tie_weights)
        self.register_buffer("positions", sinusoids(context, o.d_model), persistent=False)
        self.dropout = nn.Dropout(o.dropout)
        feedforward = o.feedforward or 4 * o.d_model
        self.encoder = nn.ModuleList(EncoderBlock(o.d_model, o.heads, feedforward, o.dropout)
                                     for _ in range(o.encoder_layers))
        self.encoder_norm = nn.LayerNorm(o.d_model)
        self.decoder = nn.ModuleList(DecoderBlock(o.d_model, o.heads, feedforward, o.dropout)
                                     for _ in range(o.decoder_layers))
        self.decoder_norm = nn.LayerNorm(o.d_model)
        self._initialise(o)

    def _initialise(self, o: TransformerOptions) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        for embedding in {self.source_embedding, self.target_embedding}:  # fairseq: N(0, 1/d), then x sqrt(d)
            nn.init.normal_(embedding.weight, std=o.d_model**-0.5)

    def _embed(self, embedding: nn.Embedding, ids: torch.Tensor, start: int = 0) -> torch.Tensor:
        T = ids.shape[1]
        if start + T > self.context:
            raise ValueError(f"the model reads at most {self.context} positions; got {start} + {T}")
        return self.dropout(embedding(ids) * math.sqrt(self.d_model) + self.positions[start : start + T])

    def encode(self, src: torch.Tensor) -> Memory:
        """Source ids (B, S), 0 = padding -> the encoded source (B, S, d_model) and its mask."""
        mask = src != 0
        x = self._embed(self.source_embedding, src)
        attention_mask = mask[:, None, None, :]  # (B, 1, 1, S)
        weights = []
        for block in self.encoder:
            x, w = block(x, attention_mask, self.keep_attention)
            weights.append(w)
        self.attention = {"encoder": weights} if self.keep_attention else {}
        return Memory(self.encoder_norm(x), mask)

    def start(self, memory: Memory) -> DecoderState:
        """A decoder state for `memory`'s rows: an empty self-attention cache, the cross-attention keys/values."""
        cross = [block.cross.keys_values(memory.states) for block in self.decoder]
        return DecoderState(memory, KVCache(len(self.decoder), self.context, len(memory.mask)), cross)

    def step(self, tgt: torch.Tensor, state: DecoderState) -> torch.Tensor:
        """The next T target ids (B, T) after those the state holds -> their logits (B, T, vocab)."""
        return self._decode(tgt, state.memory.mask, state.cross, state.cache)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        memory = self.encode(src)
        cross = [block.cross.keys_values(memory.states) for block in self.decoder]
        return self._decode(tgt, memory.mask, cross, None)

    def _decode(self, tgt: torch.Tensor, source_mask: torch.Tensor, cross: list, cache: KVCache | None
                ) -> torch.Tensor:
        start = 0 if cache is None else cache.length
        x = self._embed(self.target_embedding, tgt, start)
        mask = source_mask[:, None, None, :]
        kept: dict[str, list] = {"decoder": [], "cross": []}
        for layer, block in enumerate(self.decoder):
            x, (self_weights, cross_weights) = block(x, cross[layer], mask, cache, layer, self.keep_attention)
            kept["decoder"].append(self_weights)
            kept["cross"].append(cross_weights)
        if cache is not None:
            cache.advance(tgt.shape[1])
        if self.keep_attention:
            self.attention.update(kept)
        return F.linear(self.decoder_norm(x), self.output_weight)
