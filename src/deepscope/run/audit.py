"""Audit a finished classifier for fairness: how it treats the groups of a column of its data.

    audit = audit("runs/adult-20261201-150000", by=["sex", "race"], mitigate="thresholds")
    audit.groups[0], audit.overall["demographic_parity_ratio"], audit.findings, audit.mitigation["after"]

The split is re-read from the source exactly as training split it (same seed, same rows), with every column of
the file, so the group column may be one the model never reads (a sensitive attribute usually is not an input).
The result is also written to RUN/audit.json, the group thresholds of `mitigate="thresholds"` with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepscope.config.loading import load_config
from deepscope.data.features import Feature
from deepscope.data.prepare import load_splits
from deepscope.errors import UserError
from deepscope.explain.fairness import (
    CONSTRAINTS,
    FairnessAudit,
    audit_predictions,
    fit_thresholds,
    group_labels,
    measure_thresholds,
    require_fairlearn,
)
from deepscope.explain.fairness.groups import BINS, check_columns
from deepscope.io import write_json
from deepscope.models.saving import SavedModel, load_model
from deepscope.track.rundir import RunDir

AUDIT_FILE = "audit.json"
MITIGATIONS = ("thresholds",)
CLASSIFIERS = ("binary", "category")
BATCH = 1024


def audit(run: str | Path, by: Sequence[str], *, split: str = "test", positive: str | None = None,
          mitigate: str | None = None, constraint: str = "demographic_parity", bins: int = BINS,
          seed: int = 0) -> FairnessAudit:
    """The fairness audit of the run's classifier on `split`, grouped by the column(s) `by` (two or more: their
    intersections); `positive` is the class audited against the rest (default: a binary target's positive class);
    `mitigate="thresholds"` fits group thresholds on the validation split and measures them on `split`."""
    require_fairlearn()
    if mitigate is not None and mitigate not in MITIGATIONS:
        raise UserError(f"--mitigate {mitigate}: choose one of {', '.join(MITIGATIONS)}")
    if constraint not in CONSTRAINTS:
        raise UserError(f"--constraint {constraint}: choose one of {', '.join(CONSTRAINTS)}")
    run_dir = RunDir(Path(run))
    if not run_dir.config.exists():
        raise UserError(f"{run}: not a run directory (config.yaml is missing)")
    config = load_config(run_dir.config)
    if config.data.series is not None:
        raise UserError(f"{run}: a forecasting run; the fairness audit needs a classifier (a category or binary "
                        "output)")
    saved = load_model(run_dir.path)
    output = classifier_output(saved.outputs, run)
    target, positive_index = positive_class(saved.outputs[output], positive)
    raw, _, _ = load_splits(config.data)
    needed = [split, "val"] if mitigate else [split]
    for name in needed:
        if name not in raw.splits:
            why = "--mitigate fits its thresholds on the validation split; " if name == "val" != split else ""
            raise UserError(f"--split {name}: {why}this run's data has the splits {', '.join(raw.splits)}")
    groups = _groups_per_split(raw.splits, by, bins)
    y_true, y_pred, scores = one_vs_rest(saved, output, raw.splits[split], positive_index)
    result = audit_predictions(y_true, y_pred, scores, groups[split], by=by, positive=target, target=output,
                               seed=seed)
    if mitigate:
        val_true, _, val_scores = one_vs_rest(saved, output, raw.splits["val"], positive_index)
        thresholds = fit_thresholds(val_scores, val_true, groups["val"], constraint=constraint, seed=seed)
        result.mitigation = measure_thresholds(thresholds, y_true, y_pred, scores, groups[split])
    result.about = {"run": str(run_dir.path), "split": split, "output": output}
    write_json(run_dir.path / AUDIT_FILE, result.to_dict())
    return result


def classifier_output(outputs: dict[str, Feature], run: str | Path) -> str:
    """The first category or binary output; a run without one is refused."""
    for name, feature in outputs.items():
        if feature.type in CLASSIFIERS:
            return name
    kinds = ", ".join(f"{name!r} is a {feature.type}" for name, feature in outputs.items())
    raise UserError(f"{run}: the fairness audit needs a classifier (a category or binary output), but {kinds} "
                    "(a regression); audit a classification run")


def positive_class(feature: Feature, positive: str | None) -> tuple[str, int]:
    """(the positive class as the data writes it, its index in the model's output). A binary target's default is
    its positive value; a two-class category's, the second class; more classes need `positive`."""
    classes = _classes(feature)
    if positive is None:
        if len(classes) > 2:
            raise UserError(f"--positive: {feature.name!r} has {len(classes)} classes; say which one to audit "
                            f"against the rest, e.g. --positive {classes[1]} (classes: {', '.join(classes)})")
        return classes[1], 1
    if positive not in classes:
        raise UserError(f"--positive {positive}: not a class of {feature.name!r}; classes are: {', '.join(classes)}")
    return positive, classes.index(positive)


def one_vs_rest(saved: SavedModel, output: str, columns: dict[str, Any],
                positive_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is the positive class, predicted as it, its probability) for every row of `columns`."""
    feature = saved.outputs[output]
    truth = feature.encode(columns[output]).long().numpy()
    probability, predicted = _predict(saved, output, columns)
    if feature.type == "binary":  # one probability, of the value that encodes as 1
        probability = probability if positive_index == 1 else 1 - probability
        predicted = predicted if positive_index == 1 else 1 - predicted
        return (truth == positive_index).astype(int), predicted.astype(int), probability
    return ((truth == positive_index).astype(int), (predicted == positive_index).astype(int),
            probability[:, positive_index])


def _predict(saved: SavedModel, output: str, columns: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The head's probabilities and predicted class (its own threshold or argmax) for every row."""
    tensors = {name: feature.encode(columns[name]) for name, feature in saved.inputs.items()}
    n = len(next(iter(tensors.values())))
    device = next(saved.model.parameters()).device
    probabilities, classes = [], []
    with torch.no_grad():
        for start in range(0, n, BATCH):
            batch = {name: t[start:start + BATCH].to(device) for name, t in tensors.items()}
            head = saved.model.predict(batch)[output]
            probabilities.append(head["probability" if "probability" in head else "probabilities"].float().cpu())
            classes.append(head["class"].cpu())
    return torch.cat(probabilities).numpy().astype(float), torch.cat(classes).numpy()


def _classes(feature: Feature) -> list[str]:
    if feature.type == "binary":
        return [str(feature.fitted["negative"]), str(feature.fitted["positive"])]
    return [str(c) for c in feature.classes]


def _groups_per_split(splits: dict[str, dict[str, Any]], by: Sequence[str], bins: int) -> dict[str, np.ndarray]:
    """Group labels per split, numeric bins cut once over all the splits so that a bin means the same rows'
    values in the validation split (where thresholds are fitted) as in the audited one."""
    check_columns(list(next(iter(splits.values()))), by)
    names = list(splits)
    sizes = [len(np.asarray(splits[name][by[0]], dtype=object)) for name in names]
    together = {column: np.concatenate([np.asarray(splits[name][column], dtype=object) for name in names])
                for column in by}
    labels = group_labels(together, by, bins=bins)
    ends = np.cumsum(sizes)
    return {name: labels[end - size:end] for name, size, end in zip(names, sizes, ends)}
