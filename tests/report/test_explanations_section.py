"""The report's Explanations section: maps of the worst test predictions, a table's column importance, text as
highlighted tokens, the faithfulness numbers; a note (never a crash) when nothing can be explained."""

from __future__ import annotations

import re

import numpy as np
import pytest

import deepscope as ds
from deepscope.report import report_body
from deepscope.report.explanations import FAITHFULNESS_EXAMPLES, SHOWN


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> ds.Run:
    root = tmp_path_factory.mktemp("runs")
    config = {"data": {"source": "digits"}, "model": {"encoder": "cnn"}, "train": {"epochs": 2, "batch_size": 64},
              "run": {"root": str(root), "report": False}}
    return ds.train(config, progress=False)


def test_a_digits_cnn_gets_maps_of_its_worst_predictions_and_the_faithfulness_numbers(digits_run, page):
    html = report_body(digits_run.dir, model=digits_run.model, data=digits_run.data)
    page.assert_no_broken_section(html)
    page.assert_self_contained(html)
    section = page.section(html, "explanations")
    assert f"The {SHOWN} worst test predictions" in section
    measured_on = int(re.search(r"numbers are over (\d+) other examples", section).group(1))
    assert FAITHFULNESS_EXAMPLES[0] <= measured_on <= FAITHFULNESS_EXAMPLES[1]  # as many as the time budget allows
    maps = re.findall(r"<img class=\"attribution\" alt=\"(\w+) maps\" src=\"data:image/png;base64,", section)
    assert maps == ["integrated_gradients", "grad_cam"]  # the image defaults, both apply to a CNN
    rows = {method: re.findall(r"<td[^>]*>([^<]*)</td>", cells) for method, cells in
            re.findall(r"<tr><td>(\w+)</td>(.*?)</tr>", section)}
    assert set(rows) == {"integrated_gradients", "grad_cam"}
    deletion, deletion_random, _, insertion, insertion_random, _, completeness = rows["integrated_gradients"]
    assert 0 <= float(deletion) < float(deletion_random) <= 1  # a trained CNN's integrated gradients beat random
    assert float(insertion) > float(insertion_random)
    assert completeness.endswith("%") and float(completeness[:-1]) < 25  # its attributions add up to the change
    assert rows["grad_cam"][-1] == "-"  # completeness is integrated gradients' own check


def test_a_table_run_gets_the_column_importance_bar_chart(tmp_path, page):
    rng = np.random.default_rng(0)
    signal, noise = rng.normal(size=400), rng.normal(size=400)
    lines = ["signal,noise,label"] + [f"{s:.3f},{n:.3f},{'yes' if s > 0 else 'no'}" for s, n in zip(signal, noise)]
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n")
    run = ds.train({"data": {"source": str(tmp_path / "rows.csv"), "outputs": {"label": "category"}},
                    "train": {"epochs": 5, "batch_size": 32}, "run": {"root": str(tmp_path / "runs"), "report": False}},
                   progress=False)
    html = report_body(run.dir)
    page.assert_no_broken_section(html)
    section = page.section(html, "explanations")
    assert "<h3>Column importance</h3>" in section
    assert re.search(r"<img class=\"chart\" alt=\"permutation importance\" src=\"data:image/png;base64,", section)
    leaned = re.findall(r"<tr><td>true [^<]*</td><td>(\w+) \(", section)  # each row's most attributed column
    assert leaned and leaned.count("signal") > len(leaned) / 2


def test_a_text_run_gets_escaped_highlighted_tokens(tmp_path, page):
    rng = np.random.default_rng(0)
    good, bad = ["great", "fine", "lovely"], ["dull", "awful", "boring"]
    lines = ["sentence,label"] + [
        f"{' '.join(rng.choice(good if i % 2 else bad, 3))} <script>x</script>,{'pos' if i % 2 else 'neg'}"
        for i in range(80)]
    (tmp_path / "reviews.csv").write_text("\n".join(lines) + "\n")
    run = ds.train({"data": {"source": str(tmp_path / "reviews.csv"), "inputs": {"sentence": "text"},
                             "outputs": {"label": "category"}}, "model": {"encoder": {"name": "cnn1d"}},
                    "train": {"epochs": 2, "batch_size": 16}, "run": {"root": str(tmp_path / "runs"), "report": False}},
                   progress=False)
    html = report_body(run.dir, model=run.model, data=run.data)
    page.assert_no_broken_section(html)
    page.assert_self_contained(html)  # a <script> token is shown as text, never run
    section = page.section(html, "explanations")
    assert "class=\"ds-tokens\"" in section and "class=\"tok\"" in section
    assert "<img" not in section  # the tokens are HTML, not a picture
    assert "integrated_gradients</td>" in section  # its faithfulness numbers


def test_without_the_model_the_section_is_a_note(digits_run, page):
    section = page.section(report_body(digits_run.dir, load=False), "explanations")
    assert "Explanations need the model and the data" in section and "<img" not in section


def test_a_model_with_no_attribution_method_gets_a_note(digits_run, monkeypatch, page):
    from deepscope.report import explanations

    monkeypatch.setattr(explanations, "applicable_methods", lambda view: [])
    html = report_body(digits_run.dir, model=digits_run.model, data=digits_run.data)
    page.assert_no_broken_section(html)
    assert "No attribution method applies to this model" in page.section(html, "explanations")


def test_deepscope_report_writes_the_section_from_the_run_folder(digits_run, page):
    html = ds.report(digits_run.dir).read_text()
    assert "<section id=\"explanations\">" in html and "integrated gradients" in page.section(html, "explanations")
