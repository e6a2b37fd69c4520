"""Target leakage: an input column that gives the answer away (the label itself, a relabelling of it, or a
number that is nearly the target). The model then learns to read that column, scores near 100 %, and fails on
real data where the column is not known in advance.

Judged on the data profile's `target_leakage` (`deepscope.diagnose.target_relations`, measured on the training
split before training): one error per leaking column, since no score of such a run can be trusted.
"""

from __future__ import annotations

from typing import Any

from deepscope.diagnose.detectors import DETECTORS
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

MEASURES = {  # how each measure reads in a title
    "held_out_accuracy": "predicts {output} for {value:.1%} of training rows on its own",
    "correlation": "has correlation {value:+.3f} with {output}",
    "rank_correlation": "rises and falls with {output} (rank correlation {value:+.3f})",
}


@DETECTORS.register("target_leakage")
def target_leakage(record: Record) -> list[Finding]:
    return [_leaking(relation) for relation in record.data.get("target_leakage", [])]


def _leaking(relation: dict[str, Any]) -> Finding:
    column, output = relation["column"], relation["output"]
    how = MEASURES.get(relation.get("measure", ""), "gives {output} away").format(
        output=output, value=relation.get("value", 0.0))
    keep = relation.get("other_inputs", {})
    inputs = "{" + ", ".join(f"{c}: {kind}" for c, kind in keep.items()) + "}" if keep else "{...}"
    evidence = {k: v for k, v in relation.items() if k != "other_inputs"}
    return Finding(
        "target_leakage", "error", f"Target leakage: input column {column} {how}",
        f"The column {column} carries the answer itself (a copy or a recoding of {output}, or a value only known "
        f"once {output} is). The model learns to read it and scores near perfectly here, but on new data, where "
        f"{column} is not known in advance, it will fail: this run's scores cannot be trusted.",
        evidence,
        [f"leave {column} out of data.inputs: list only the inputs to keep, e.g. inputs: {inputs}",
         f"check how {column} was made: if it is filled in after {output} is known, it cannot be an input"],
        layer=column)
