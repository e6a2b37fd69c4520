"""Classification: the confusion matrix, precision / recall / F1 per class, the most confused pairs, and for a
yes/no output the ROC curve and the spread of predicted probabilities.

The confusion matrix is the one saved with the final evaluation (the whole split, in metrics.jsonl); only a run
without one is counted again on the report's sample of predictions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from deepscope.report.context import Predictions, ReportContext
from deepscope.report.html import escape, figure, image, note, paragraph, table
from deepscope.report.plots import COLOURS, WIDE, Plot, heat_png, text

MAX_TABLE_CLASSES = 30  # a wider confusion matrix is drawn as a heat map instead of a table
MAX_PAIRS = 8


def render_output(context: ReportContext, name: str, kind: str, key: Callable[[str], str]) -> str:
    names = class_names(context, name, kind)
    matrix, where = saved_matrix(context, key)
    predictions = context.predictions().get(name)
    if matrix is None and predictions is not None:
        matrix = counted_matrix(predictions, len(names) if names else None)
        where = f"{len(predictions.target):,} sampled {context.sample.split} examples"
    if matrix is None:
        return note(f"{name}: no confusion matrix was saved and the predictions could not be made "
                    f"({context.missing.get('data') or context.missing.get('model') or 'no data'}).")
    if not names or len(names) != len(matrix):
        names = [str(i) for i in range(len(matrix))]
    parts = [paragraph(f"Counted on {where}. Rows are the true class, columns the predicted one; the shade is the "
                       "share of the row.", "muted")]
    parts.append(confusion_html(matrix, names))
    parts.append("<h3>Per class</h3>" + per_class_table(matrix, names))
    pairs = confused_pairs(matrix, names)
    if pairs:
        parts.append("<h3>Most confused</h3>" + table(["true", "predicted as", "examples", "share of the true class"],
                                                      pairs))
    if kind == "binary" and predictions is not None and len(set(predictions.target.tolist())) == 2:
        parts.append(figure(binary_plots(predictions, names),
                            f"ROC curve and predicted probabilities of {names[1]!r} by true class, on "
                            f"{len(predictions.target):,} {context.sample.split} examples."))
    return "\n".join(parts)


def class_names(context: ReportContext, name: str, kind: str) -> list[str]:
    feature = context.outputs.get(name)
    if feature is None or not feature.fitted:
        return []
    if kind == "binary":
        return [str(feature.fitted["negative"]), str(feature.fitted["positive"])]
    return [str(c) for c in feature.classes]


def saved_matrix(context: ReportContext, key: Callable[[str], str]) -> tuple[np.ndarray | None, str]:
    """The confusion matrix of the final evaluation (test, else val); `key` names this output's metrics."""
    finals = context.info.finals
    for split in ("test", "val"):
        matrix = finals.get(split, {}).get(key("confusion_matrix"))
        if isinstance(matrix, list) and matrix and all(isinstance(row, list) for row in matrix):
            n = finals[split].get(key("n"), int(np.sum(matrix)))
            return np.asarray(matrix, dtype=np.int64), f"the whole {split} split ({n:,} examples)"
    return None, ""


def counted_matrix(predictions: Predictions, classes: int | None) -> np.ndarray:
    size = classes or int(max(predictions.target.max(), predictions.predicted.max()) + 1)
    matrix = np.zeros((size, size), dtype=np.int64)
    np.add.at(matrix, (predictions.target, predictions.predicted), 1)
    return matrix


def per_class(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """precision, recall, F1 and support per class (0 where undefined, as scikit-learn's zero_division=0)."""
    true_positive = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0).astype(float), matrix.sum(axis=1).astype(float)
    divide = lambda a, b: np.divide(a, b, out=np.zeros_like(a), where=b > 0)  # noqa: E731
    return {"precision": divide(true_positive, predicted), "recall": divide(true_positive, actual),
            "f1": divide(2 * true_positive, predicted + actual), "support": actual.astype(int)}


def per_class_table(matrix: np.ndarray, names: list[str]) -> str:
    scores = per_class(matrix)
    rows = [[name, float(scores["precision"][i]), float(scores["recall"][i]), float(scores["f1"][i]),
             int(scores["support"][i])] for i, name in enumerate(names)]
    rows.append(["macro average", float(scores["precision"].mean()), float(scores["recall"].mean()),
                 float(scores["f1"].mean()), int(scores["support"].sum())])
    return table(["class", "precision", "recall", "F1", "support"], rows, numeric=[False, True, True, True, True])


def confusion_html(matrix: np.ndarray, names: list[str]) -> str:
    if len(names) > MAX_TABLE_CLASSES:
        return figure(image(heat_png(_row_shares(matrix), "Blues", flip=False), "confusion matrix", "pixels"),
                      f"{len(names)} classes: the share of each true class (row) predicted as each class (column).")
    shares = _row_shares(matrix)
    header = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            share = shares[i, j]
            # right answers in blue, mistakes in red; a few percent of mistakes already shows
            alpha = 0.06 + 0.45 * share if i == j else min(1.0, 0.1 + 2 * share)
            colour = f"rgba({'37, 99, 235' if i == j else '220, 38, 38'}, {alpha:.2f})"
            style = f" style=\"background: {colour}\"" if matrix[i, j] else ""
            cells.append(f"<td{style}>{matrix[i, j]:,}</td>")
        rows.append(f"<tr><th>{escape(name)}</th>{''.join(cells)}</tr>")
    return (f"<div class=\"scroll\"><table class=\"cm\"><thead>{header}</thead><tbody>{''.join(rows)}</tbody>"
            "</table></div>")


def _row_shares(matrix: np.ndarray) -> np.ndarray:
    totals = matrix.sum(axis=1, keepdims=True).astype(float)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def confused_pairs(matrix: np.ndarray, names: list[str]) -> list[list[Any]]:
    shares = _row_shares(matrix)
    off = [(int(matrix[i, j]), i, j) for i in range(len(names)) for j in range(len(names)) if i != j and matrix[i, j]]
    off.sort(reverse=True)
    return [[names[i], names[j], count, f"{shares[i, j]:.1%}"] for count, i, j in off[:MAX_PAIRS]]


def binary_plots(predictions: Predictions, names: list[str]) -> str:
    from sklearn.metrics import roc_auc_score, roc_curve

    truth, probability = predictions.target, predictions.probabilities
    false_positive, true_positive, _ = roc_curve(truth, probability)
    plot = Plot(WIDE, 3.2, ncols=2)
    with plot as (roc, spread):
        roc.plot(false_positive, true_positive, color=COLOURS[0], label=f"AUC {roc_auc_score(truth, probability):.3f}")
        roc.plot([0, 1], [0, 1], color="#9ca3af", linestyle="--", linewidth=0.8)
        roc.set_xlabel("false positive rate")
        roc.set_ylabel("true positive rate")
        roc.legend(loc="lower right")
        bins = np.linspace(0, 1, 21)
        for value, colour in ((0, COLOURS[1]), (1, COLOURS[0])):
            spread.hist(probability[truth == value], bins=bins, alpha=0.6, color=colour,
                        label=f"true {text(names[value])}")
        spread.set_xlabel(f"predicted probability of {text(names[1])}")
        spread.set_ylabel("examples")
        spread.legend()
    return plot.svg
