"""A finding: one thing the diagnostics noticed, with the evidence and what to do about it.

    Finding(code="overfitting", severity="warning", title="Overfitting from epoch 7",
            explanation="The model has started to memorise the training data ...",
            evidence={"best_epoch": 6, "val_loss_best": 0.31, "val_loss_last": 0.52},
            advice=["add dropout 0.3 or weight decay 1e-4", "early stopping would have stopped at epoch 9"],
            epoch=7)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")


@dataclass
class Finding:
    code: str  # stable identifier, e.g. "vanishing_gradients"
    severity: Severity
    title: str  # one line a learner can read at a glance
    explanation: str  # what it means, in plain words
    evidence: dict[str, Any] = field(default_factory=dict)  # numbers, layer names, epochs (JSON values)
    advice: list[str] = field(default_factory=list)  # concrete changes, most useful first
    epoch: int | None = None  # where it began, when that is known (1-based)
    step: int | None = None
    layer: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    @property
    def key(self) -> str:
        """What makes two findings the same one (for showing each only once while training)."""
        return f"{self.code}:{self.layer or ''}"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def at_least(findings: list[Finding], severity: Severity) -> list[Finding]:
    """The findings of `severity` or worse."""
    rank = SEVERITIES.index(severity)
    return [f for f in findings if SEVERITIES.index(f.severity) >= rank]


def worst_first(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: -SEVERITIES.index(f.severity))
