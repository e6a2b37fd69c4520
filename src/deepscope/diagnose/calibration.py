"""How far predicted probabilities are from observed frequencies: expected calibration error (ECE), and the
temperature that would fix it (Guo et al., 2017, "On Calibration of Modern Neural Networks")."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


def expected_calibration_error(confidence: torch.Tensor, correct: torch.Tensor, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by how many predictions fall in each."""
    edges = torch.linspace(0, 1, bins + 1, device=confidence.device)
    which = torch.bucketize(confidence.clamp(1e-6, 1), edges[1:-1])
    counts = torch.bincount(which, minlength=bins).float()
    conf_sum = torch.bincount(which, weights=confidence.float(), minlength=bins)
    correct_sum = torch.bincount(which, weights=correct.float(), minlength=bins)
    return float((conf_sum - correct_sum).abs().sum() / counts.sum().clamp(min=1))


LOG_T_RANGE = (math.log(0.05), math.log(20.0))


@torch.no_grad()
def fit_temperature(logits: torch.Tensor, targets: torch.Tensor, *, binary: bool) -> float:
    """The single temperature T in [0.05, 20] minimising the negative log-likelihood of logits / T.

    The likelihood is unimodal in log T, so a golden-section search finds it in 40 cheap evaluations.
    """
    logits, targets = logits.float(), targets if not binary else targets.float()

    def nll(log_t: float) -> float:
        scaled = logits / math.exp(log_t)
        if binary:
            return float(F.binary_cross_entropy_with_logits(scaled, targets))
        return float(F.cross_entropy(scaled, targets))

    low, high = LOG_T_RANGE
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    f_a, f_b = nll(a), nll(b)
    for _ in range(40):
        if f_a < f_b:
            high, b, f_b = b, a, f_a
            a = high - ratio * (high - low)
            f_a = nll(a)
        else:
            low, a, f_a = a, b, f_b
            b = low + ratio * (high - low)
            f_b = nll(b)
    return math.exp((low + high) / 2)


def calibration_stats(logits: torch.Tensor, targets: torch.Tensor, *, binary: bool, split: str) -> dict[str, Any]:
    """ECE before and after temperature scaling, mean confidence and accuracy, for one classification output."""

    def confidence_and_correct(scaled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if binary:
            p = scaled.float().sigmoid()
            predicted = p > 0.5
            return torch.where(predicted, p, 1 - p), predicted == targets.bool()
        probabilities = scaled.float().softmax(dim=-1)
        confidence, predicted = probabilities.max(dim=-1)
        return confidence, predicted == targets

    confidence, correct = confidence_and_correct(logits)
    temperature = fit_temperature(logits, targets, binary=binary)
    confidence_after, correct_after = confidence_and_correct(logits / temperature)
    return {
        "split": split, "examples": int(len(targets)),
        "ece": expected_calibration_error(confidence, correct),
        "confidence": float(confidence.float().mean()), "accuracy": float(correct.float().mean()),
        "temperature": temperature, "ece_after": expected_calibration_error(confidence_after, correct_after),
    }
