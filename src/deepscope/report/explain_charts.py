"""Explanation charts that are not drawn over an input: ranked column importance, attention matrices, and the
deletion / insertion curves that say how far a map can be trusted. Plain arrays (numpy or torch) in, one PNG
written atomically, its path returned.

    column_importance_png(["age", "noise"], [0.12, 0.0], "columns.png", intervals=[(0.1, 0.14), (-0.01, 0.01)])
    attention_png(weights, tokens, "attention.png", rollout=rollout)              # weights (layers, heads, q, k)
    faithfulness_png({"deletion": (curve, random_curve), "insertion": (...)}, "faithfulness.png", method="saliency")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.errors import DataError
from deepscope.explain.faithfulness.curves import area
from deepscope.report.explain_colours import BLUE, RED, as_array
from deepscope.report.plots import grid_figure, text, thin, write_png

MAX_BARS = 40  # columns drawn in a ranking; the rest (the least important) are counted in the title
LABELS_PER_INCH = 8  # token labels (7 pt) an attention axis holds legibly; longer sequences get every n-th
ATTENTION_PANEL = 1.9  # inches per matrix, shrunk so that a wide grid stays under MAX_WIDTH
MAX_WIDTH = 20.0  # inches
RANDOM_GREY = "#6b7280"
CURVE_AXES = {  # a curve's name -> what its x axis counts and which way is better
    "deletion": ("fraction of units removed, most attributed first", "a faithful map falls fast: lower area is better"),
    "insertion": ("fraction of units put back, most attributed first", "a faithful map rises fast: higher area is "
                                                                       "better"),
}


def column_importance_png(names: Sequence[str], scores: Any, path: str | Path, *, intervals: Any = None,
                          title: str = "", xlabel: str = "importance") -> Path:
    """Horizontal bars ranked by score, the most important on top; a negative score (the model does better
    without the column) in red.

    Args:
        names, scores: one score per column name.
        intervals: optional (low, high) per column, e.g. a bootstrap 95 % interval, drawn as error bars.
    """
    values = as_array(scores, "column importance").reshape(-1)
    if len(names) != len(values) or not len(values):
        raise DataError(f"column importance: {len(names)} names for {len(values)} scores; give one score per column")
    bounds = None if intervals is None else as_array(intervals, "column importance intervals")
    if bounds is not None and (bounds.shape != (len(values), 2) or (bounds[:, 0] > bounds[:, 1]).any()):
        raise DataError(f"column importance: intervals of shape {bounds.shape} are not one (low, high) pair with "
                        f"low <= high per column ({len(values)} columns)")
    order = np.argsort(-values, kind="stable")[:MAX_BARS]
    shown = values[order]
    figure, axes = grid_figure(1, 1, 7.5, 1.0 + 0.28 * len(order))
    ax = axes[0, 0]
    errors = None
    if bounds is not None:  # distances from the score; an interval that misses its score draws from the score
        errors = np.clip(np.stack([shown - bounds[order, 0], bounds[order, 1] - shown]), 0, None)
    ax.barh(range(len(order)), shown, xerr=errors, color=[BLUE if v >= 0 else RED for v in shown],
            error_kw={"ecolor": "#374151", "capsize": 3, "linewidth": 1})
    ax.set_yticks(range(len(order)), [text(names[i]) for i in order])
    ax.invert_yaxis()  # rank 1 on top
    ax.axvline(0, color="#9ca3af", linewidth=0.8)
    ax.set_xlabel(text(xlabel))
    left_out = len(values) - len(order)
    ax.set_title(text(title or "column importance") + (f" (top {len(order)} of {len(values)})" if left_out else ""))
    ax.grid(True, axis="x", alpha=0.3)
    return write_png(figure, path)


def attention_png(weights: Any, tokens: Sequence[str], path: str | Path, *, rollout: Any = None,
                  title: str = "", query_tokens: Sequence[str] | None = None) -> Path:
    """A grid of attention matrices, a row per layer and a column per head (queries down, keys across), each on
    its own scale (darkest = its largest weight); `rollout` (q, k), when given, in a panel of its own on the
    right (Abnar and Zuidema, 2020: attention carried through all layers).

    Args:
        weights: (layers, heads, q, k); one layer may be (heads, q, k), one matrix (q, k).
        tokens: one per key position (and per query too when q == k); labels are thinned on long sequences.
        query_tokens: one per query position, where they differ from the keys (a translation's target tokens).
    """
    matrices = as_array(weights, "attention")
    if matrices.ndim not in (2, 3, 4) or 0 in matrices.shape:
        raise DataError(f"attention: weights of shape {matrices.shape} are not (layers, heads, queries, keys)")
    matrices = matrices.reshape((1,) * (4 - matrices.ndim) + matrices.shape)
    layers, heads, queries, keys = matrices.shape
    if len(tokens) != keys:
        raise DataError(f"attention: {len(tokens)} tokens for {keys} key positions; give one token per position")
    if query_tokens is not None and len(query_tokens) != queries:
        raise DataError(f"attention: {len(query_tokens)} query tokens for {queries} query positions")
    extra = None if rollout is None else as_array(rollout, "attention rollout")
    if extra is not None and extra.shape != (queries, keys):
        raise DataError(f"attention: a rollout of shape {extra.shape} is not (queries, keys) = {(queries, keys)}")
    panel = min(ATTENTION_PANEL, (MAX_WIDTH - 1.5) / (heads + (2 if extra is not None else 0)))
    from matplotlib.figure import Figure  # subfigures: the grid on the left, the rollout on the right

    figure = Figure(figsize=(panel * heads + 1.5 + (2 * panel + 0.5 if extra is not None else 0),
                             panel * layers + 1.2), layout="constrained")
    parts = figure.subfigures(1, 2, width_ratios=[heads, 2]) if extra is not None else [figure]
    grid = parts[0].subplots(layers, heads, squeeze=False)
    labels = _token_labels(tokens, max(2, int(panel * LABELS_PER_INCH)))
    rows = labels if query_tokens is None else _token_labels(query_tokens, max(2, int(panel * LABELS_PER_INCH)))
    labelled = queries == keys or query_tokens is not None
    for layer in range(layers):
        for head in range(heads):
            ax = grid[layer, head]
            _matrix(ax, matrices[layer, head], labels, labelled, left=head == 0, bottom=layer == layers - 1,
                    rows=rows)
            if layer == 0:
                ax.set_title(f"head {head + 1}", fontsize=8)
            if head == 0:
                ax.set_ylabel(f"layer {layer + 1}", fontsize=8)
    parts[0].suptitle(text(title or "attention per layer and head (queries down, keys across)"), fontsize=10)
    if extra is not None:
        ax = parts[1].subplots()
        _matrix(ax, extra, labels, labelled, left=True, bottom=True, rows=rows)
        ax.set_title("rollout over all layers", fontsize=9)
    return write_png(figure, path)


def faithfulness_png(curves: Mapping[str, tuple[Any, Any]], path: str | Path, *, method: str = "attribution") -> Path:
    """A panel per curve ("deletion", "insertion"): the mean score as units are removed (or put back) in the
    map's order, against the same in a random order, with each area in the legend.

    Args:
        curves: curve name -> (the method's curve, the random order's curve), each (steps + 1,) mean scores over
            equal steps from 0 to 1 (explain.faithfulness.deletion_curve / insertion_curve).
        method: the attribution method's name, for the legend.
    """
    if not curves:
        raise DataError("faithfulness: no curves to draw; give {'deletion': (curve, random_curve), ...}")
    figure, axes = grid_figure(1, len(curves), 4.6 * len(curves), 3.6)
    for ax, (name, pair) in zip(axes[0], curves.items()):
        if len(pair) != 2:
            raise DataError(f"faithfulness: curve {name!r} is not a pair (method's curve, random order's curve)")
        for values, label, style in ((pair[0], text(method), {"color": BLUE}),
                                     (pair[1], "random order", {"color": RANDOM_GREY, "linestyle": "--"})):
            curve = as_array(values, f"faithfulness curve {name!r}").reshape(-1)
            if len(curve) < 2:
                raise DataError(f"faithfulness: curve {name!r} has {len(curve)} points; a curve needs at least two")
            ax.plot(np.linspace(0, 1, len(curve)), curve, label=f"{label} (area {area(curve):.3f})", **style)
        xlabel, better = CURVE_AXES.get(name, ("fraction of units", ""))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("mean score of the target")
        ax.set_title(text(name) + (f"\n{better}" if better else ""), fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return write_png(figure, path)


def _token_labels(tokens: Sequence[str], limit: int) -> tuple[list[int], list[str]]:
    """(positions, labels) to tick: every token, or an even spread of `limit` of them (first and last kept)."""
    positions = thin(list(range(len(tokens))), limit)
    return positions, [text(tokens[i]) for i in positions]


def _matrix(ax: Any, matrix: np.ndarray, labels: tuple[list[int], list[str]], labelled: bool, *, left: bool,
            bottom: bool, rows: tuple[list[int], list[str]] | None = None) -> None:
    """One attention matrix (q, k) on its own scale, token labels on the outer edges of the grid only; `rows`
    labels the queries (default: the keys' labels, for a square matrix)."""
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=max(float(matrix.max()), 1e-12), interpolation="nearest",
              aspect="auto" if rows is not None and rows is not labels else "equal")
    positions, names = labels
    ax.set_xticks(positions, names if bottom else [], rotation=90, fontsize=7)
    if labelled:
        row_positions, row_names = rows or labels
        ax.set_yticks(row_positions, row_names if left else [], fontsize=7)
    else:
        ax.tick_params(axis="y", labelleft=left, labelsize=7)
