"""Run the detectors over a record, save or load the result as `diagnosis.json`, and read a run's diagnosis.

    findings = deepscope.diagnose("runs/mnist-20261130-192105")                # what training found
    findings = deepscope.diagnose("runs/mnist-20261130-192105", rejudge=True)  # today's detectors, same record
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from deepscope.diagnose.detectors import load_all
from deepscope.diagnose.finding import SEVERITIES, Finding, worst_first
from deepscope.diagnose.record import Record
from deepscope.errors import UserError
from deepscope.formats import message_number
from deepscope.io import write_json
from deepscope.track.resolve import run_folder
from deepscope.track.rundir import RunDir

DIAGNOSIS_FORMAT = 1

# symptoms that a root cause, when found, already explains: they are kept, as information, pointing to it
CAUSES = ("divergence", "lr_too_low", "lr_too_high", "dead_units", "vanishing_gradients", "exploding_gradients",
          "saturation")
EXPLAINED_BY = {
    **{symptom: CAUSES for symptom in ("plateau", "underfitting", "no_learning", "loss_spikes", "calibration")},
    "dead_units": ("divergence", "lr_too_high"),  # a blow-up knocks ReLUs out; the blow-up is what to fix
    "saturation": ("divergence", "lr_too_high"),
    "vanishing_gradients": ("divergence", "lr_too_high"),  # units the blow-up killed pass back no gradient
    "lr_too_low": ("dead_units", "vanishing_gradients", "saturation"),  # tiny updates because tiny gradients
}
# consequences that keep their severity (they say where and when it broke), with the cause shown before them
ALSO_CAUSED_BY = {"divergence": ("lr_too_high",), "exploding_gradients": ("lr_too_high",)}
# the order a learner should read (and fix) findings of the same severity in: causes before what they cause
ROOT_CAUSE_ORDER = (
    # the data
    "leakage", "target_leakage", "near_duplicates", "conflicting_labels", "duplicates", "skipped_inputs",
    "missing_values", "constant_features", "class_imbalance", "not_enough_data", "learning_curve_noisy",
    "learning_curve_flat",
    # the network before its first step
    "initial_loss", "init_scale", "bias_init",
    # the learning rate, and the blow-up a rate too high causes
    "lr_too_high", "divergence", "exploding_gradients",
    # gradients that do not get through, and the tiny updates they make
    "dead_units", "saturation", "vanishing_gradients", "lr_too_low",
    # what the loss did
    "loss_spikes", "plateau", "no_learning", "underfitting", "overfitting",
    # the trained model
    "calibration", "parameters_vs_examples",
)


def judge(record: Record, *, skip: Iterable[str] = (), only: Iterable[str] | None = None) -> list[Finding]:
    """Every registered detector's findings on `record`, worst first and, within a severity, causes before the
    symptoms they cause (`ROOT_CAUSE_ORDER`); `skip` names detectors to leave out, `only` the ones to run."""
    skipped, chosen = set(skip), set(only) if only is not None else None
    findings: list[Finding] = []
    for name, detector in load_all().items():
        if name not in skipped and (chosen is None or name in chosen):
            findings.extend(detector(record))
    return by_root_cause(_explain_symptoms(findings))


def by_root_cause(findings: list[Finding]) -> list[Finding]:
    """Worst first; within a severity in `ROOT_CAUSE_ORDER` (codes it does not name last, as they came)."""
    rank = {code: i for i, code in enumerate(ROOT_CAUSE_ORDER)}
    return worst_first(sorted(findings, key=lambda f: rank.get(f.code, len(rank))))


def _explain_symptoms(findings: list[Finding]) -> list[Finding]:
    """Demote a symptom to info when one of its root causes was found, so a learner sees what to fix first; and
    show a cause at least as severe as the worst of its symptoms (a rate too high that made training diverge is
    the error to fix, not a warning below it)."""
    found = [f.code for f in by_root_cause(findings) if f.severity != "info"]
    worst_symptom: dict[str, int] = {}
    for finding in findings:
        for cause in (*EXPLAINED_BY.get(finding.code, ()), *ALSO_CAUSED_BY.get(finding.code, ())):
            if cause in found and cause != finding.code:
                worst_symptom[cause] = max(worst_symptom.get(cause, 0), SEVERITIES.index(finding.severity))
    for finding in findings:
        if SEVERITIES.index(finding.severity) < worst_symptom.get(finding.code, 0):
            finding.severity = SEVERITIES[worst_symptom[finding.code]]
    for finding in findings:
        causes = [code for code in dict.fromkeys(found) if code in EXPLAINED_BY.get(finding.code, ())]
        if causes and finding.code not in causes:
            finding.severity = "info"
            finding.explanation += f" This is most likely a consequence of: {', '.join(causes)}."
    return findings


JUDGED_ON_THE_LOSS = ("underfitting", "plateau", "no_learning", "overfitting", "loss_spikes")


def withdrawals(shown: list[dict[str, Any]], findings: list[Finding],
                history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The warnings and errors printed while training that the judgement of the whole run no longer makes, each
    with why: {"code", "severity", "title", "shown_at_epoch", "reason"}.

    A live judgement sees only the epochs so far: "underfitting" at epoch 3 may be a model still warming up. The
    summary says so rather than letting a warning vanish without a word.
    """
    problems = {f.code for f in findings if f.severity != "info"}
    withdrawn = []
    for live in shown:
        if live["code"] in problems:
            continue
        now = next((f for f in findings if f.code == live["code"]), None)
        withdrawn.append({**live, "reason": _why_withdrawn(live, now, history)})
    return withdrawn


