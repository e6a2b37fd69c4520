"""How findings read in a plain (non-colour) console: the words carry the severity, the numbers and the fix."""

from __future__ import annotations

from rich.console import Console

from deepscope.diagnose.console import (
    format_evidence,
    format_finding,
    print_new_finding,
    print_summary,
    summary_header,
)
from deepscope.diagnose.finding import Finding
from deepscope.formats import evidence_number

OVERFITTING = Finding(
    code="overfitting", severity="warning", title="Overfitting from epoch 7",
    explanation="The model has started to memorise the training data instead of learning what carries over.",
    evidence={"best_epoch": 6, "val_loss_best": 0.312345, "val_loss_last": 0.523456},
    advice=["add dropout 0.3 or weight decay 1e-4", "early stopping would have stopped at epoch 9"],
    epoch=7,
)
NAN_LOSS = Finding(
    code="nonfinite", severity="error", title="The loss became NaN at step 120",
    explanation="A number overflowed; every later step learned nothing.",
    evidence={"step": 120, "grad_norm": float("inf")}, advice=["lower the learning rate to 1e-4"],
    layer="encoder.conv1",
)
OVERCONFIDENT = Finding(
    code="calibration", severity="info", title="Predictions are a little over-confident",
    explanation="When the model says 90% it is right 85% of the time.",
    evidence={"ece": 0.0412}, advice=["divide the logits by 1.3 (temperature scaling)", "or collect more data"],
)


def plain_console(width: int = 100) -> Console:
    return Console(record=True, width=width, force_terminal=False, color_system=None)


def rendered(renderable) -> str:
    console = plain_console()
    console.print(renderable)
    return console.export_text()


def summary(findings: list[Finding], **options) -> str:
    console = plain_console()
    print_summary(console, findings, **options)
    return console.export_text()


def test_a_finding_in_full_names_severity_title_evidence_and_every_fix():
    text = rendered(format_finding(OVERFITTING))
    assert "▲ warning" in text and "Overfitting from epoch 7" in text
    assert "memorise the training data" in text
    assert "evidence: best_epoch 6  val_loss_best 0.312  val_loss_last 0.523" in text
    assert "try: add dropout 0.3 or weight decay 1e-4" in text
    assert "try: early stopping would have stopped at epoch 9" in text


def test_short_form_keeps_only_the_title_and_first_fix():
    text = rendered(format_finding(OVERCONFIDENT, detail=False))
    assert "● info" in text and "Predictions are a little over-confident" in text
    assert "try: divide the logits by 1.3" in text
    assert "or collect more data" not in text and "evidence" not in text and "85%" not in text


def test_layer_is_named_when_the_title_does_not():
    text = rendered(format_finding(NAN_LOSS))
    assert "✖ error" in text and "(layer encoder.conv1)" in text
    assert "grad_norm inf" in text


def test_wrapped_lines_stay_indented_without_trailing_spaces():
    long = Finding(code="x", severity="warning", title="Slow learning", explanation="word " * 60)
    console = plain_console(width=40)
    console.print(format_finding(long))
    lines = console.export_text().splitlines()
    assert len(lines) > 3
    assert all(line.startswith("    word") for line in lines[1:])
    assert all(line == line.rstrip() for line in lines)


def test_numbers_round_to_three_significant_digits():
    assert evidence_number(0.312345) == "0.312"
    assert evidence_number(1234.5) == "1230"
    assert evidence_number(2.0) == "2"
    assert evidence_number(0.0001) == "1e-4"
    assert evidence_number(1.23456e-7) == "1.23e-7"
    assert evidence_number(float("nan")) == "nan"


def test_evidence_flattens_dicts_and_shortens_lists():
    evidence = {"val": {"loss": 0.5234, "accuracy": 0.91}, "losses": [0.9, 0.7, 0.6, 0.55, 0.5, 0.45],
                "clipped": False, "optimizer": "adam", "grad_clip": None}
    assert format_evidence(evidence) == ("val.loss 0.523  val.accuracy 0.91  losses [0.9, 0.7, 0.6, 0.55, … 2 more]  "
                                         "clipped no  optimizer adam  grad_clip none")


def test_live_line_is_marker_title_and_first_fix():
    console = plain_console(width=200)
    print_new_finding(console, OVERFITTING)
    lines = console.export_text().splitlines()
    assert lines == ["▲ warning  Overfitting from epoch 7  → try: add dropout 0.3 or weight decay 1e-4"]


def test_live_line_moves_the_fix_to_a_second_line_when_narrow():
    console = plain_console(width=50)
    print_new_finding(console, OVERFITTING)
    lines = console.export_text().splitlines()
    assert lines[0].startswith("▲ warning  Overfitting")
    assert lines[-1].strip().startswith("→ try: add dropout")


def test_summary_counts_and_orders_worst_first_with_info_last_and_short():
    text = summary([OVERCONFIDENT, OVERFITTING, NAN_LOSS])
    assert text.splitlines()[0] == "Diagnosis: 1 error, 1 warning, 1 info"
    assert text.index("The loss became NaN") < text.index("Overfitting") < text.index("over-confident")
    assert "evidence: ece" not in text  # info is shown short
    assert "try: divide the logits by 1.3" in text


def test_summary_counts_plurals():
    second = Finding(code="slow", severity="warning", title="Learning rate too low", explanation="")
    assert summary_header([OVERFITTING, second, OVERCONFIDENT]).plain == "Diagnosis: 2 warnings, 1 info"


def test_healthy_summary_says_no_warnings():
    assert summary([]).strip() == "Diagnosis: healthy — no warnings"
    text = summary([OVERCONFIDENT])
    assert text.splitlines()[0] == "Diagnosis: healthy — no warnings, 1 info"
    assert "Predictions are a little over-confident" in text


def test_hidden_findings_are_still_counted():
    text = summary([OVERCONFIDENT, OVERFITTING], show_info=False)
    assert text.splitlines()[0] == "Diagnosis: 1 warning, 1 info"
    assert "over-confident" not in text and "not shown: 1 info" in text
    text = summary([OVERFITTING, NAN_LOSS], min_severity="error")
    assert "Overfitting" not in text and "not shown: 1 warning" in text
