"""The same examples in training and in validation/test data (an optimistic score), duplicates within the
training data, and identical inputs with different labels.

Judged on the exact-duplicate counts of the data profile (`record.data["duplicates"]`), and for images on the
edited copies it found (shifted, cropped, brightened or re-encoded training images, `near_duplicates.py`). Other
near-duplicates are given as evidence only, since coarse rounding also merges genuinely different rows of
low-dimensional tables.
"""

from __future__ import annotations

from typing import Any

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

ERROR_SHARE = 0.05  # more than this share of a held-out split copied from training: its score is not to be trusted
# edited image copies: clean MNIST has 0.5 % look-alikes flagged (bench/near_duplicates.py), so only a share
# well above that is reported
NEAR_COPY_SHARE = 0.02


@DETECTORS.register("leakage")
def leakage(record: Record) -> list[Finding]:
    duplicates, sizes = record.data.get("duplicates", {}), record.data.get("sizes", {})
    if not duplicates:
        return []
    findings = [f for split in ("test", "val") if (f := _leaked(duplicates, sizes, split))]
    findings += [f for split in ("test", "val") if (f := _edited_copies(duplicates, sizes, split))]
    if duplicates.get("within_train"):
        findings.append(_repeated(duplicates, sizes))
    if duplicates.get("conflicting_labels"):
        findings.append(_conflicting(duplicates))
    return findings


def _leaked(duplicates: dict[str, Any], sizes: dict[str, int], split: str) -> Finding | None:
    n, size = duplicates.get(f"train_{split}", 0), sizes.get(split, 0)
    if not size or not n:
        return None
    share = n / size
    name = "test" if split == "test" else "validation"
    return Finding(
        "leakage", "error" if share > ERROR_SHARE else "warning",
        f"Leakage: {n} of {size} {name} examples ({share:.0%}) also appear in the training data",
        f"The model has seen these {name} examples during training, so its {name} score overstates how it will "
        "do on new data. Duplicates usually come from collecting the same item twice or from splitting after "
        "augmenting; related items (the same patient, speaker or photo session) leak the same way.",
        {f"train_{split}": n, f"{split}_size": size, "share": round(share, 4),
         f"near_train_{split}": duplicates.get(f"near_train_{split}", 0),
         "example_rows": duplicates.get(f"train_{split}_examples", [])},
        ["remove duplicate rows before splitting (the split then cannot put copies on both sides)",
         "split by group (patient, speaker, session) so related examples stay on one side",
         f"until then, read the {name} score as optimistic"], layer=split)


def _edited_copies(duplicates: dict[str, Any], sizes: dict[str, int], split: str) -> Finding | None:
    n, size = duplicates.get(f"near_train_{split}_edited", 0), sizes.get(split, 0)
    if not size or n / size <= NEAR_COPY_SHARE:
        return None
    share = n / size
    name = "test" if split == "test" else "validation"
    examples = list(zip(duplicates.get(f"near_train_{split}_examples", []),
                        duplicates.get(f"near_train_{split}_sources", [])))
    return Finding(
        "near_duplicates", "error" if share > ERROR_SHARE else "warning",
        f"Leakage: {n} of {size} {name} images ({share:.0%}) are edited copies of training images",
        f"These {name} images are training images shifted, cropped, brightened or re-saved, so the model has "
        f"in effect seen them, and its {name} score overstates how it will do on new images. Such copies "
        "usually come from augmenting (or collecting the same picture twice) before splitting.",
        {f"near_train_{split}_edited": n, f"{split}_size": size, "share": round(share, 4),
         "example_pairs": [{split: row, "train": source} for row, source in examples],
         "cosine": duplicates.get(f"near_train_{split}_cosine", [])},
        ["split the original images first and augment only the training split",
         f"remove the copies from the {name} data (the example rows are listed), or split by the original image",
         f"until then, read the {name} score as optimistic"], layer=split)


def _repeated(duplicates: dict[str, Any], sizes: dict[str, int]) -> Finding:
    n, total = duplicates["within_train"], sizes.get("train", 0)
    return Finding(
        "duplicates", "info", f"{n} training examples are exact copies of others",
        "Repeated examples count several times in the loss, so the model leans towards them; a few are "
        "harmless, many make the training data smaller than it looks.",
        {"within_train": n, "train_size": total, **({"share": round(n / total, 4)} if total else {}),
         "example_rows": duplicates.get("within_train_examples", [])},
        ["remove the duplicate rows from the data before training"])


def _conflicting(duplicates: dict[str, Any]) -> Finding:
    n = duplicates["conflicting_labels"]
    return Finding(
        "conflicting_labels", "warning", f"{n} groups of identical training inputs carry different labels",
        "The same input cannot have two right answers: some of these labels are wrong, or the inputs leave out "
        "what tells the classes apart. No model can get all of them right.",
        {"groups": n, "example_rows": duplicates.get("conflicting_labels_examples", [])},
        ["check and correct the labels of the identical examples",
         "add the input that tells them apart, if there is one"])
