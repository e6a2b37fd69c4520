"""What the audit's numbers mean, in plain words: `Finding`s, the same type the training diagnostics use."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from deepscope.diagnose.finding import Finding
from deepscope.explain.fairness.groups import JOIN
from deepscope.explain.fairness.metrics import SMALL_GROUP, GroupStats

FOUR_FIFTHS = 0.8  # the US EEOC's rule of thumb: a group selected at under 4/5 of the best-off group's rate
FAR_BELOW = 0.5  # a ratio under this is "far below" the rule
EQUALIZED_ODDS_LIMIT = 0.1  # a TPR or FPR gap above 10 points between groups is worth a warning


def fairness_findings(groups: Sequence[GroupStats], overall: dict[str, float], *, by: Sequence[str],
                      positive: str, target: str | None = None) -> list[Finding]:
    """Demographic parity against the four-fifths rule, the equalised-odds gap, and every group too small for its
    numbers to be trusted (reported with its interval, never dropped)."""
    findings = []
    measured = [g for g in groups if g.count > 0]
    if len(measured) >= 2:
        findings += _demographic_parity(measured, overall, by, positive, target)
        findings += _equalized_odds(measured, overall, by)
    findings += [_small_group(g, by) for g in groups if g.count < SMALL_GROUP]
    return findings


def _demographic_parity(groups: Sequence[GroupStats], overall: dict[str, float], by: Sequence[str],
                        positive: str, target: str | None) -> list[Finding]:
    ratio = overall["demographic_parity_ratio"]
    if math.isnan(ratio) or ratio >= FOUR_FIFTHS:
        return []
    low = min(groups, key=lambda g: g.values["selection_rate"])
    high = max(groups, key=lambda g: g.values["selection_rate"])
    how_far = "far below" if ratio < FAR_BELOW else "below"
    title = (f"the model predicts {positive} for {_percent(low.values['selection_rate'])} of {describe(low, by)} "
             f"and {_percent(high.values['selection_rate'])} of {describe(high, by)}; a ratio of {ratio:.2f}, "
             f"{how_far} the four-fifths rule's {FOUR_FIFTHS}")
    explanation = (f"In the data itself {_percent(low.values['base_rate'])} of {describe(low, by)} and "
                   f"{_percent(high.values['base_rate'])} of {describe(high, by)} are {positive}: "
                   + ("the model widens the gap that is in the labels."
                      if _ratio(low.values["selection_rate"], high.values["selection_rate"])
                      < _ratio(low.values["base_rate"], high.values["base_rate"])
                      else "much of the gap is in the labels the model learned from."))
    flags = " ".join(f"--by {column}" for column in by)
    # each (group, class) pair weighing the same: balancing the groups alone leaves each group's rate of positives
    # as it is, and on Adult it left the gap unchanged (0.177 -> 0.177); with the class it moved the ratio
    balance = f"[{', '.join([*by, target or 'TARGET'])}]"
    return [Finding(
        code="demographic_parity", severity="warning", title=title, explanation=explanation,
        evidence={"demographic_parity_difference": round(overall["demographic_parity_difference"], 4),
                  "demographic_parity_ratio": round(ratio, 4),
                  "selection_rate": {low.group: round(low.values["selection_rate"], 4),
                                     high.group: round(high.values["selection_rate"], 4)}},
        advice=[f"post-process with a threshold per group: deepscope audit RUN {flags} --mitigate thresholds",
                f"retrain with every group and class weighted alike, data.weights: {{balance: {balance}}}, and audit "
                "again: it raises the ratio at a cost in accuracy, where thresholds close the gap",
                "check the labels: a gap in the data's own base rates is learned as it is"],
    )]


def _equalized_odds(groups: Sequence[GroupStats], overall: dict[str, float], by: Sequence[str]) -> list[Finding]:
    difference = overall["equalized_odds_difference"]
    if math.isnan(difference) or difference <= EQUALIZED_ODDS_LIMIT:
        return []
    spans = [_span(groups, rate, by) for rate in ("tpr", "fpr")]
    title = f"error rates differ between groups: an equalised-odds difference of {difference:.2f}"
    explanation = (f"True-positive rates range {spans[0]}, false-positive rates {spans[1]}: the model is not "
                   "equally right for every group, even among examples of the same true class.")
    return [Finding(
        code="equalized_odds", severity="warning", title=title, explanation=explanation,
        evidence={"equalized_odds_difference": round(difference, 4)},
        advice=[f"post-process with thresholds that equalise both rates: deepscope audit RUN "
                f"{' '.join(f'--by {column}' for column in by)} --mitigate thresholds --constraint equalized_odds",
                "collect more examples of the groups with the lowest true-positive rate"],
    )]


def _small_group(group: GroupStats, by: Sequence[str]) -> Finding:
    low, high = group.intervals["selection_rate"]
    interval = f"[{_percent(low)}, {_percent(high)}]" if not math.isnan(low) else "[undefined]"
    return Finding(
        code="small_group", severity="warning",
        title=f"{describe(group, by)} has only {group.count} example{'s' if group.count != 1 else ''}",
        explanation=(f"Its numbers are reported, but its interval is wide: selection rate "
                     f"{_percent(group.values['selection_rate'])} {interval} (95 % bootstrap interval)."),
        evidence={"group": group.group, "count": group.count, "selection_rate_interval": [round(low, 4),
                                                                                          round(high, 4)]},
        advice=[f"collect more examples of {describe(group, by)}, or group more coarsely (fewer --by columns)"],
    )


def describe(group: GroupStats, by: Sequence[str]) -> str:
    """"sex=Female", or "sex=Female & race=Black" for an intersection."""
    parts = group.group.split(JOIN)
    if len(parts) != len(by):
        return f"{'/'.join(by)}={group.group}"
    return JOIN.join(f"{column}={value}" for column, value in zip(by, parts))


def _span(groups: Sequence[GroupStats], rate: str, by: Sequence[str]) -> str:
    present = [g for g in groups if not math.isnan(g.values[rate])]
    if not present:
        return "(undefined)"
    low = min(present, key=lambda g: g.values[rate])
    high = max(present, key=lambda g: g.values[rate])
    return (f"from {_percent(low.values[rate])} ({describe(low, by)}) to {_percent(high.values[rate])} "
            f"({describe(high, by)})")


def _ratio(low: float, high: float) -> float:
    return low / high if high > 0 else 1.0


def _percent(value: Any) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value * 100:.0f} %"
