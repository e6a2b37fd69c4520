"""Writing a translation: greedy decoding and beam search, both reading one new token per step from the model's
decoder state (its key/value cache), and both stopping at `</s>`.

Every network here has `encode(src) -> Memory`, `start(memory) -> DecoderState` and `step(ids, state) -> logits`
(models/seq2seq/transformer.py, gru.py). The decoder starts from `</s>` (as in fairseq). `<pad>` and `<unk>` are
never written. A translation may run to `max_length(src)` tokens: twice the longest source in the batch plus 10,
at most the model's context.

Beam search keeps the `beam` best partial translations per sentence by their summed log-probability; one that
ends in `</s>` among the top `beam` candidates is finished and scored by the sum divided by GNMT's length penalty
((5 + length) / 6) ** alpha (Wu et al. 2016: alpha 0 compares raw sums, which favour short translations; 1
compares nearly per-token averages). A sentence is done once `beam` translations are finished; at the length
limit the unfinished ones are scored as they are. The best finished translation is returned.

    ids = greedy(model, src, eos_id=2)                           # (B, L): ids, </s>, then 0
    ids = beam_search(model, src, eos_id=2, beam=5, alpha=0.6)
"""

from __future__ import annotations

import torch
from torch import nn

NEVER_WRITTEN = (0, 1)  # <pad>, <unk>


def max_length(src: torch.Tensor, context: int) -> int:
    longest = int((src != 0).sum(dim=1).max())
    return max(1, min(context, 2 * longest + 10))


def _banned(logits: torch.Tensor) -> torch.Tensor:
    logits = logits.float()
    logits[:, list(NEVER_WRITTEN)] = float("-inf")
    return logits


@torch.inference_mode()
def greedy(model: nn.Module, src: torch.Tensor, *, eos_id: int, limit: int | None = None,
           use_cache: bool = True) -> torch.Tensor:
    """The likeliest token at each step: (B, L) ids, each row ending in `</s>` (unless cut at the limit), then 0.
    Without the cache, every step reads the whole target so far again (the same ids, slower)."""
    limit = limit or max_length(src, model.context)
    memory = model.encode(src)
    B = src.shape[0]
    written = torch.full((B, 1), eos_id, dtype=torch.long, device=src.device)  # the start token
    state = model.start(memory)
    logits = model.step(written, state)[:, -1]
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    for _ in range(limit):
        token = _banned(logits).argmax(dim=-1).masked_fill(done, 0)  # (B,)
        written = torch.cat([written, token[:, None]], dim=1)
        done |= token == eos_id
        if bool(done.all()) or written.shape[1] > limit:
            break
        if use_cache:
            logits = model.step(token[:, None], state)[:, -1]
        else:
            logits = model.step(written, model.start(memory))[:, -1]
    return written[:, 1:]


def length_penalty(length: int, alpha: float) -> float:
    return ((5.0 + length) / 6.0) ** alpha


@torch.inference_mode()
def beam_search(model: nn.Module, src: torch.Tensor, *, eos_id: int, beam: int = 5, alpha: float = 0.6,
                limit: int | None = None) -> torch.Tensor:
    """The best of `beam` hypotheses per sentence (module docstring): (B, L) ids, `</s>`, then 0."""
    if beam < 1:
        raise ValueError(f"beam must be at least 1, not {beam}")
    limit = limit or max_length(src, model.context)
    B, K, device = src.shape[0], beam, src.device
    state = model.start(model.encode(src).select(torch.arange(B, device=device).repeat_interleave(K)))
    written = torch.full((B * K, 1), eos_id, dtype=torch.long, device=device)
    scores = torch.full((B, K), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis at the start, not K copies of it
    logits = model.step(written, state)[:, -1]
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
    for step in range(1, limit + 1):
        logprobs = _banned(logits).log_softmax(dim=-1)  # (B K, V)
        V = logprobs.shape[-1]
        top, index = (scores.view(-1, 1) + logprobs).view(B, K * V).topk(2 * K, dim=1)  # (B, 2K)
        origin, token = index // V, index % V
        _finish(finished, top, origin, token, written, eos_id, K, length_penalty(step, alpha))
        if all(len(f) >= K for f in finished):
            break
        # the K best candidates that do not end: at most K of the 2K end (one </s> per hypothesis)
        going = token != eos_id
        keep = going & (going.cumsum(dim=1) <= K)
        scores = top[keep].view(B, K)
        rows = (origin[keep].view(B, K) + torch.arange(B, device=device)[:, None] * K).view(-1)
        token = token[keep].view(B * K, 1)
        written = torch.cat([written[rows], token], dim=1)
        if step == limit:
            break
        state.select(rows)
        logits = model.step(token, state)[:, -1]
    for b in range(B):  # unfinished at the limit: scored as they are
        if len(finished[b]) < K:
            for k in range(K):
                if scores[b, k] > float("-inf"):
                    ids = written[b * K + k, 1:].tolist()
                    finished[b].append((float(scores[b, k]) / length_penalty(len(ids), alpha), ids))
    best = [max(f, key=lambda pair: pair[0])[1] if f else [] for f in finished]
    out = torch.zeros(B, max(1, max(len(ids) for ids in best)), dtype=torch.long, device=device)
    for b, ids in enumerate(best):
        out[b, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out


def _finish(finished: list, top: torch.Tensor, origin: torch.Tensor, token: torch.Tensor, written: torch.Tensor,
            eos_id: int, K: int, penalty: float) -> None:
    """Record the candidates among each sentence's top K that end in </s>."""
    ends = (token[:, :K] == eos_id) & (top[:, :K] > float("-inf"))
    for b, k in ends.nonzero().tolist():
        if len(finished[b]) < K:
            ids = written[b * K + int(origin[b, k]), 1:].tolist() + [eos_id]
            finished[b].append((float(top[b, k]) / penalty, ids))
