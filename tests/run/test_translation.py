"""A translation run end to end: `data.translation` trains an encoder-decoder with the usual trainer, its
validation is scored by sacreBLEU after each epoch, and `ds.load(run).translate`, `deepscope translate` and
`deepscope evaluate` (with sacreBLEU's signature) translate; what a user can get wrong is refused clearly."""

from __future__ import annotations

import random

import pytest

import deepscope as ds
from deepscope.track.runinfo import read_run

WORDS = {"a": "ein", "the": "der", "big": "großer", "small": "kleiner", "red": "roter", "old": "alter",
         "dog": "Hund", "cat": "Kater", "man": "Mann", "boy": "Junge", "runs": "rennt", "sleeps": "schläft",
         "eats": "isst", "jumps": "springt", ".": "."}
ADJECTIVES, NOUNS, VERBS = ["big", "small", "red", "old"], ["dog", "cat", "man", "boy"], ["runs", "sleeps", "eats",
                                                                                           "jumps"]


def pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    en = [f"{rng.choice(['a', 'the'])} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(VERBS)} ."
          for _ in range(n)]
    de = [" ".join(WORDS[w] for w in sentence.split()).replace(" .", ".") for sentence in en]
    return en, de


@pytest.fixture(scope="module")
def mt_run(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("pairs")
    for name, n, seed in (("train", 600, 0), ("val", 40, 1), ("test", 40, 2), ("extra", 20, 3)):
        en, de = pairs(n, seed)
        (folder / f"{name}.en").write_text("\n".join(en) + "\n", encoding="utf-8")
        (folder / f"{name}.de").write_text("\n".join(de) + "\n", encoding="utf-8")
    run = ds.train({"data": {"source": str(folder), "translation": {"source_language": "en", "target_language": "de",
                                                                      "test": "test", "vocab_size": 80,
                                                                      "max_length": 16}},
                    "model": {"encoder": {"name": "transformer", "d_model": 32, "heads": 2, "encoder_layers": 1,
                                          "decoder_layers": 1, "dropout": 0.0}},
                    "train": {"epochs": 8, "batch_size": 32, "optimizer": {"name": "adamw", "lr": 0.005},
                              "monitor": "val.bleu"},
                    "run": {"root": str(folder / "runs")}}, progress=False)
    return str(run.dir)


def test_a_word_by_word_language_is_learned_and_scored_by_sacrebleu(mt_run):
    info = read_run(mt_run)
    assert all("val.bleu" in row and "val.chrf" in row for row in info.epochs)
    assert info.finals["val"]["bleu"] > 80  # 16 words, each with one translation
    model = ds.load(mt_run)
    assert model.translate("the old dog eats .", beam=3) == ["der alter Hund isst."]
    assert model.predict("a small cat sleeps .") == [{"de": "ein kleiner Kater schläft."}]  # greedy


def test_the_cli_translates_and_evaluate_prints_the_signature(mt_run, deepscope_in_process):
    result = deepscope_in_process("translate", mt_run, "a red boy jumps .", "the big man runs .", "--beam", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["ein roter Junge springt.", "der großer Mann rennt."]
    result = deepscope_in_process("evaluate", mt_run, "--split", "extra", "--beam", "2")  # extra.en / extra.de
    assert result.returncode == 0, result.stderr
    assert "BLEU signature: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["a dog " * 20], "is 40 subword tokens long, and this model reads at most 16"),
    (["a dog .", "--beam", "0"], "--beam 0: give 1 (greedy)"),
    (["   "], "the text is empty"),
    ([], "give sentences to translate"),
])
def test_bad_translate_input_is_refused_with_exit_2(mt_run, deepscope_in_process, args, message):
    result = deepscope_in_process("translate", mt_run, *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_translate_on_a_run_that_does_not_translate_says_so(tmp_path, deepscope_in_process):
    run = ds.train({"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
                    "model": {"encoder": {"name": "mlp", "hidden": [8]}}, "train": {"epochs": 1},
                    "run": {"root": str(tmp_path)}}, progress=False)
    result = deepscope_in_process("translate", str(run.dir), "a dog .")
    assert result.returncode == 2 and "does not translate" in result.stderr


def test_attention_maps_show_where_each_written_token_looked(mt_run):
    from deepscope.explain.attention import attention_maps

    maps = attention_maps(ds.load(mt_run), "the old dog eats .")
    assert maps.text == "der alter Hund isst."
    assert maps.queries[-1] == "</s>" and "dog" in maps.keys
    layers, heads, queries, keys = maps.weights["cross"].shape
    assert (layers, heads, queries, keys) == (1, 2, len(maps.queries), len(maps.keys))
    assert abs(maps.weights["cross"].sum(-1) - 1).max() < 1e-5


def test_the_report_shows_translations_and_the_cross_attention(mt_run):
    from pathlib import Path

    report = (Path(mt_run) / "report.html").read_text()
    assert "translated greedily" in report and "reference" in report
    assert "cross-attention per layer and head" in report


def test_the_server_translates_and_export_is_refused(mt_run, deepscope_in_process):
    from fastapi.testclient import TestClient

    from deepscope.serve import ServeOptions, create_app

    with TestClient(create_app(ServeOptions(run=mt_run))) as client:
        answer = client.post("/predict", json=[{"en": "a red boy jumps ."}, {"en": "the big man runs ."}])
        empty = client.post("/predict", json={"en": ""})
    assert answer.status_code == 200 and [row["de"] for row in answer.json()] == ["ein roter Junge springt.",
                                                                                    "der großer Mann rennt."]
    assert empty.status_code == 422
    result = deepscope_in_process("export", mt_run, "--format", "torchscript")
    assert result.returncode == 2 and "token by token" in result.stderr


def test_translate_reads_a_file_of_sentences_and_refuses_one_that_is_not_utf8(mt_run, deepscope_in_process,
                                                                                tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("a red boy jumps .\n\nthe big man runs .\n", encoding="utf-8")
    bad.write_bytes(b"a red \xff boy .\n")
    result = deepscope_in_process("translate", mt_run, "--file", str(good), "--beam", "1")
    assert result.returncode == 0 and result.stdout.splitlines() == ["ein roter Junge springt.",
                                                                     "der großer Mann rennt."]
    result = deepscope_in_process("translate", mt_run, "--file", str(bad))
    assert result.returncode == 2 and "not UTF-8 text" in result.stderr
