"""The HTML report on small runs that need no downloaded data: digits (images), text, audio and a regression
table; the offline check; damaged and half-written run folders; the `deepscope report` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import wave
from pathlib import Path

import numpy as np
import pytest

import deepscope as ds
from deepscope.report import body_of, render_report, report_body, write_report


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> ds.Run:
    root = tmp_path_factory.mktemp("runs")
    config = {"data": {"source": "digits"}, "model": {"encoder": "cnn"}, "train": {"epochs": 3, "batch_size": 64},
              "run": {"root": str(root)}}
    return ds.train(config, progress=False)


@pytest.fixture(scope="module")
def digits_html(digits_run: ds.Run) -> str:
    """The report as the pipeline writes it at the end of training: with the model and data in memory."""
    return write_report(digits_run.dir, model=digits_run.model, data=digits_run.data).read_text()


def test_digits_report_shows_every_section_with_ten_classes(digits_run, digits_html, page):
    html = digits_html
    page.assert_no_broken_section(html)
    summary = page.section(html, "summary")
    assert "finished" in summary and "classification" in summary and "test accuracy" in summary
    model = page.section(html, "model")
    assert "Conv2d" in model and "(1, 24, 8, 8)" in model  # the first convolution's output for one 8x8 digit
    assert "FLOPs per example" in model and "one example of the evaluation data" in model
    parameters = sum(p.numel() for p in digits_run.model.parameters())
    assert f"{parameters:,}" in model
    curves = page.section(html, "training")
    assert curves.count("<svg") >= 2 and "val.accuracy" in curves  # loss, metrics, learning rate
    evaluation = page.section(html, "evaluation")
    confusion = re.search(r"<table class=\"cm\">(.*?)</table>", evaluation, re.S).group(1)
    assert confusion.count("<tr>") == 11  # the header and one row per class
    assert "macro average" in evaluation and "precision" in evaluation
    diagnostics = page.section(html, "diagnostics")
    assert "Gradient norms by layer" in diagnostics and "<svg" in diagnostics
    assert "seed" in page.section(html, "environment") and "encoder" in page.section(html, "config")
    assert "weights.safetensors" in page.section(html, "timings")


def test_examples_are_images_worst_errors_first(digits_html, page):
    examples = page.section(digits_html, "examples")
    assert examples.count("src=\"data:image/png;base64,") >= 16
    marks = page.example_marks(digits_html)
    assert "wrongmark" in marks, "digits after 3 epochs gets some wrong: the worst are shown"
    first_right = marks.index("right")
    assert "wrongmark" not in marks[first_right:], "every wrong example comes before the first right one"


def test_report_from_the_run_folder_matches_the_one_from_memory(digits_run, digits_html, page):
    started = time.perf_counter()
    html = render_report(digits_run.dir)  # `deepscope report RUN`: the model loaded, the data prepared again
    assert time.perf_counter() - started < 20
    page.assert_no_broken_section(html)
    rows = lambda text: re.findall(r"test row ([\d,]+)", page.section(text, "examples"))  # noqa: E731
    assert rows(html) == rows(digits_html)  # the same sample, the same predictions, the same order
    assert page.section(html, "evaluation") == page.section(digits_html, "evaluation")


def test_report_is_self_contained_and_escapes_user_text(digits_run, tmp_path, page):
    run = tmp_path / "run"
    shutil.copytree(digits_run.dir, run)
    config = (run / "config.yaml").read_text()
    # user text that would be markup or a link if it were not escaped
    (run / "config.yaml").write_text(config.replace("name: null", "name: <script>alert(1)</script> https://x.org/a", 1))
    html = write_report(run).read_text()
    page.assert_self_contained(html)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "https&#58;//x.org/a" in html  # shown as text that reads the same, never as a URL to fetch
    assert html.count("<svg") >= 4 and "xmlns" not in html


def test_body_for_embedding_and_a_fast_body_without_loading(digits_run, digits_html, page):
    embedded = body_of(digits_html)
    assert embedded.startswith("<!-- deepscope-report-body -->") and "<html" not in embedded
    assert "<style>" in embedded and ".ds-report" in embedded  # styled wherever it is embedded
    started = time.perf_counter()
    light = report_body(digits_run.dir, load=False)
    assert time.perf_counter() - started < 10
    assert "<table class=\"cm\">" in light  # the saved confusion matrix needs no model
    assert "Examples need the model and the data" in page.section(light, "examples")


def write_text_csv(path: Path, rows: int = 120) -> Path:
    rng = np.random.default_rng(0)
    good, bad = ["great", "fine", "lovely", "superb", "fun"], ["dull", "awful", "boring", "bad", "weak"]
    lines = ["sentence,label"]
    for i in range(rows):
        label = i % 2
        words = rng.choice(good if label else bad, 3).tolist() + rng.choice(["a", "film", "plot", "the"], 2).tolist()
        lines.append(f"{' '.join(words)} <b>&amp;,{'pos' if label else 'neg'}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("encoder, layer", [("cnn1d", "Conv1d"), ("lstm", "packed (")])
def test_text_examples_are_shown_as_escaped_text(tmp_path, page, encoder, layer):
    source = write_text_csv(tmp_path / "reviews.csv")
    run = ds.train({"data": {"source": str(source), "inputs": {"sentence": "text"}, "outputs": {"label": "category"}},
                    "model": {"encoder": {"name": encoder}}, "train": {"epochs": 2, "batch_size": 16},
                    "run": {"root": str(tmp_path / "runs")}}, progress=False)
    html = write_report(run.dir).read_text()
    page.assert_no_broken_section(html)
    assert layer in page.section(html, "model")  # an LSTM's packed output is shown as one shape
    examples = page.section(html, "examples")
    texts = re.findall(r"<div class=\"text\">([^<]*)</div>", examples)
    assert texts and all("&lt;b&gt;&amp;amp;" in t for t in texts)  # the raw text, escaped, not an image
    assert "src=\"data:" not in examples
    assert re.search(r"<th>neg</th>.*<th>pos</th>", page.section(html, "evaluation"), re.S)


def write_wav(path: Path, hz: float, seconds: float = 0.2, rate: int = 8000, seed: int = 0) -> None:
    t = np.arange(int(seconds * rate)) / rate
    samples = 0.5 * np.sin(2 * np.pi * hz * t) + 0.05 * np.random.default_rng(seed).standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())


def test_audio_examples_are_spectrogram_images(tmp_path, page):
    for label, hz in (("high", 1500.0), ("low", 300.0)):
        for i in range(12):
            write_wav(tmp_path / "speech" / label / f"{i}.wav", hz * (1 + 0.02 * i), seed=i)
    run = ds.train({"data": {"source": str(tmp_path / "speech"), "inputs": {"audio": {"type": "audio", "n_mels": 16}},
                             "outputs": {"label": "category"}, "split": {"val": 0.0, "test": 0.3}},
                    "model": {"encoder": {"name": "cnn", "filters": [8]}}, "train": {"epochs": 2, "batch_size": 8},
                    "run": {"root": str(tmp_path / "runs")}}, progress=False)
    html = write_report(run.dir, model=run.model, data=run.data).read_text()
    page.assert_no_broken_section(html)
    examples = page.section(html, "examples")
    assert examples.count("alt=\"audio spectrogram\" src=\"data:image/png;base64,") >= 2


def test_regression_report_draws_residuals(tmp_path, page):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, (300, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] + rng.normal(0, 0.5, 300)
    source = tmp_path / "table.csv"
    source.write_text("a,b,price\n" + "\n".join(f"{a:.3f},{b:.3f},{v:.3f}" for (a, b), v in zip(x, y)) + "\n")
    run = ds.train({"data": {"source": str(source), "outputs": {"price": "number"}},
                    "train": {"epochs": 5, "batch_size": 32}, "run": {"root": str(tmp_path / "runs")}}, progress=False)
    html = write_report(run.dir).read_text()
    page.assert_no_broken_section(html)
    evaluation = page.section(html, "evaluation")
    assert "residual (true - predicted)" in evaluation and "test mae" in evaluation and "<svg" in evaluation
    examples = page.section(html, "examples")  # table rows as a table: the inputs, then truth and prediction
    assert re.search(r"<th>row</th><th>a</th><th>b</th><th>true price</th><th>predicted price</th>", examples)
    errors = [float(e) for e in re.findall(r"error ([\d.]+)", examples)]
    assert len(errors) == 20 and errors[:16] == sorted(errors[:16], reverse=True)  # the largest errors first


def test_many_classes_draw_the_confusion_matrix_as_a_heat_map():
    from deepscope.report.classification import confusion_html, per_class

    matrix = np.eye(40, dtype=np.int64) * 5
    matrix[0, 1] = 5  # class 0: half right; class 1 predicted for 10, right for 5
    html = confusion_html(matrix, [str(i) for i in range(40)])
    assert "<img" in html and "src=\"data:image/png;base64," in html and "<table" not in html
    scores = per_class(matrix)
    assert scores["recall"][0] == 0.5 and scores["precision"][1] == 0.5 and scores["support"][0] == 10
    from sklearn.metrics import precision_recall_fscore_support  # the reference, on the same predictions

    truth = np.repeat(np.arange(40), matrix.sum(axis=1))
    predicted = np.concatenate([np.repeat(np.arange(40), row) for row in matrix])
    reference = precision_recall_fscore_support(truth, predicted, zero_division=0)
    for ours, theirs in zip((scores["precision"], scores["recall"], scores["f1"]), reference):
        np.testing.assert_allclose(ours, theirs)


# ---- damaged and unfinished runs -------------------------------------------------------------------------------


def damaged_copy(source: Path, folder: Path, damage: str) -> Path:
    run = folder / damage
    shutil.copytree(source, run)
    if damage == "metrics_cut_short":
        text = (run / "metrics.jsonl").read_text()
        (run / "metrics.jsonl").write_text(text[: len(text) * 2 // 3])  # a write killed mid-line
    elif damage == "model_missing":
        shutil.rmtree(run / "model")
    elif damage == "config_unparseable":
        (run / "config.yaml").write_text("data: [source: digits\n  model: {")
    elif damage == "weights_corrupt":
        (run / "model" / "weights.safetensors").write_bytes(b"\x00" * 7)
    elif damage == "diagnosis_malformed":
        (run / "diagnosis.json").write_text(json.dumps({"findings": [{"code": 1}, "x"],
                                                        "record": {"samples": [{"step": "a", "layers": 5}, 3]}}))
        (run / "model" / "model.json").write_text("{not json")
    elif damage == "half_written":  # killed during the first epoch: a config, an environment, one line of metrics
        for name in ("model", "checkpoints", "diagnosis.json"):
            shutil.rmtree(run / name) if (run / name).is_dir() else (run / name).unlink()
        (run / "metrics.jsonl").write_text('{"epoch": 1, "train.loss": 2.1, "time": 1.0}\n{"epoch": 2, "tra')
    old = time.time() - 3600  # stopped an hour ago, not still training
    for path in [run, *run.rglob("*")]:
        os.utime(path, (old, old))
    return run


REASONS = {
    "metrics_cut_short": "is not JSON (cut short?)",
    "model_missing": "no trained model",
    "config_unparseable": "config.yaml cannot be read",
    "weights_corrupt": "could not be loaded",
    "diagnosis_malformed": "model/model.json cannot be read",
    "half_written": "no trained model",
}


@pytest.mark.parametrize("damage", list(REASONS))
def test_a_damaged_or_half_written_run_still_renders_marked_incomplete(digits_run, tmp_path, page, damage):
    run = damaged_copy(digits_run.dir, tmp_path, damage)
    html = write_report(run).read_text()
    summary = page.section(html, "summary")
    reason = REASONS[damage]
    if damage == "weights_corrupt":  # model.json reads fine: runinfo cannot tell; the model section says why
        assert "could not be loaded" in page.section(html, "model")
    else:
        assert "badge incomplete" in summary and "This run is incomplete" in summary
        assert reason in summary
    from deepscope.track.runinfo import read_run

    for problem in read_run(run).problems:
        assert re.sub(r"\s+", " ", problem.replace("'", "&#x27;")) in summary
    page.assert_no_broken_section(html)
    page.assert_self_contained(html)
    for anchor in ("model", "training", "diagnostics", "evaluation", "examples", "config", "environment", "timings"):
        page.section(html, anchor)  # every section is there, saying what it could not show


def test_a_run_still_training_is_marked_running(digits_run, tmp_path, page):
    run = tmp_path / "live"
    shutil.copytree(digits_run.dir, run)
    shutil.rmtree(run / "model")
    html = write_report(run).read_text()
    assert "still training" in page.section(html, "summary")


# ---- the command -----------------------------------------------------------------------------------------------


def test_cli_writes_the_report_and_refuses_a_folder_that_is_not_a_run(digits_run, tmp_path, run_cli, page):
    out = tmp_path / "out" / "page.html"
    code, output = run_cli("report", digits_run.dir, "--out", out)
    assert code == 0, output
    assert str(out) in output and "<table class=\"cm\">" in out.read_text()
    code, output = run_cli("report", tmp_path / "nowhere")
    assert code == 2 and "no such run directory" in output
    (tmp_path / "empty").mkdir()
    code, output = run_cli("report", tmp_path / "empty")
    assert code == 2 and "not a run directory" in output
