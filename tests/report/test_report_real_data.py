"""The report of an MNIST run, a BreastMNIST run and a forecasting run (the shipped examples, trained briefly on
the real data) each render their task-specific sections. Skipped without the shared datasets (DEEPSCOPE_DATA)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import deepscope as ds
from deepscope.report import render_report, write_report

EXAMPLES = Path(__file__).parents[2] / "examples"


def confusion_rows(evaluation: str) -> list[str]:
    table = re.search(r"<table class=\"cm\">(.*?)</table>", evaluation, re.S).group(1)
    return re.findall(r"<tr><th>([^<]*)</th><td", table)


def test_mnist_report_from_the_run_folder(data_dir, tmp_path, page):
    # the example as shipped, on 3,000 training images: the report reads everything back from the run folder
    run = ds.train(EXAMPLES / "mnist.yaml", {"run.root": str(tmp_path), "data.limit": 3000}, progress=False)
    started = time.perf_counter()
    html = render_report(run.dir)
    seconds = time.perf_counter() - started
    assert seconds < 15, f"the MNIST report took {seconds:.1f} s"
    page.assert_no_broken_section(html)
    page.assert_self_contained(html)
    evaluation = page.section(html, "evaluation")
    assert confusion_rows(evaluation) == [str(d) for d in range(10)]
    assert "the whole test split (10,000 examples)" in evaluation
    per_class = re.search(r"<h3>Per class</h3>(.*?)</table>", evaluation, re.S).group(1)
    assert per_class.count("<tr>") == 1 + 10 + 1  # header, ten digits, macro average
    model = page.section(html, "model")
    assert "(1, 24, 24, 24)" in model and "(1, 10)" in model  # conv 24@5x5 on 28x28, then ten logits
    examples = page.section(html, "examples")
    assert examples.count("class=\"pixels\" alt=\"image example\" src=\"data:image/png;base64,") == 20
    assert page.example_marks(html)[0] == "wrongmark"  # the worst error first


def test_breastmnist_report_at_the_end_of_training(data_dir, tmp_path, page):
    overrides = {"run.root": str(tmp_path), "train.epochs": 2, "model.encoder.filters": [16, 32]}
    run = ds.train(EXAMPLES / "breastmnist.yaml", overrides, progress=False)
    html = write_report(run.dir, model=run.model, data=run.data).read_text()  # what the pipeline calls
    page.assert_no_broken_section(html)
    page.assert_self_contained(html)
    assert "yes/no classification" in page.section(html, "summary")
    evaluation = page.section(html, "evaluation")
    assert confusion_rows(evaluation) == ["0", "1"]  # malignant, normal or benign
    assert "the whole test split (156 examples)" in evaluation
    assert "ROC curve" in evaluation and "<svg" in evaluation
    per_class = re.search(r"<h3>Per class</h3>(.*?)</table>", evaluation, re.S).group(1)
    assert per_class.count("<tr>") == 1 + 2 + 1
    examples = page.section(html, "examples")
    assert examples.count("src=\"data:image/png;base64,") == 20


def test_forecasting_report_plots_forecasts_beside_the_baselines(data_dir, tmp_path, page):
    run = ds.train(EXAMPLES / "airline.yaml", {"run.root": str(tmp_path), "train.epochs": 5}, progress=False)
    for html in (write_report(run.dir, model=run.model, data=run.data).read_text(), render_report(run.dir)):
        page.assert_no_broken_section(html)
        page.assert_self_contained(html)
        assert "time-series forecasting" in page.section(html, "summary")
        evaluation = page.section(html, "evaluation")
        assert "test period: 1959-01 to 1960-12 (24 steps)" in evaluation
        for method in ("model", "naive (last value)", "seasonal naive (12 steps back)"):
            assert f"<td>{method}</td>" in evaluation
        assert "MAE, 12 steps from the cut-off" in evaluation and "1-step-ahead MAE" in evaluation
        assert "Forecast of the first 12 steps made at the cut-off" in evaluation
        assert "One step ahead over the period" in evaluation
        assert evaluation.count("<svg") == 2 and "1959-01" in evaluation
        assert "(1, 24)" in page.section(html, "model")  # the window of 24 months, flattened
