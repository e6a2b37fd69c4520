"""The power law a learning curve follows: error(n) = a * n^-b + c (Hestness et al. 2017, "Deep Learning Scaling
is Predictable, Empirically"); c is the error no amount of this data would remove.

    fit = fit_power_law([100, 200, 400, 800], [0.30, 0.22, 0.17, 0.14])   # {"a": ..., "b": ..., "c": ...}
    power_law(1600, **fit)                                                 # the error with twice the data
"""

from __future__ import annotations

import numpy as np

EXPONENTS = np.linspace(0.02, 2.0, 199)


def power_law(n: float | np.ndarray, a: float, b: float, c: float) -> float | np.ndarray:
    return a * np.power(n, -b) + c


def fit_power_law(sizes: list[int], errors: list[float]) -> dict[str, float]:
    """Least-squares a, b, c >= 0 for error = a * n^-b + c: for each exponent b on a grid, a and c are linear."""
    n, y = np.asarray(sizes, dtype=float), np.asarray(errors, dtype=float)
    best: tuple[float, dict[str, float]] | None = None
    for b in EXPONENTS:
        x = n ** -b
        design = np.stack([x, np.ones_like(x)], axis=1)
        (a, c), *_ = np.linalg.lstsq(design, y, rcond=None)
        if c < 0 or a < 0:  # the floor and the slope cannot be negative: fit the constrained form instead
            c = 0.0 if c < 0 else c
            a = max(float(x @ (y - c) / (x @ x)), 0.0)
        residual = float(((a * x + c - y) ** 2).sum())
        if best is None or residual < best[0]:
            best = (residual, {"a": float(a), "b": float(b), "c": float(c)})
    return best[1]


def score_of(error: float, higher_is_better: bool) -> float:
    """The score an error stands for: 1 - error for an accuracy, the error itself for an error metric."""
    return 1 - error if higher_is_better else error
