"""data.corpus: a text cut by position into train / val / test, a character vocabulary fitted on the training
part only, and windows whose targets are the inputs shifted by one."""

from __future__ import annotations

import numpy as np
import pytest

from deepscope.config.schema import DataConfig
from deepscope.data.corpus import UNK, TokenWindows, character_ids, character_vocabulary
from deepscope.data.prepare import prepare_data
from deepscope.errors import ConfigError, DataError

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 40


def corpus(tmp_path, text=TEXT, **options) -> DataConfig:
    path = tmp_path / "text.txt"
    path.write_text(text, encoding="utf-8")
    return DataConfig(source=str(path), corpus={"context": 16, **options})


def test_character_ids_follow_the_vocabulary_and_unknown_ones_are_zero():
    vocabulary = character_vocabulary("abca")
    assert vocabulary == [UNK, "a", "b", "c"]
    assert character_ids("cabz", vocabulary).tolist() == [3, 1, 2, 0]
    assert character_ids("é€😀", character_vocabulary("😀é")).tolist() == [1, 0, 2]  # beyond one byte, and BMP


def test_windows_targets_are_the_inputs_shifted_by_one():
    ids = np.arange(20, dtype=np.int64)
    windows = TokenWindows.over(ids, ["x"] * 20, context=5, stride=5)
    assert len(windows) == 3  # starts 0, 5, 10: each needs 6 ids
    assert windows.inputs()[1].tolist() == [5, 6, 7, 8, 9]
    assert windows.targets()[1].tolist() == [6, 7, 8, 9, 10]


def test_a_corpus_is_split_by_position_and_the_vocabulary_comes_from_training_only(tmp_path):
    text = TEXT + "Z" * 100  # Z only in the held-out end (the last 10 % is 400 characters)
    data = prepare_data(corpus(tmp_path, text, val=0.1))
    tokens = data.inputs["tokens"]
    assert "Z" not in tokens.fitted["vocabulary"] and tokens.fitted["context"] == 16
    assert set(data.splits) == {"train", "val"}
    val = data.splits["val"].tensors
    assert (val["tokens"] == 0).any()  # the unseen Z reads as <unk>
    assert val["tokens"].shape[1] == 16 and (val["tokens"][:, 1:] == val["next"][:, :-1]).all()
    train_text = tokens.text(data.splits["train"].tensors["tokens"][0])
    assert TEXT.startswith(train_text)
    assert len(data.splits["train"]) > 2 * len(TEXT) * 0.9 / 16 - 2  # training windows overlap by half


def test_a_prompt_with_an_unknown_character_is_refused_naming_it(tmp_path):
    tokens = prepare_data(corpus(tmp_path)).inputs["tokens"]
    assert tokens.text(tokens.ids("To be")) == "To be"
    with pytest.raises(DataError, match=r"'Q'.*leave them out"):
        tokens.ids("To bQ")


@pytest.mark.parametrize("options, message", [
    ({"val": 0.5, "test": 0.45}, "too little text"),
    ({"context": 1}, "greater than or equal to 2"),
])
def test_corpus_options_out_of_range_are_refused(tmp_path, options, message):
    with pytest.raises(Exception, match=message):
        corpus(tmp_path, **options)


def test_a_held_out_part_shorter_than_a_window_says_what_to_change(tmp_path):
    with pytest.raises(DataError, match="lower data.corpus.context"):
        prepare_data(corpus(tmp_path, TEXT[:400], val=0.02))


def test_inputs_outputs_or_a_split_with_a_corpus_are_refused(tmp_path):
    config = corpus(tmp_path)
    with pytest.raises(ConfigError, match="remove them"):
        prepare_data(config.model_copy(update={"outputs": {"label": {"type": "category"}}}))
    with pytest.raises(DataError, match="no such file"):
        prepare_data(config.model_copy(update={"source": str(tmp_path / "missing.txt")}))


def test_learned_subwords_round_trip_every_text_and_know_no_unknowns(tmp_path):
    from deepscope.data.subwords import ByteBPE

    data = prepare_data(corpus(tmp_path, tokens="subwords", vocab_size=300))
    tokens = data.inputs["tokens"]
    assert tokens.fitted["unit"] == "subwords" and tokens.fitted["vocab_size"] == 300
    window = data.splits["train"].tensors["tokens"][0]
    assert tokens.text(window) == TEXT[: len(tokens.text(window))]  # the training text itself, spaces and breaks
    assert len(tokens.text(window)) > 16  # merges: more than a character a token
    odd = "Zürich ☃\n\tnever seen"
    assert tokens.text(tokens.ids(odd)) == odd  # bytes: nothing is unknown, nothing lost
    assert ByteBPE(tokens.fitted["subword"]).encode("To be") == tokens.ids("To be")  # saved as JSON
    from deepscope.config.loading import load_config

    with pytest.raises(ConfigError, match="data.corpus: vocab_size applies to tokens: subwords"):
        load_config({"data": {"source": "text.txt", "corpus": {"vocab_size": 300}}})
