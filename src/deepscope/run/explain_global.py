"""The global view of a split's explanations: what the model leans on per class, over many examples.

- images: the mean map per class (and the mean image under it): where the evidence for a "7" usually sits;
- text: the tokens that push hardest towards each class: the mean attribution per occurrence over the split;
- tables: permutation importance with intervals (methods/permutation.py); series: the mean map over the windows,
  which `explain_files` draws as it is.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from deepscope.explain.explanation import Explanation

TOP_TOKENS = 10  # per class
MIN_COUNT = 3  # occurrences a token needs among the explained texts to be ranked (if any token has that many)


def class_means(e: Explanation) -> tuple[list[int], torch.Tensor, torch.Tensor]:
    """(the classes seen, mean inputs (k, ...), mean attributions (k, ...)) over the examples of each target."""
    classes = sorted(set(e.targets.tolist()))
    inputs = torch.stack([e.inputs[e.targets == c].float().mean(dim=0) for c in classes])
    maps = torch.stack([e.attributions[e.targets == c].mean(dim=0) for c in classes])
    return classes, inputs, maps


def tokens_by_class(e: Explanation, class_names: list[Any] | None, top: int = TOP_TOKENS) -> dict[str, list]:
    """Per class explained: the `top` tokens that push hardest towards it, [token, mean attribution, count]."""
    totals: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    for i, tokens in enumerate(e.tokens):
        target = int(e.targets[i])
        for token, value in zip(tokens, e.attributions[i, :len(tokens)].tolist()):
            totals[target][token][0] += value
            totals[target][token][1] += 1
    out = {}
    for target, by_token in sorted(totals.items()):
        name = class_names[target] if class_names and target < len(class_names) else target
        towards = [(token, total, count) for token, (total, count) in by_token.items() if total > 0]
        # by the mean push per occurrence, among tokens seen often enough: a sum would rank "the" and "," first
        common = [item for item in towards if item[2] >= MIN_COUNT] or towards
        ranked = sorted(common, key=lambda item: -item[1] / item[2])[:top]
        out[str(name)] = [[token, round(total / count, 6), count] for token, total, count in ranked]
    return out
