"""Missing values and constant columns in the inputs."""

from __future__ import annotations

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

MANY_MISSING = 0.2


@DETECTORS.register("data_quality")
def data_quality(record: Record) -> list[Finding]:
    findings = []
    train = record.data.get("sizes", {}).get("train", 0)
    missing = record.data.get("missing", {})
    if missing and train:
        shares = {column: round(n / train, 3) for column, n in missing.items()}
        worst = max(shares, key=shares.get)
        findings.append(Finding(
            "missing_values", "warning" if shares[worst] > MANY_MISSING else "info",
            f"Missing values in {len(missing)} column(s), most in {worst} ({shares[worst]:.0%})",
            "deepscope fills missing numbers with the training mean and treats a missing category as its own "
            "value, so training works; but a column that is mostly missing carries little information, and how "
            "values came to be missing can itself bias the model.",
            {"missing": missing, "share": shares, "train_size": train},
            [f"check why {worst} is missing; drop it from data.inputs if it is mostly empty",
             "add a yes/no column saying whether the value was present, if absence means something"], layer=worst))
    constant = record.data.get("constant", [])
    if constant:
        findings.append(Finding(
            "constant_features", "info", f"{len(constant)} input column(s) never change: {', '.join(constant)}",
            "A column with the same value for every training example cannot help tell examples apart.",
            {"columns": constant}, [f"leave {', '.join(constant)} out of data.inputs"]))
    return findings
