"""Text features and tokenizers: fitted state through JSON, padding and truncation, unknowns, bad input; SST-2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from deepscope.config.schema import DataConfig
from deepscope.data.features import FEATURES, Feature
from deepscope.data.prepare import prepare_data
from deepscope.data.sources import load_source
from deepscope.data.sources.csv_table import infer_feature_type, load_csv
from deepscope.data.tokenizers import split_words
from deepscope.errors import ConfigError, DataError

TOKENIZERS = ["char", "word", "bpe", "wordpiece"]
CORPUS = [
    "a gripping , funny film .",
    "a dull , lifeless film .",
    "the acting is wonderful and the story is gripping .",
    "the plot is dull and the jokes are lifeless .",
    "funny , wonderful , gripping !",
    "it 's a dull mess .",
] * 3


def text(values, *, where: str = "data.inputs", **options) -> Feature:
    return FEATURES.get("text")("review", options, where=where).fit(values)


def round_trip(feature: Feature) -> Feature:
    return Feature.from_state(json.loads(json.dumps(feature.state())))


def test_words_follow_treebank_conventions_so_raw_and_pretokenised_text_agree():
    raw = split_words("It's a gripping, funny film -- isn't it? 3.5 stars...")
    assert raw == ["It", "'s", "a", "gripping", ",", "funny", "film", "--", "is", "n't", "it", "?",
                   "3.5", "stars", "..."]
    assert split_words("It 's a gripping , funny film -- is n't it ?") == raw[:12]
    assert split_words("well-acted ``classic'' and/or") == ["well-acted", "``", "classic", "''", "and/or"]


@pytest.mark.parametrize("kind", TOKENIZERS)
def test_fitted_state_round_trips_through_json_with_identical_encodings(kind):
    feature = text(CORPUS, tokenizer=kind, vocab_size=60, min_frequency=1)
    new = ["A GRIPPING film, zesty and wonderful!", "dull"]
    loaded = round_trip(feature)
    assert torch.equal(loaded.encode(new), feature.encode(new))
    assert loaded.describe() == feature.describe()
    assert "subword" in feature.fitted if kind in ("bpe", "wordpiece") else "tokens" in feature.fitted


@pytest.mark.parametrize("kind", TOKENIZERS)
def test_encodings_are_padded_left_aligned_ids_within_the_vocabulary(kind):
    feature = text(CORPUS, tokenizer=kind, vocab_size=60, min_frequency=1)
    description = feature.describe()
    encoded = feature.encode(["funny film", "the story is gripping and the acting is wonderful ."])
    assert encoded.dtype == torch.long and encoded.shape == (2, description["max_length"])
    assert description["max_length"] == max(len(ids) for ids in feature.tokenizer.encode_batch(CORPUS))
    assert 0 <= encoded.min() and encoded.max() < description["vocab_size"] <= 60
    real = encoded != 0
    assert real[0].sum() < real[1].sum()
    assert torch.equal(real, real.cummin(dim=1).values)  # real tokens first, then only padding
    tokens = description["tokens"]
    assert tokens[:2] == ["<pad>", "<unk>"] and description["pad_id"] == 0 and description["unk_id"] == 1
    assert len(tokens) == description["vocab_size"] and description["kind"] == "sequence"


def test_word_vocabulary_keeps_the_most_frequent_and_maps_the_rest_to_unk():
    feature = text(["b a", "a c", "a b", "d"], vocab_size=4, min_frequency=1, max_length=4)
    assert feature.describe()["tokens"] == ["<pad>", "<unk>", "a", "b"]  # c and d tie at 1: cut by vocab_size
    assert feature.encode(["a c b zebra"])[0].tolist() == [2, 1, 3, 1]
    rare_cut = text(["b a", "a c", "a b", "d"], min_frequency=2)
    assert rare_cut.describe()["tokens"] == ["<pad>", "<unk>", "a", "b"]


def test_max_length_truncates_keeping_the_first_tokens_and_lowercase_is_an_option():
    feature = text(["The cat sat on the mat"], max_length=3, min_frequency=1)
    assert feature.describe()["tokens"] == ["<pad>", "<unk>", "the", "cat", "mat", "on", "sat"]
    assert feature.encode(["the cat sat on the mat", "mat"]).tolist() == [[2, 3, 6], [4, 0, 0]]
    cased = text(["The the"], lowercase=False, min_frequency=1)
    assert cased.describe()["tokens"][2:] == ["The", "the"]
    assert cased.encode(["THE the"]).tolist() == [[1, 3]]


def test_bpe_and_wordpiece_respect_vocab_size_and_split_unseen_words_into_known_pieces():
    for kind in ("bpe", "wordpiece"):
        feature = text(CORPUS, tokenizer=kind, vocab_size=50, min_frequency=1)
        assert feature.describe()["vocab_size"] <= 50  # more than the corpus's 43 characters and 2 specials
        ids = feature.encode(["funnily"])[0]
        assert (ids[ids != 0] != 1).all(), kind  # a new word made of familiar pieces is not <unk>


def test_characters_never_seen_become_unk_and_a_text_of_only_those_is_an_error():
    feature = text(CORPUS, tokenizer="char")
    encoded = feature.encode(["fun ✓"])[0].tolist()
    assert encoded[:4] == [feature.tokenizer.index[c] for c in "fun "] and encoded[4] == 1
    with pytest.raises(DataError, match=r"data.inputs.review: row 1: none of the characters of '日本語' occurs "
                                        r"in the training texts.*encoding"):
        feature.encode(["a fine film", "日本語"])
    with pytest.raises(DataError, match="row 0: none of the characters"):
        feature.encode(["日本 語"])  # the space is known, but says nothing
    for kind in ("word", "bpe", "wordpiece"):  # the same rule for every tokenizer
        with pytest.raises(DataError, match="none of the characters"):
            text(CORPUS, tokenizer=kind).encode(["✓✓ ✓"])


def test_a_text_of_rare_words_is_all_unk_but_kept():
    feature = text(CORPUS, tokenizer="word")
    assert feature.encode(["zesty brio"])[0, :2].tolist() == [1, 1]  # familiar letters: legitimate, unknown words


@pytest.mark.parametrize("empty", ["", "   \t", None, float("nan")])
def test_empty_texts_are_errors_at_fit_and_at_prediction_naming_the_row(empty):
    message = r"review: row 1: the text is (empty|missing).*(give some words|fill it in)"
    with pytest.raises(DataError, match="data.inputs." + message):
        text(np.array(["fine", empty], dtype=object))
    feature = text(CORPUS)
    with pytest.raises(DataError, match=message):
        round_trip(feature).encode(["a fine film", empty])


def test_values_that_are_not_strings_are_errors_that_suggest_another_type():
    with pytest.raises(DataError, match=r"row 0: 5 is a int, not text.*type number or category"):
        text([5, 6])
    with pytest.raises(DataError, match=r"row 1: 2.5 is a float"):
        text(CORPUS).encode(np.array(["good", 2.5], dtype=object))


def test_options_are_checked():
    with pytest.raises(ConfigError, match="tokenizer"):
        FEATURES.get("text")("review", {"tokenizer": "sentencepiece"})
    with pytest.raises(ConfigError, match="vocab_size"):
        FEATURES.get("text")("review", {"vocab_size": 2})


def test_free_text_columns_are_inferred_as_text_and_short_labels_are_not():
    sentences = np.array([f"review number {i} was rather good" for i in range(30)] + [None], dtype=object)
    assert infer_feature_type(sentences) == "text"
    names = np.array([f"Ann Lee {i}" for i in range(30)], dtype=object)  # distinct but short: not text
    assert infer_feature_type(names) == "category"
    repeated = np.array(["a long but common phrase here"] * 20 + ["another long common phrase here"] * 20
                        + ["a third long common phrase"] * 20, dtype=object)
    assert infer_feature_type(repeated) == "category"  # few distinct values: labels, however long


def test_tsv_quotes_are_text_unless_fields_are_wrapped_in_quotes(tmp_path):
    plain = tmp_path / "plain.tsv"
    plain.write_text('sentence\tlabel\n" the film " is dull\t0\nit \'s "great\t1\n')
    assert load_csv(plain).splits["train"]["sentence"].tolist() == ['" the film " is dull', 'it \'s "great']
    quoted = tmp_path / "quoted.tsv"
    quoted.write_text('sentence\tlabel\n"a ""fine""\tfilm"\t1\n')
    assert load_csv(quoted).splits["train"]["sentence"].tolist() == ['a "fine"\tfilm']
    assert load_csv(plain, quoting=True).splits["train"]["sentence"].tolist()[0] == "the film  is dull"


def test_sst2_builtin_gives_train_and_dev_as_test(data_dir):
    raw = load_source("sst2")
    assert (raw.size("train"), raw.size("val"), raw.size("test")) == (67349, 0, 872)
    assert raw.inputs == {"sentence": "text"} and raw.outputs == {"label": "category"}
    assert raw.splits["test"]["sentence"][0] == "it 's a charming and often affecting journey ."
    assert np.bincount(raw.splits["train"]["label"]).tolist() == [29780, 37569]
    assert np.bincount(raw.splits["test"]["label"]).tolist() == [428, 444]


def test_sst2_prepares_end_to_end(data_dir):
    config = DataConfig(source="sst2", inputs={"sentence": "text"}, outputs={"label": "category"}, limit=3000)
    data = prepare_data(config)
    assert data.sizes() == {"train": 2700, "val": 300, "test": 872}  # validation carved from train, dev kept whole
    sentence = data.inputs["sentence"]
    dev = data.splits["test"].tensors["sentence"]
    assert dev.shape == (872, sentence.describe()["max_length"]) and dev.dtype == torch.long
    assert 0.02 < (dev == 1).sum() / (dev > 0).sum() < 0.3  # a 3,000-phrase vocabulary misses some dev words
    assert data.splits["test"].tensors["label"].tolist()[:3] == [1, 0, 1]
