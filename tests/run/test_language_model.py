"""A language-model run end to end: `data.corpus` trains a causal Transformer (or an LSTM) with the usual
trainer, its metrics are nats, perplexity and bits per character, and `ds.load(run).generate` / `deepscope
generate` write text, repeatably with a seed; what a user can get wrong is refused with one clear message."""

from __future__ import annotations

import math

import pytest

import deepscope as ds

VERSE = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("verse")
    (folder / "verse.txt").write_text(VERSE * 80, encoding="utf-8")
    run = ds.train({"data": {"source": str(folder / "verse.txt"), "corpus": {"context": 32, "val": 0.1}},
                    "model": {"encoder": {"name": "transformer", "d_model": 48, "heads": 2, "layers": 2,
                                          "dropout": 0.0}},
                    "train": {"epochs": 12, "batch_size": 16, "optimizer": {"name": "adamw", "lr": 0.01}},
                    "run": {"root": str(folder / "runs")}}, progress=False)
    return str(run.dir)


def test_a_corpus_run_reports_nats_perplexity_and_bits_per_character(lm_run):
    val = ds.load(lm_run)  # loads (safetensors + JSON) like any run
    metrics = read_val(lm_run)
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["nats"]))
    assert metrics["bits_per_char"] == pytest.approx(metrics["nats"] / math.log(2))
    assert metrics["nats"] < 0.5  # a repeated verse is learned: far below uniform's ln(23) = 3.1
    assert val.generate("To be", max_tokens=1, seed=0)


def test_generation_continues_the_verse_and_a_seed_repeats_it(lm_run):
    model = ds.load(lm_run)
    greedy = model.generate("To be, or not", max_tokens=40, temperature=0)[0]
    assert greedy.startswith(" to be, that is the question")
    one, two = (model.generate("Whether", max_tokens=50, seed=7, n=2) for _ in range(2))
    assert one == two and len(one) == 2 and all(len(s) == 50 for s in one)


def test_past_the_context_the_window_slides_and_an_empty_prompt_starts_a_line(lm_run):
    model = ds.load(lm_run)
    long = model.generate("", max_tokens=200, temperature=0)[0]  # context 32: the window slides
    assert len(long) == 200 and "to be" in long
    assert "\N{REPLACEMENT CHARACTER}" not in long  # <unk> is never written


@pytest.mark.parametrize("args, message", [
    (["--prompt", "To bQ"], "'Q'"),
    (["--max-tokens", "0"], "--max-tokens 0: give 1 to"),
    (["--max-tokens", "1000001"], "--max-tokens 1000001"),
    (["--top-p", "0"], "--top-p 0"),
    (["--temperature", "-1"], "--temperature -1"),
])
def test_bad_generate_options_are_refused_with_exit_2(lm_run, deepscope_in_process, args, message):
    result = deepscope_in_process("generate", lm_run, *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_the_cli_prints_each_sample_after_its_prompt(lm_run, deepscope_in_process):
    result = deepscope_in_process("generate", lm_run, "--prompt", "To be", "--n", "2", "--seed", "3",
                                  "--max-tokens", "20")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("--- sample") == 2 and result.stdout.count("To be") >= 2


def test_generate_on_a_run_that_is_not_a_language_model_says_so(tmp_path, deepscope_in_process):
    run = ds.train({"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
                    "model": {"encoder": {"name": "mlp", "hidden": [8]}}, "train": {"epochs": 1},
                    "run": {"root": str(tmp_path)}}, progress=False)
    result = deepscope_in_process("generate", str(run.dir))
    assert result.returncode == 2 and "not a language model" in result.stderr


def read_val(run: str) -> dict:
    from deepscope.track.runinfo import read_run

    return read_run(run).finals["val"]


def test_predict_on_a_language_model_points_to_generate(lm_run, deepscope_in_process):
    result = deepscope_in_process("predict", lm_run, "To be")
    assert result.returncode == 2 and "deepscope generate RUN" in result.stderr


def test_each_epoch_leaves_samples_and_the_report_shows_the_first_and_last(lm_run):
    import json
    from pathlib import Path

    from deepscope.report.html import escape

    rows = [json.loads(line) for line in (Path(lm_run) / "samples.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == list(range(1, 13))
    assert all(len(row["samples"]) == 2 and all(len(s) == 200 for s in row["samples"]) for row in rows)
    assert rows[-1]["samples"][0] != rows[0]["samples"][0]  # training changed what it writes
    report = (Path(lm_run) / "report.html").read_text()
    assert "after epoch 1" in report and "after epoch 12" in report and "language model" in report
    assert escape(rows[-1]["samples"][0][:40]) in report  # the last epoch's text itself, escaped as the page does


def test_the_report_draws_the_self_attention_per_layer_and_head(lm_run):
    from pathlib import Path

    from deepscope.explain.attention import attention_maps

    maps = attention_maps(ds.load(lm_run), "To be, or not")
    assert maps.weights["self"].shape == (2, 2, 13, 13) and maps.keys[:2] == ["T", "o"]
    assert abs(maps.weights["self"][..., 0, 1:]).max() == 0  # causal: the first character sees only itself
    assert "self-attention per layer and head" in (Path(lm_run) / "report.html").read_text()


def test_a_subword_language_model_learns_and_writes_the_verse_back(tmp_path):
    (tmp_path / "verse.txt").write_text(VERSE * 80, encoding="utf-8")
    run = ds.train({"data": {"source": str(tmp_path / "verse.txt"),
                             "corpus": {"tokens": "subwords", "vocab_size": 300, "context": 16}},
                    "model": {"encoder": {"name": "transformer", "d_model": 48, "heads": 2, "layers": 2,
                                          "dropout": 0.0}},
                    "train": {"epochs": 8, "batch_size": 16, "optimizer": {"name": "adamw", "lr": 0.01}},
                    "run": {"root": str(tmp_path / "runs")}}, progress=False)
    assert read_val(str(run.dir))["nats"] < 0.5
    model = ds.load(run.dir)
    assert model.generate("To be, or not", max_tokens=8, temperature=0)[0].startswith(" to be, that")
    assert model.generate("", max_tokens=4, temperature=0)[0]  # an empty prompt starts after a line break