def _why_withdrawn(live: dict[str, Any], now: Finding | None, history: list[dict[str, Any]]) -> str:
    judged = f"judged again on all {len(history)} epochs"
    if now is not None:  # still found, but only as information: a root cause found later, or weaker evidence
        marker = "consequence of: "
        cause = now.explanation.rpartition(marker)[2].rstrip(".") if marker in now.explanation else None
        return f"{judged}, it is {f'a consequence of {cause}' if cause else 'only information'} now: {now.title}"
    then = live.get("shown_at_epoch")
    losses = [(h["epoch"], h["train.loss"]) for h in history if isinstance(h.get("train.loss"), (int, float))]
    reason = f"{judged}, the evidence for it is gone"
    at = dict(losses)
    if live["code"] in JUDGED_ON_THE_LOSS and then in at and losses and losses[-1][0] != then:
        reason += (f" (training loss {message_number(at[then])} at epoch {then}, "
                   f"{message_number(losses[-1][1])} at epoch {losses[-1][0]})")
    return reason


def save_diagnosis(path: str | Path, findings: list[Finding], record: Record, *,
                   withdrawn: list[dict[str, Any]] | None = None) -> None:
    """diagnosis.json: {"format": 1, "findings": [...], "record": {...}, "withdrawn": [...]} (written atomically);
    `withdrawn`: the live warnings the end of training no longer supports (`withdrawals`)."""
    write_json(path, {"format": DIAGNOSIS_FORMAT, "findings": [f.to_dict() for f in findings],
                      "record": record.to_dict(), "withdrawn": withdrawn or []})


def load_diagnosis(path: str | Path) -> tuple[list[Finding], Record]:
    path = Path(path)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return [Finding.from_dict(f) for f in data["findings"]], Record.from_dict(data.get("record", {}))
    except FileNotFoundError:
        raise UserError(f"{path}: no diagnosis here; diagnostics are written at the end of `deepscope train`") from None
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"{path}: not a readable diagnosis ({error}); train the run again to rewrite it") from None


def read_findings(run: str | Path, *, rejudge: bool = False) -> list[Finding]:
    """A run's findings, worst first: those saved at the end of training, or with `rejudge` those of the current
    detectors on the record saved beside them (a run trained before a detector was added or improved).

    `run` is a run directory or its diagnosis.json.
    """
    path = Path(run) if Path(run).is_file() else RunDir(run_folder(run, command="diagnose")).diagnosis
    try:
        findings, record = load_diagnosis(path)
    except (OSError, AttributeError) as error:  # unreadable, or JSON of the wrong shape: still the user's file
        raise UserError(f"{path}: not a readable diagnosis ({error}); train the run again to rewrite it") from None
    if not rejudge:
        return findings
    if not any(record.to_dict().values()):
        raise UserError(f"{path}: no record was saved to judge again; drop --rejudge to see the saved findings")
    return judge(record)
