"""Inputs the data source left out while reading: lines not valid in the file's encoding, unreadable or empty
files, corrupt images or recordings.

Judged on the data profile's `skipped` (every input left out, as "<path>[, line N]: <reason>"; diagnosis.json
keeps the whole list) and `sizes`. What a reader leaves out is rarely a random sample: the lines of a sentiment
corpus that are not UTF-8 are the sentences with accented names (1.9 % of rt-polarity when read as UTF-8), the
corrupt images come from one scanner. The model then never sees those cases, and its test score says nothing
about them, because they are missing from the test split too.
"""

from __future__ import annotations

import re
from collections import Counter

from deepscope.data.sources.base import split_skipped
from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

MANY_SKIPPED = 0.005  # left out more than this share of all inputs (0.5 %): a warning, not just information
FIRST_SHOWN = 5  # entries the evidence quotes; the profile in diagnosis.json has them all
DETAILS = re.compile(r"\s*\(.*\)$")  # "not valid utf-8 text (byte 0xe9 at column 5)": the kind is before them


@DETECTORS.register("skipped_inputs")
def skipped_inputs(record: Record) -> list[Finding]:
    skipped = [entry for entry in record.data.get("skipped", []) if isinstance(entry, str)]
    if not skipped:
        return []
    kept = sum(n for n in record.data.get("sizes", {}).values() if isinstance(n, int))
    share = len(skipped) / (kept + len(skipped))
    reasons = Counter(_reason(entry) for entry in skipped)
    encoding = any(reason.startswith("not valid") and reason.endswith("text") for reason in reasons)
    advice = (["give the file's encoding as data.encoding (cp1252 for Windows files, latin-1, cp1250, ...), or "
               "leave data.encoding out to read lines that are not UTF-8 as Windows-1252"] if encoding else [])
    advice.append("look at the first few listed in diagnosis.json (record.data.skipped) and fix or remove them; "
                  "then the model sees those cases too")
    return [Finding(
        "skipped_inputs", "warning" if share > MANY_SKIPPED else "info",
        f"{len(skipped):,} input(s) were left out while reading the data ({share:.1%} of all); most often: "
        f"{reasons.most_common(1)[0][0]}",
        "What could not be read is not part of the training, validation or test data. It is rarely a random "
        "sample (lines with accented names, images from one scanner), so the model never learns those cases "
        "and its test score says nothing about them.",
        {"skipped": len(skipped), "kept": kept, "share": round(share, 4), "reasons": dict(reasons.most_common()),
         "first": skipped[:FIRST_SHOWN]},
        advice,
    )]


def _reason(entry: str) -> str:
    """The kind of problem of one entry: its reason without the path, the line number or the details."""
    return DETAILS.sub("", split_skipped(entry)[1]) or entry
