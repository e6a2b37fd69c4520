"""How findings read to a learner in the console: a live line while training, a summary at the end.

    ▲ warning  Overfitting from epoch 7
        The model has started to memorise the training data ...
        evidence: best_epoch 6  val_loss_best 0.31  val_loss_last 0.52
        try: add dropout 0.3 or weight decay 1e-4

Colours only underline what the words already say: piped into a log or CI there are none, so every line
names its severity and what each number is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from deepscope.diagnose.finding import (
    SEVERITIES,
    Finding,
    Severity,
    at_least,
    worst_first,
)
from deepscope.formats import evidence_number

MARKERS: dict[Severity, tuple[str, str]] = {
    "error": ("✖ error", "bold red"),
    "warning": ("▲ warning", "bold yellow"),
    "info": ("● info", "bold blue"),
}
MARKER_WIDTH = max(len(marker) for marker, _ in MARKERS.values()) + 2  # titles line up whatever the severity
WITHDRAWN = "↺ withdrawn"  # a warning printed while training that the end of the run takes back
INDENT = 4

LIST_ITEMS_SHOWN = 4  # a list of per-epoch values reads as a trend; the file keeps the rest
TEXT_CHARS_SHOWN = 60


# --- one finding ------------------------------------------------------------------------------------------------
def format_finding(finding: Finding, *, detail: bool = True) -> RenderableType:
    """The marker and title, then (detail) the explanation, the evidence and one "try:" line per advice item.

    Without detail, only the first advice item follows the title: enough to act on, short enough to skim.
    """
    advice = finding.advice if detail else finding.advice[:1]
    body: list[Text] = []
    if detail and finding.explanation:
        body.append(Text(finding.explanation))
    if detail and finding.evidence:
        body.append(Text.assemble(("evidence: ", "dim"), format_evidence(finding.evidence)))
    body.extend(_advice_line(item) for item in advice)
    return Group(_headline(finding), *(Indented(line) for line in body))


def print_new_finding(console: Console, finding: Finding) -> None:
    """The live form, printed once when training first notices something: marker, title and the first fix.

    One line when it fits the console, else the advice goes on a second, indented line.
    """
    headline = _headline_text(finding)
    advice = Text.assemble(("→ ", "dim"), _advice_line(finding.advice[0])) if finding.advice else None
    if advice is not None and headline.cell_len + 2 + advice.cell_len <= console.width:
        console.print(Text.assemble(headline, "  ", advice), highlight=False)
        return
    console.print(_headline(finding), highlight=False)
    if advice is not None:
        console.print(Indented(advice), highlight=False)


# --- a whole diagnosis ------------------------------------------------------------------------------------------
def print_summary(console: Console, findings: list[Finding], *, show_info: bool = True,
                  min_severity: Severity = "info", withdrawn: list[dict[str, Any]] | None = None) -> None:
    """A header counting the findings, then each one worst first: problems in full, info ones last and short;
    then the warnings printed during training that the whole run no longer supports, and why (`withdrawn`).

    `show_info=False` is `min_severity="warning"`. The header still counts what is not shown, and a last line
    says so, so that hiding the details never makes a run look healthier than it is.
    """
    if not show_info and min_severity == "info":
        min_severity = "warning"
    shown, hidden = _split_by_severity(worst_first(findings), min_severity)
    console.print(summary_header(findings, withdrawn=len(withdrawn or [])), highlight=False)
    for finding in shown:
        console.print()
        console.print(format_finding(finding, detail=finding.severity != "info"), highlight=False)
    for entry in withdrawn or []:
        console.print()
        console.print(format_withdrawn(entry), highlight=False)
    if hidden:
        console.print()
        console.print(Text(f"not shown: {_count_phrase(hidden)}", style="dim"), highlight=False)


def summary_header(findings: list[Finding], *, withdrawn: int = 0) -> Text:
    """"Diagnosis: 1 error, 2 warnings, 1 info" or "Diagnosis: healthy — no warnings"; with `withdrawn` live
    warnings, "(1 warning shown during training withdrawn)" after it, so "healthy" never contradicts the log."""
    problems = [f for f in findings if f.severity != "info"]
    text = Text("Diagnosis: ", style="bold")
    if problems:
        text.append(_count_phrase(findings), style="bold red" if _has_error(findings) else "bold yellow")
    else:
        text.append("healthy — no warnings", style="bold green")
        if findings:  # info only: worth reading, nothing to fix
            text.append(f", {_count_phrase(findings)}")
    if withdrawn:
        text.append(f" ({withdrawn} {'warning' if withdrawn == 1 else 'warnings'} shown during training withdrawn)")
    return text


def format_withdrawn(entry: dict[str, Any]) -> RenderableType:
    """A live warning taken back: its title as printed, when, and why the whole run no longer supports it."""
    epoch = entry.get("shown_at_epoch")
    when = f"shown at epoch {epoch}" if epoch else "shown during training"
    headline = Indented(Text.assemble((entry.get("title") or entry["code"], "bold"), (f"  ({when})", "dim")),
                        indent=len(WITHDRAWN) + 2, first_line=Text(WITHDRAWN + "  ", style="bold"))
    return Group(headline, Indented(Text.assemble(("withdrawn: ", "dim"), entry.get("reason") or "")))


# --- evidence: compact `key value` pairs ------------------------------------------------------------------------
def format_evidence(evidence: dict[str, Any]) -> str:
    """`key value` pairs, two spaces apart; nested dicts become dotted keys (`val.loss 0.52`)."""
    return "  ".join(f"{key} {format_value(value)}" for key, value in _flatten(evidence))


def format_value(value: Any) -> str:
    """One evidence value, short: floats to 3 significant digits, long lists and strings cut."""
    if isinstance(value, bool):  # before numbers: True is an int
        return "yes" if value else "no"
    if isinstance(value, _More):
        return str(value)
    if isinstance(value, float):
        return evidence_number(value)
    if isinstance(value, (list, tuple)):
        return _format_list(value)
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k} {format_value(v)}" for k, v in _flatten(value)) + ")"
    if value is None:
        return "none"
    text = str(value)
    return text if len(text) <= TEXT_CHARS_SHOWN else text[: TEXT_CHARS_SHOWN - 1] + "…"


def _flatten(evidence: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in evidence.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            # a per-layer table of a deep network would bury the rest: its first entries, then how many more
            yield from _flatten(dict(list(value.items())[:LIST_ITEMS_SHOWN]), f"{name}.")
            if len(value) > LIST_ITEMS_SHOWN:
                yield name, _More(len(value) - LIST_ITEMS_SHOWN)
        else:
            yield name, value


class _More(int):
    """A count of entries left out, shown as `… 17 more`."""

    def __str__(self) -> str:
        return f"… {int(self)} more (all in diagnosis.json)"


def _format_list(values: list[Any] | tuple[Any, ...]) -> str:
    shown = [format_value(v) for v in values[:LIST_ITEMS_SHOWN]]
    if len(values) > LIST_ITEMS_SHOWN:
        shown.append(f"… {len(values) - LIST_ITEMS_SHOWN} more")
    return "[" + ", ".join(shown) + "]"


# --- pieces -----------------------------------------------------------------------------------------------------
class Indented:
    """Text wrapped to the console and indented, every line: rich's own wrapping would start continuation
    lines at the margin, and Padding fills lines with trailing spaces that end up in logs."""

    def __init__(self, text: Text, *, indent: int = INDENT, first_line: Text | None = None):
        self.text, self.indent, self.first_line = text, indent, first_line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = self.text.wrap(console, max(options.max_width - self.indent, 20))
        for number, line in enumerate(lines):
            line.rstrip()
            prefix = self.first_line if number == 0 and self.first_line is not None else Text(" " * self.indent)
            yield Text.assemble(prefix, line)


def _headline(finding: Finding) -> Indented:
    """The marker, then the title; a long title wraps under itself, leaving the marker column clear."""
    marker, style = MARKERS[finding.severity]
    return Indented(_title(finding), indent=MARKER_WIDTH, first_line=Text(marker.ljust(MARKER_WIDTH), style=style))


def _headline_text(finding: Finding) -> Text:
    marker, style = MARKERS[finding.severity]
    return Text.assemble((marker.ljust(MARKER_WIDTH), style), _title(finding))


def _title(finding: Finding) -> Text:
    title = Text(finding.title, style="bold")
    if finding.layer and finding.layer not in finding.title:
        title.append(f"  (layer {finding.layer})", style="dim")
    return title


def _advice_line(item: str) -> Text:
    return Text.assemble(("try: ", "bold green"), item)


def _split_by_severity(findings: list[Finding], min_severity: Severity) -> tuple[list[Finding], list[Finding]]:
    shown = at_least(findings, min_severity)
    return shown, [f for f in findings if f not in shown]


def _count_phrase(findings: list[Finding]) -> str:
    """"1 error, 2 warnings, 1 info", worst first; "info" has no plural."""
    parts = []
    for severity in reversed(SEVERITIES):
        n = sum(f.severity == severity for f in findings)
        if n:
            parts.append(f"{n} {severity}" + ("s" if n > 1 and severity != "info" else ""))
    return ", ".join(parts)


def _has_error(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
