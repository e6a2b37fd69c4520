"""How the classifier treats groups of people, from RUN/audit.json (written by `deepscope audit RUN --by COLUMN`):
the rates per group with their 95 % intervals, the disparity overall, the findings, and the before / after of
group thresholds when the audit fitted them.

audit.json is read as untrusted data (track/runfiles.py: bounded, never through a link): a run folder may come
from someone else, so every value is checked for its type before it is shown, shown escaped, and a file that is
not an audit gives a note instead of the section.
"""

from __future__ import annotations

import math
from typing import Any

from deepscope.explain.fairness.metrics import RATES
from deepscope.report.context import ReportContext
from deepscope.report.diagnostics import finding_html
from deepscope.report.html import escape, note, paragraph, table
from deepscope.track.runfiles import MB, folder_text, parse_json

AUDIT_FILE = "audit.json"  # run/audit.py writes it (the report sits below run and cannot import the name)
READ_LIMIT = 8 * MB  # an intersection of several columns has many groups; far above a real audit, far below harm
MAX_GROUPS = 200  # rows of the group table: the worst slices come first in the file
SHOWN_RATES = ("selection_rate", "base_rate", "accuracy", "tpr", "fpr", "precision", "calibration_error")
HEADERS = {"selection_rate": "selection rate", "base_rate": "base rate", "accuracy": "accuracy", "tpr": "TPR",
           "fpr": "FPR", "precision": "precision", "calibration_error": "calibration error"}
OVERALL = {"accuracy": "accuracy", "selection_rate": "selection rate",
           "demographic_parity_difference": "demographic parity difference",
           "demographic_parity_ratio": "demographic parity ratio (four-fifths rule: at least 0.8)",
           "equalized_odds_difference": "equalised odds difference"}


def render(context: ReportContext) -> str:
    text, problem = folder_text(context.path, AUDIT_FILE, READ_LIMIT)
    if problem:
        return note(f"The fairness audit cannot be shown: {problem}.", "problem")
    if text is None:
        return note("No fairness audit in this run: `deepscope audit RUN --by COLUMN` measures how the model treats "
                    "the groups of a column (sex, age...) and writes audit.json, which this section shows.")
    audit, problem = parse_json(text, AUDIT_FILE)
    if problem or not isinstance(audit, dict) or not isinstance(audit.get("groups"), list):
        problem = problem or f"{AUDIT_FILE} is not an audit written by deepscope"
        return note(f"The fairness audit cannot be shown: {problem}.", "problem")
    positive = _text(audit.get("positive"))
    by = audit.get("by") if isinstance(audit.get("by"), list) else []
    where = ", ".join(f"{k} {_text(audit[k])}" for k in ("split", "output") if isinstance(audit.get(k), str))
    parts = [paragraph(f"Groups by {' x '.join(map(_text, by)) or '?'}" + (f" ({where})" if where else "")
                       + f": each rate is of predicting {positive!s} against the rest, with its 95 % bootstrap "
                       "interval; the worst slices first.", "muted"),
             group_table(audit["groups"]),
             paragraph("; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in RATES.items()) + ".", "muted"),
             "<h3>Disparity overall</h3>", _overall_table(audit.get("overall"))]
    findings = [f for f in audit.get("findings") or [] if isinstance(f, dict)] if isinstance(
        audit.get("findings"), list) else []
    parts += [finding_html(f) for f in findings] or [paragraph("The audit found no gap to report.")]
    if isinstance(audit.get("mitigation"), dict):
        parts.append(mitigation_html(audit["mitigation"]))
    return "\n".join(parts)


def group_table(groups: list[Any]) -> str:
    rows = []
    for group in groups[:MAX_GROUPS]:
        if not isinstance(group, dict):
            continue
        intervals = group.get("intervals") if isinstance(group.get("intervals"), dict) else {}
        rows.append([_text(group.get("group")), _count(group.get("count")),
                     *(_rate(group.get(rate), intervals.get(rate)) for rate in SHOWN_RATES)])
    if not rows:
        return note("audit.json lists no groups.")
    left_out = len(groups) - MAX_GROUPS
    return table(["group", "count", *(HEADERS[r] for r in SHOWN_RATES)], rows,
                 numeric=[False] + [True] * (len(SHOWN_RATES) + 1)) + (
        paragraph(f"{left_out:,} more groups are not shown.", "muted") if left_out > 0 else "")


def _overall_table(overall: Any) -> str:
    if not isinstance(overall, dict):
        return note("audit.json has no overall disparity numbers.")
    return table(["measure", "value"], [[label, _value(overall.get(key))] for key, label in OVERALL.items()],
                 numeric=[False, True])


def mitigation_html(mitigation: dict[str, Any]) -> str:
    """Before / after of the group thresholds on the audited split, and the thresholds themselves."""
    before = mitigation.get("before") if isinstance(mitigation.get("before"), dict) else {}
    after = mitigation.get("after") if isinstance(mitigation.get("after"), dict) else {}
    what = (f"{_text(mitigation.get('method', 'mitigation'))} ({_text(mitigation.get('constraint', '?'))}, fitted on "
            f"the {_text(mitigation.get('fitted_on', 'validation'))} split, measured on the audited one)")
    parts = [f"<h3>Mitigation: {escape(what)}</h3>",
             table(["measure", "before", "after"],
                   [[label, _value(before.get(key)), _value(after.get(key))] for key, label in OVERALL.items()],
                   numeric=[False, True, True])]
    thresholds = mitigation.get("thresholds")
    if isinstance(thresholds, dict) and thresholds:
        rows = [[_text(group), _rules(rules)] for group, rules in list(thresholds.items())[:MAX_GROUPS]]
        parts.append(table(["group", "predict the positive class when the score is"], rows))
    return "\n".join(parts)


def _rules(rules: Any) -> str:
    """'> 0.42' or '> 0.40 (70 % of the group), > 0.55 (30 %)': fairlearn may mix two thresholds in a group."""
    if not isinstance(rules, list):
        return "?"
    shown = []
    for rule in rules[:4]:
        if not isinstance(rule, dict):
            continue
        threshold, weight = _finite(rule.get("threshold")), _finite(rule.get("weight"))
        text = f"{_text(rule.get('operator', '>'))[:4]} {threshold:.3f}" if threshold is not None else "?"
        shown.append(text + (f" ({weight:.0%} of the group)" if weight is not None and weight < 1 else ""))
    return ", ".join(shown) or "?"


def _rate(value: Any, interval: Any) -> str:
    """'8.2 % (7.5-8.8)'; '-' where undefined (no positives in the group, say)."""
    point = _finite(value)
    if point is None:
        return "-"
    low, high = (_finite(interval[0]), _finite(interval[1])) if isinstance(interval, list) and len(interval) == 2 \
        else (None, None)
    return f"{point:.1%}" + (f" ({low:.1%}-{high:.1%})" if low is not None and high is not None else "")


def _value(value: Any) -> Any:
    number = _finite(value)
    return round(number, 4) if number is not None else "-"


def _count(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else "?"


def _finite(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _text(value: Any, limit: int = 200) -> str:
    """A string from the file, cut (the table escapes it)."""
    text = value if isinstance(value, str) else "?" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "..."
