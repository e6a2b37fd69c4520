"""The report's Fairness section, from RUN/audit.json as `deepscope audit` writes it: the group table with intervals,
the disparity, the findings, the mitigation's before / after; a damaged or hostile file gives a note, escaped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from deepscope.explain.fairness import audit_predictions
from deepscope.report import report_body


def planted_audit() -> dict:
    """An audit of a planted biased classifier: group "b" is selected far less often than group "a"."""
    rng = np.random.default_rng(0)
    groups = np.array(["a"] * 300 + ["b"] * 300)
    y_true = rng.integers(0, 2, 600)
    y_pred = np.where(groups == "a", rng.random(600) < 0.6, rng.random(600) < 0.1).astype(int)
    audit = audit_predictions(y_true, y_pred, np.clip(y_pred * 0.8 + 0.1, 0, 1), groups, by=["sex"], positive=">50K",
                              resamples=50)
    made = audit.to_dict()
    made["mitigation"] = {"method": "thresholds", "constraint": "demographic_parity", "fitted_on": "val",
                          "thresholds": {"a": [{"threshold": 0.61, "operator": ">", "weight": 1.0}],
                                         "b": [{"threshold": 0.25, "operator": ">", "weight": 0.7},
                                               {"threshold": 0.1, "operator": ">", "weight": 0.3}]},
                          "before": audit.overall, "after": {**audit.overall, "demographic_parity_difference": 0.012}}
    return made


def fairness_of(folder: Path, page) -> str:
    html = report_body(folder, load=False)
    page.assert_no_broken_section(html)
    page.assert_self_contained(html)
    return page.section(html, "fairness")


def test_an_audit_shows_its_groups_disparity_findings_and_mitigation(tmp_path, page):
    audit = planted_audit()
    (tmp_path / "audit.json").write_text(json.dumps(audit))
    section = fairness_of(tmp_path, page)
    a = next(g for g in audit["groups"] if g["group"] == "a")
    low, high = a["intervals"]["selection_rate"]
    assert f"<td>{a['selection_rate']:.1%} ({low:.1%}-{high:.1%})</td>" in section  # the rate and its interval
    assert f"<td class=\"num\">{a['count']}</td>" in section
    for header in ("selection rate", "accuracy", "TPR", "FPR"):
        assert f"<th class=\"num\">{header}</th>" in section
    ratio = audit["overall"]["demographic_parity_ratio"]
    assert ratio < 0.5 and f"{ratio:.4f}" in section
    assert "badge warning" in section and "four-fifths" in section  # the demographic parity finding
    assert "Mitigation: thresholds (demographic_parity" in section
    assert "<td class=\"num\">0.0120</td>" in section  # the parity difference after
    assert "&gt; 0.250 (70% of the group), &gt; 0.100 (30% of the group)" in section


def test_without_an_audit_the_section_says_how_to_run_one(tmp_path, page):
    assert "deepscope audit RUN --by COLUMN" in fairness_of(tmp_path, page)


@pytest.mark.parametrize("content", ["junk{", "[1, 2]", "[" * 3000, "{\"groups\": 3}", "\"a string\""])
def test_a_damaged_audit_gives_a_note(tmp_path, page, content):
    (tmp_path / "audit.json").write_text(content)
    section = fairness_of(tmp_path, page)
    assert "The fairness audit cannot be shown" in section and "<table" not in section


def test_hostile_values_are_escaped_and_odd_types_shown_as_unknown(tmp_path, page):
    audit = planted_audit()
    audit["groups"][0]["group"] = "<script>alert(1)</script>"
    audit["groups"][1].update(count="many", selection_rate="<b>high</b>", intervals=[1, 2])
    audit["groups"].append("not a group")
    audit["by"] = ["<img src=x onerror=alert(1)>"]
    audit["findings"].append({"severity": "<i>", "title": "<script>bad()</script>", "advice": "<a href=x>"})
    audit["mitigation"]["thresholds"]["<svg onload=x>"] = [{"threshold": "0.5", "operator": "<script>"}]
    audit["overall"] = [1, 2]
    (tmp_path / "audit.json").write_text(json.dumps(audit))
    section = fairness_of(tmp_path, page)
    assert "<script" not in section and "<img" not in section and "<svg" not in section and "<b>" not in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "&lt;script&gt;bad()&lt;/script&gt;" in section
    assert "has no overall disparity numbers" in section
    assert "<td class=\"num\">?</td>" in section or "<td>?</td>" in section  # the count that is not a number


def test_an_audit_that_links_out_of_the_run_is_not_read(tmp_path, page):
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps(planted_audit()))
    run = tmp_path / "run"
    run.mkdir()
    os.symlink(outside, run / "audit.json")
    section = fairness_of(run, page)
    assert "link out of the run folder" in section and "<table" not in section
