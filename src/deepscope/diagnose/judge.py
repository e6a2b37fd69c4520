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
from deepscope.diagnose.finding import Finding, worst_first
from deepscope.diagnose.record import Record
from deepscope.errors import UserError
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
    "lr_too_low": ("dead_units", "vanishing_gradients", "saturation"),  # tiny updates because tiny gradients
}


def judge(record: Record, *, skip: Iterable[str] = (), only: Iterable[str] | None = None) -> list[Finding]:
    """Every registered detector's findings on `record`, worst first; `skip` names detectors to leave out,
    `only` the ones to run."""
    skipped, chosen = set(skip), set(only) if only is not None else None
    findings: list[Finding] = []
    for name, detector in load_all().items():
        if name not in skipped and (chosen is None or name in chosen):
            findings.extend(detector(record))
    return worst_first(_explain_symptoms(findings))


def _explain_symptoms(findings: list[Finding]) -> list[Finding]:
    """Demote a symptom to info when one of its root causes was found, so a learner sees what to fix first."""
    found = [f.code for f in findings if f.severity != "info"]
    for finding in findings:
        causes = [code for code in dict.fromkeys(found) if code in EXPLAINED_BY.get(finding.code, ())]
        if causes and finding.code not in causes:
            finding.severity = "info"
            finding.explanation += f" This is most likely a consequence of: {', '.join(causes)}."
    return findings


def save_diagnosis(path: str | Path, findings: list[Finding], record: Record) -> None:
    """diagnosis.json: {"format": 1, "findings": [...], "record": {...}} (written atomically)."""
    write_json(path, {"format": DIAGNOSIS_FORMAT, "findings": [f.to_dict() for f in findings],
                      "record": record.to_dict()})


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
