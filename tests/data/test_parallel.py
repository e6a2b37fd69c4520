"""`data.translation`: sentence pairs from parallel files (NAME.LANG, gzipped or not), subword vocabularies learned
on the training pairs (one per language, or one shared), and a target that ends in </s> and reads back as text."""

from __future__ import annotations

import gzip

import pytest

from deepscope.config.loading import load_config
from deepscope.data.prepare import prepare_data
from deepscope.data.tokenizers import EOS_ID
from deepscope.errors import ConfigError, DataError

EN = ["a dog runs .", "a cat sleeps .", "two dogs run .", "a big dog sleeps .", "the cat runs ."]
DE = ["ein Hund rennt.", "eine Katze schläft.", "zwei Hunde rennen.", "ein großer Hund schläft.", "die Katze rennt."]


def write_pairs(folder, name, en, de, *, gz=False):
    for language, lines in (("en", en), ("de", de)):
        text = "\n".join(lines) + "\n"
        if gz:
            with gzip.open(folder / f"{name}.{language}.gz", "wt", encoding="utf-8") as file:
                file.write(text)
        else:
            (folder / f"{name}.{language}").write_text(text, encoding="utf-8")


def config(folder, **translation):
    return load_config({"data": {"source": str(folder), "translation": {"source_language": "en",
                                                                         "target_language": "de", "vocab_size": 60,
                                                                         **translation}}}).data


@pytest.fixture
def corpus(tmp_path):
    write_pairs(tmp_path, "train", EN * 20, DE * 20, gz=True)
    write_pairs(tmp_path, "val", EN[:2], DE[:2])
    write_pairs(tmp_path, "test_a", EN[2:], DE[2:])
    return tmp_path


def test_pairs_are_read_per_split_and_the_target_reads_back_as_its_text(corpus):
    prepared = prepare_data(config(corpus, test="test_a"))
    assert prepared.sizes() == {"train": 100, "val": 2, "test": 3}
    target = prepared.outputs["de"]
    ids = prepared.splits["val"].tensors["de"]
    assert ids.shape[1] == target.fitted["max_length"] + 1
    assert ids[0].tolist().count(EOS_ID) == 1  # each sentence ends in </s>
    assert target.texts(ids) == DE[:2]  # cased, punctuation spacing restored
    assert prepared.inputs["en"].encode(["a dog runs ."]).tolist()[0][:4] != [1, 1, 1, 1]  # known subwords
    assert prepared.splits["train"].lengths is not None  # batched by length


def test_separate_and_shared_vocabularies(corpus):
    separate = prepare_data(config(corpus))
    assert separate.inputs["en"].tokenizer.tokens != separate.outputs["de"].tokenizer.tokens
    shared = prepare_data(config(corpus, vocabulary="shared"))
    tokens = shared.inputs["en"].tokenizer.tokens
    assert tokens == shared.outputs["de"].tokenizer.tokens and tokens[EOS_ID] == "</s>"
    assert {"Hund", "dog"} <= set(tokens)


def test_without_validation_files_five_percent_of_the_training_pairs_validate(corpus):
    prepared = prepare_data(config(corpus, val=None))
    assert prepared.sizes() == {"train": 95, "val": 5}


def test_a_pair_with_an_empty_side_is_left_out_and_listed(tmp_path):
    write_pairs(tmp_path, "train", EN + ["a bird ."], DE + [" "])
    write_pairs(tmp_path, "val", EN[:1], DE[:1])
    prepared = prepare_data(config(tmp_path))
    assert prepared.sizes()["train"] == 5
    assert prepared.raw.skipped == [f"{tmp_path / 'train.en'}, line 6: an empty sentence on one side"]


def test_files_that_do_not_pair_up_are_refused_naming_both(tmp_path):
    write_pairs(tmp_path, "train", EN, DE[:4])
    with pytest.raises(DataError, match="train.en has 5 lines and train.de 4"):
        prepare_data(config(tmp_path, val=None))


def test_a_missing_file_names_what_the_folder_holds(corpus):
    with pytest.raises(DataError, match=r"no file test_b.en .*train.de.gz"):
        prepare_data(config(corpus, test="test_b"))


def test_sections_that_do_not_apply_are_refused(corpus):
    with pytest.raises(ConfigError, match="data.inputs / data.outputs: with data.translation"):
        prepare_data(load_config({"data": {"source": str(corpus), "outputs": {"de": "sequence"},
                                           "translation": {"source_language": "en", "target_language": "de"}}}).data)
    with pytest.raises(ConfigError, match="give two"):
        config(corpus, target_language="en")
