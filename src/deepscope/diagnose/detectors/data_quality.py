"""Missing values and constant columns in the training data.

Judged on the data profile's `missing` ({column: count in the raw training split}) and `constant` (input
columns with one value throughout the training split).
"""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

MANY_MISSING = 0.2  # a column missing more than this share of its values is a warning, not just information


@DETECTORS.register("data_quality")
def data_quality(record: Record) -> list[Finding]:
    missing, constant = record.data.get("missing", {}), record.data.get("constant", [])
    train = record.data.get("sizes", {}).get("train", 0)
    findings = []
    if missing and train:
        findings.append(_missing_values(missing, train))
    if constant:
        findings.append(_constant_features(constant))
    return findings


def _missing_values(missing: dict[str, int], train: int) -> Finding:
    shares = {column: round(n / train, 3) for column, n in missing.items()}
    worst = max(shares, key=lambda column: shares[column])
    return Finding(
        "missing_values", "warning" if shares[worst] > MANY_MISSING else "info",
        f"Missing values in {len(missing)} column(s), most in {worst} ({shares[worst]:.0%} of training rows)",
        "deepscope fills missing numbers with the training mean and treats a missing category as its own "
        "value, so training works; but a column that is mostly missing carries little information, and how "
        "values came to be missing can itself bias the model.",
        {"missing": missing, "share": shares, "train_size": train},
        [f"check why {worst} is missing; if it is mostly empty, leave it out of data.inputs",
         "add a yes/no column saying whether the value was present, if absence means something"], layer=worst)


def _constant_features(constant: list[str]) -> Finding:
    columns = ", ".join(constant)
    return Finding(
        "constant_features", "info", f"{len(constant)} input column(s) never change: {columns}",
        "A column with the same value for every training example cannot help tell examples apart; it only "
        "costs parameters (and a value it never had in training will surprise the model later).",
        {"columns": constant}, [f"leave {columns} out of data.inputs (list the inputs to keep there)"])
