"""Claim: decoding with the KV cache gives exactly the ids of decoding without it, and is faster (time ratio).

A CausalTransformer of the Shakespeare size (d_model 256, 4 layers, 4 heads, context 256, vocab 65; random
weights: the cost does not depend on what was learned) samples 200 tokens from a 1-token prompt, temperature 1,
the same generator seed, with and without the cache. Without it every token is a full pass over the tokens so far
(O(N^2) positions); with it every token is a pass over one position. Runs alternate so both see the same load.

    python bench/generation_cache.py [--tokens 200 --repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, summary  # noqa: E402

from deepscope.models.language import CausalTransformer, generate  # noqa: E402


def timed(model: CausalTransformer, prompt: torch.Tensor, tokens: int, use_cache: bool) -> tuple[float, torch.Tensor]:
    started = time.perf_counter()
    ids = generate(model, prompt, tokens, temperature=1.0, use_cache=use_cache,
                   generator=torch.Generator().manual_seed(0))
    return time.perf_counter() - started, ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = CausalTransformer(65, 256, d_model=256, heads=4, layers=4).eval()
    parameters = sum(p.numel() for p in model.parameters())
    prompt = torch.zeros(1, 1, dtype=torch.long)
    print(f"machine: {machine()}")
    print(f"CausalTransformer d_model 256, 4 layers, 4 heads, context 256, vocab 65 ({parameters / 1e6:.1f}M "
          f"parameters); {args.tokens} tokens from a 1-token prompt, {args.repeats} alternating repeats")
    timed(model, prompt, 10, True), timed(model, prompt, 10, False)  # warm-up
    cached, uncached, identical = [], [], True
    for _ in range(args.repeats):
        seconds, with_cache = timed(model, prompt, args.tokens, True)
        cached.append(seconds)
        seconds, without_cache = timed(model, prompt, args.tokens, False)
        uncached.append(seconds)
        identical &= torch.equal(with_cache, without_cache)
    print(f"identical: {identical}")
    print(f"with the cache   : {summary(cached, ' s', 3)}")
    print(f"without the cache: {summary(uncached, ' s', 3)}")
    print(f"time ratio without / with the cache (median of {args.repeats}): "
          f"{statistics.median(uncached) / statistics.median(cached):.2f}x")


if __name__ == "__main__":
    main()
