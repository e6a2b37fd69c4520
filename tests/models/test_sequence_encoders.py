"""Sequence encoders (rnn, lstm, gru, cnn1d, transformer), their input module and the GloVe embedding."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import deepscope as ds
from deepscope.errors import ConfigError, DataError
from deepscope.models.builder import build_model, load_pretrained
from deepscope.models.encoders import ENCODERS
from deepscope.models.encoders.sequence_input import pool
from deepscope.models.layers.embedding import TokenEmbedding
from deepscope.training.trainer import Trainer, resolve_grad_clip

TOKENS = ["<pad>", "<unk>", "good", "bad", "film", "The", "plot", "a", "gripping", "dull"]
TEXT = {"name": "review", "type": "text", "kind": "sequence", "vocab_size": len(TOKENS), "pad_id": 0, "unk_id": 1,
        "max_length": 16, "tokens": TOKENS}
SERIES = {"name": "series", "type": "timeseries", "kind": "sequence", "channels": 2, "length": 7}
SENTENCES = [[2, 4], [5, 6, 7, 8, 9, 3, 4], [3], [7, 8, 4, 2, 9]]  # lengths 2, 7, 1, 5

CASES = [
    *[("rnn", {"bidirectional": b, "pooling": p}) for b in (False, True) for p in ("last", "mean", "max")],
    *[(cell, {"bidirectional": b}) for cell in ("lstm", "gru") for b in (False, True)],
    ("lstm", {"layers": 2, "pooling": "max"}),
    ("gru", {"layers": 2, "pooling": "mean", "bidirectional": False}),
    ("cnn1d", {"filters": 8}),
    ("cnn1d", {"filters": 8, "widths": [2, 6]}),  # wider than most of the sentences
    ("transformer", {"d_model": 16, "heads": 2, "pooling": "mean"}),
    ("transformer", {"d_model": 16, "heads": 2, "pooling": "cls"}),
    ("transformer", {"d_model": 16, "heads": 2, "pooling": "cls", "positions": "learned"}),
]


def padded(sentences: list[list[int]], length: int) -> torch.Tensor:
    """Left-aligned ids, 0 = padding: (N, length)."""
    return torch.tensor([s + [0] * (length - len(s)) for s in sentences])


def encoder(name: str, options: dict, inputs: dict = TEXT) -> nn.Module:
    torch.manual_seed(0)
    return ENCODERS.get(name)([inputs], embedding={"dim": 12}, **options).eval()


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{'-'.join(map(str, o.values()))}" for n, o in CASES])
def test_padding_never_changes_the_output(name, options):
    model = encoder(name, options)
    with torch.no_grad():
        tight = model({"review": padded(SENTENCES, 7)})  # padded to the longest sentence
        loose = model({"review": padded(SENTENCES, 16)})  # 9 more padding steps
        alone = torch.cat([model({"review": torch.tensor([s])}) for s in SENTENCES])  # no padding at all
    assert tight.shape == (4, model.output_size)
    torch.testing.assert_close(loose, tight)
    torch.testing.assert_close(alone, tight, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(tight[0], tight[2])  # different sentences, different codes


def test_an_empty_text_encodes_as_one_padding_step():
    for name in ("lstm", "cnn1d", "transformer"):
        model = encoder(name, {"d_model": 12, "heads": 2} if name == "transformer" else {})
        with torch.no_grad():
            out = model({"review": padded([[], [2, 3]], 4)})
        assert torch.isfinite(out).all(), name


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_the_registered_name_sets_the_cell_and_the_cell_option_overrides_it(name):
    assert encoder(name, {}).rnn.mode == {"rnn": "RNN_TANH", "lstm": "LSTM", "gru": "GRU"}[name]
    assert encoder(name, {"cell": "gru"}).rnn.mode == "GRU"


def test_last_pooling_of_a_bidirectional_rnn_is_forward_at_the_end_and_backward_at_the_start():
    model = encoder("gru", {"hidden": 5, "pooling": "last"})
    ids = padded(SENTENCES, 7)
    with torch.no_grad():
        pooled = model({"review": ids})
        x, _ = model.input({"review": ids})
        outputs, _ = model.rnn(x[1:2])  # the full-length sentence, no padding: (1, 7, 2 * 5)
    torch.testing.assert_close(pooled[1, :5], outputs[0, -1, :5])  # forward direction after the last step
    torch.testing.assert_close(pooled[1, 5:], outputs[0, 0, 5:])  # backward direction after the first step


def test_series_are_read_as_they_are():
    series = torch.randn(3, 7, 2)
    for name in ("lstm", "cnn1d", "transformer"):
        model = encoder(name, {"d_model": 8, "heads": 2} if name == "transformer" else {}, SERIES)
        assert model.input.output_size == 2  # the channels, no embedding
        with torch.no_grad():
            assert model({"series": series}).shape == (3, model.output_size)


def test_masked_pooling_ignores_padded_steps():
    x = torch.tensor([[[1.0], [3.0], [100.0]], [[2.0], [-5.0], [4.0]]])  # (2, 3, 1)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    assert pool(x, mask, "mean").flatten().tolist() == [2.0, pytest.approx(1 / 3)]
    assert pool(x, mask, "max").flatten().tolist() == [3.0, 4.0]
    assert pool(x, mask, "last").flatten().tolist() == [3.0, 4.0]


def test_text_batches_are_trimmed_to_their_longest_sentence():
    model = encoder("cnn1d", {})
    x, mask = model.input({"review": padded(SENTENCES, 16)})
    assert x.shape == (4, 7, 12) and mask.sum(dim=1).tolist() == [2, 7, 1, 5]


def test_word_dropout_hides_real_words_as_unknown_in_training_only():
    model = ENCODERS.get("gru")([TEXT], embedding={"dim": 4, "word_dropout": 0.5})
    seen = []
    model.input.embedding.register_forward_hook(lambda module, args, out: seen.append(args[0].clone()))
    ids = padded([[2, 3, 4, 5, 6, 7, 8, 9] * 8, [2, 3]], 64)  # 64 words and 2 words + 62 padding
    model.train()({"review": ids})
    model.eval()({"review": ids})
    trained, evaluated = seen
    hidden = trained != ids
    assert (trained[hidden] == 1).all() and not hidden[1, 2:].any()  # <unk> in place of words, never of padding
    assert 16 <= hidden[0].sum() <= 48  # about half of the 64 words
    assert torch.equal(evaluated, ids)


@pytest.mark.parametrize("options,message", [
    ({"cell": "tanh"}, "model.encoders.review.cell"),
    ({"pooling": "first"}, "model.encoders.review.pooling"),
    ({"embedding": {"dimension": 50}}, "model.encoders.review.embedding.dimension"),
])
def test_bad_recurrent_options_name_their_config_path(options, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        ENCODERS.get("lstm")([TEXT], where="model.encoders.review", **options)


def test_transformer_heads_must_divide_the_width():
    with pytest.raises(ConfigError, match=r"model\.encoder.*heads \(3\) must divide d_model \(16\)"):
        ENCODERS.get("transformer")([TEXT], d_model=16, heads=3)


def test_sequence_encoders_refuse_image_inputs():
    image = {"name": "image", "type": "image", "kind": "image", "shape": [1, 8, 8]}
    with pytest.raises(ConfigError, match="reads \\['audio', 'sequence'\\] inputs, not \\['image'\\]"):
        ENCODERS.get("gru")([image])


def test_audio_without_the_spectrogram_layer_says_what_is_missing(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "deepscope.models.layers.spectrogram", None)  # as if not installed
    audio = {"name": "clip", "type": "audio", "kind": "audio", "sample_rate": 8000, "n_samples": 800,
             "shape": [1, 20, 11]}
    with pytest.raises(ImportError, match="audio inputs need deepscope.models.layers.spectrogram"):
        ENCODERS.get("lstm")([audio])


def test_recurrent_models_get_gradient_clipping_by_default():
    def model(name):
        output = {"y": {"name": "y", "type": "binary", "kind": "tabular"}}
        return build_model({"encoder": {"name": name}}, {"review": TEXT}, output)
    assert resolve_grad_clip(None, model("gru")) == 1.0
    assert resolve_grad_clip(None, model("cnn1d")) is None


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "cnn1d", "transformer"])
def test_each_encoder_learns_which_of_two_words_a_sentence_holds(name):
    """'good' (2) or 'bad' (3) somewhere among filler words, padded: a few epochs reach 100 %."""
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(2, 12, (256,), generator=g)
    ids = torch.randint(4, len(TOKENS), (256, 12), generator=g)
    labels = torch.randint(0, 2, (256,), generator=g)
    ids[torch.arange(256), torch.randint(0, 100, (256,), generator=g) % lengths] = 2 + labels
    ids = ids.masked_fill(torch.arange(12) >= lengths.unsqueeze(1), 0)
    torch.manual_seed(0)
    options = {"d_model": 32, "heads": 2} if name == "transformer" else {"hidden": 32} if name != "cnn1d" else {}
    model = build_model({"encoder": {"name": name, **options}}, {"review": TEXT},
                        {"y": {"name": "y", "type": "category", "kind": "tabular", "cardinality": 2}})
    data = {"review": ids, "y": labels}
    Trainer(epochs=8, batch_size=32, lr=3e-3, log_every=10_000).fit(model, data)
    metrics = Trainer(batch_size=256).evaluate(model, data)
    assert metrics["accuracy"] == 1.0


# --- the embedding and its GloVe file ------------------------------------------------------------------------------
def glove_file(tmp_path, lines: list[str]):
    path = tmp_path / "vectors.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_embeddings_start_small_with_a_zero_padding_row():
    torch.manual_seed(0)
    weight = TokenEmbedding(["<pad>"] + [f"w{i}" for i in range(999)], 64).weight.detach()
    assert weight[0].abs().sum() == 0 and 0.09 < weight[1:].std() < 0.11


def test_glove_vectors_fill_the_rows_of_tokens_found_the_rest_stay_random(tmp_path):
    path = glove_file(tmp_path, ["good 1 2 3", "film 0.5 0.5 0.5", "the -1 0 1", "unused 9 9 9", "<pad> 7 7 7"])
    torch.manual_seed(0)
    embedding = TokenEmbedding(TOKENS, 3, pretrained=str(path))
    before = embedding.weight.detach().clone()
    embedding.load_pretrained()
    weight = embedding.weight.detach()
    assert weight[2].tolist() == [1, 2, 3] and weight[4].tolist() == [0.5, 0.5, 0.5]
    assert weight[5].tolist() == [-1, 0, 1]  # "The" found as "the"
    assert embedding.found == 3
    assert weight[0].tolist() == [0, 0, 0]  # padding stays zero
    missing = weight[[1, 3, 6, 7, 8, 9]]
    assert not torch.equal(missing, before[[1, 3, 6, 7, 8, 9]])  # redrawn on the pretrained vectors' scale
    assert 0.1 < missing.std() < 10


def test_an_exact_match_wins_over_a_lower_cased_one(tmp_path):
    path = glove_file(tmp_path, ["the 1 1", "The 2 2"])
    embedding = TokenEmbedding(TOKENS, 2, pretrained=str(path))
    embedding.load_pretrained()
    assert embedding.weight[5].tolist() == [2, 2]


def test_a_word2vec_header_and_tokens_with_spaces_are_read(tmp_path):
    path = glove_file(tmp_path, ["2 2", "a gripping 4 4", "dull 5 5"])
    embedding = TokenEmbedding(["<pad>", "a gripping", "dull"], 2, pretrained=str(path))
    embedding.load_pretrained()
    assert embedding.weight[1:].tolist() == [[4, 4], [5, 5]]


def test_glove_vectors_reach_a_built_model_and_freeze_keeps_them(tmp_path):
    path = glove_file(tmp_path, ["good 1 2 3 4", "bad -1 -2 -3 -4"])
    config = {"encoder": {"name": "gru", "hidden": 4, "embedding": {"dim": 4, "pretrained": str(path), "freeze": True}}}
    model = build_model(config, {"review": TEXT}, {"y": {"name": "y", "type": "binary", "kind": "tabular"}})
    load_pretrained(model)
    weight = model.encoders["review"].input.embedding.weight
    assert weight[3].tolist() == [-1, -2, -3, -4] and not weight.requires_grad


def test_a_missing_glove_file_is_a_data_error(tmp_path):
    embedding = TokenEmbedding(TOKENS, 3, pretrained=str(tmp_path / "glove.6B.50d.txt"),
                               where="model.encoder.embedding")
    with pytest.raises(DataError, match=r"model\.encoder\.embedding\.pretrained: .*glove\.6B\.50d\.txt' not found"):
        embedding.load_pretrained()


def test_a_glove_file_of_another_dimension_is_a_data_error(tmp_path):
    path = glove_file(tmp_path, ["good 1 2 3", "bad 4 5 6"])
    with pytest.raises(DataError, match=r"line 1 holds a 3-dimensional vector, but the embedding has dim 50; "
                                        r"set embedding\.dim: 3"):
        TokenEmbedding(TOKENS, 50, pretrained=str(path)).load_pretrained()
    with pytest.raises(DataError, match="line 2 holds a 2-dimensional vector"):
        TokenEmbedding(TOKENS, 3, pretrained=str(glove_file(tmp_path, ["good 1 2 3", "bad 4 5"]))).load_pretrained()
    with pytest.raises(DataError, match="line 2 holds a 4-dimensional vector"):  # after a word2vec header
        TokenEmbedding(TOKENS, 2, pretrained=str(glove_file(tmp_path, ["2 4", "good 1 2 3 4"]))).load_pretrained()


def test_a_glove_file_with_words_for_numbers_is_a_data_error(tmp_path):
    path = glove_file(tmp_path, ["good 1 2 3", "bad 4 five 6"])
    with pytest.raises(DataError, match="line 2: the vector of 'bad' is not all numbers"):
        TokenEmbedding(TOKENS, 3, pretrained=str(path)).load_pretrained()


# --- the example ---------------------------------------------------------------------------------------------------
def test_the_sst2_example_trains_on_a_slice_and_predicts_raw_text(data_dir, tmp_path):
    example = Path(__file__).parents[2] / "examples" / "sst2.yaml"
    run = ds.train(example, {"data.limit": 4000, "train.epochs": 1, "run.root": str(tmp_path)}, progress=False)
    assert run.data.sizes()["test"] == 872  # the dev sentences
    assert type(run.model.encoders["sentence"]).__name__ == "LstmEncoder"
    assert run.metrics["test"]["accuracy"] > 0.55  # 6 % of the data, one epoch; always "positive" is 0.51
    predictions = ds.load(run.dir).predict({"sentence": ["a gripping , funny film", "dull and lifeless"]})
    assert [set(p["probabilities"]) for p in predictions] == [{"0", "1"}] * 2
