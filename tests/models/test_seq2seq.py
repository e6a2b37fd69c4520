"""The sequence-to-sequence networks and their decoding: cached steps match a full pass, greedy with and without
the cache agree, beam search of width 1 is greedy, padding changes nothing, and a tiny model learns to copy."""

from __future__ import annotations

import pytest
import torch

from deepscope.errors import ConfigError
from deepscope.models.seq2seq import SEQ2SEQ_MODELS, beam_search, greedy
from deepscope.models.seq2seq.decoding import NEVER_WRITTEN

EOS = 2
SIZES = {"transformer": {"d_model": 32, "heads": 2, "encoder_layers": 2, "decoder_layers": 2},
         "gru": {"d_model": 32, "layers": 2}}


def model(name: str, *, vocab: int = 20, context: int = 24, shared: bool = False, seed: int = 0, **options):
    torch.manual_seed(seed)
    net = SEQ2SEQ_MODELS.get(name)(vocab, vocab, context, shared_vocabulary=shared, **{**SIZES[name], **options})
    return net.eval()


def sources(*rows: list[int]) -> torch.Tensor:
    out = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row)
    return out


@pytest.mark.parametrize("name", ["transformer", "gru"])
def test_steps_with_the_state_give_the_logits_of_a_full_pass(name):
    net = model(name)
    src = sources([5, 6, 7, 8], [9, 10])
    tgt = torch.tensor([[EOS, 4, 5, 6, 7], [EOS, 8, 9, 3, 3]])
    with torch.no_grad():
        full = net(src, tgt)
        state = net.start(net.encode(src))
        first = net.step(tgt[:, :2], state)  # two positions at once, then one at a time
        rest = [net.step(tgt[:, i : i + 1], state) for i in range(2, tgt.shape[1])]
    torch.testing.assert_close(torch.cat([first, *rest], dim=1), full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["transformer", "gru"])
def test_greedy_with_and_without_the_cache_write_the_same_ids(name):
    net = model(name)
    src = sources([5, 6, 7, 8, 9], [9, 10, 11])
    cached = greedy(net, src, eos_id=EOS)
    uncached = greedy(net, src, eos_id=EOS, use_cache=False)
    assert torch.equal(cached, uncached)
    assert not set(cached.flatten().tolist()) & set(NEVER_WRITTEN[1:])  # <unk> is never written


@pytest.mark.parametrize("name", ["transformer", "gru"])
def test_a_beam_of_one_is_greedy(name):
    net = model(name)
    src = sources([5, 6, 7], [8, 9, 10, 11, 12])
    greedy_ids = greedy(net, src, eos_id=EOS)
    beam_ids = beam_search(net, src, eos_id=EOS, beam=1, alpha=0.0)
    width = max(greedy_ids.shape[1], beam_ids.shape[1])
    pad = lambda ids: torch.nn.functional.pad(ids, (0, width - ids.shape[1]))  # noqa: E731
    assert torch.equal(pad(greedy_ids), pad(beam_ids))


@pytest.mark.parametrize("name", ["transformer", "gru"])
def test_padding_a_sentence_in_a_batch_changes_nothing(name):
    net = model(name)
    alone = greedy(net, sources([5, 6, 7]), eos_id=EOS)
    batched = greedy(net, sources([5, 6, 7], [8, 9, 10, 11, 12, 13, 14]), eos_id=EOS)
    assert torch.equal(batched[0, : alone.shape[1]], alone[0])
    beam_alone = beam_search(net, sources([5, 6, 7]), eos_id=EOS, beam=3)
    beam_batched = beam_search(net, sources([5, 6, 7], [8, 9, 10, 11, 12, 13, 14]), eos_id=EOS, beam=3)
    assert torch.equal(beam_batched[0, : beam_alone.shape[1]], beam_alone[0])


def test_the_transformer_keeps_attention_weights_per_layer_and_head():
    net = model("transformer")
    net.keep_attention = True
    src, tgt = sources([5, 6, 7, 8], [9, 10]), torch.tensor([[EOS, 4, 5], [EOS, 6, 7]])
    with torch.no_grad():
        net(src, tgt)
    assert [w.shape for w in net.attention["cross"]] == [(2, 2, 3, 4)] * 2  # (B, heads, T, S) per layer
    assert [w.shape for w in net.attention["encoder"]] == [(2, 2, 4, 4)] * 2
    torch.testing.assert_close(net.attention["cross"][0].sum(-1), torch.ones(2, 2, 3))
    assert net.attention["cross"][0][1, :, :, 2:].abs().max() == 0  # the second source's padding gets nothing
    assert net.attention["decoder"][0][0, :, 0, 1:].abs().max() == 0  # causal: the first position sees itself


def test_a_shared_vocabulary_is_one_tensor_for_both_languages_and_the_output():
    net = model("transformer", shared=True)
    assert net.source_embedding is net.target_embedding
    assert net.output_weight.data_ptr() == net.target_embedding.weight.data_ptr()
    state = net.state_dict()
    assert len({t.data_ptr() for t in state.values()}) == len(state)  # safetensors can save it


def test_an_option_typo_names_its_config_path():
    with pytest.raises(ConfigError, match="model.encoder.d_modle"):
        SEQ2SEQ_MODELS.get("transformer")(10, 10, 8, where="model.encoder", d_modle=16)


@pytest.mark.parametrize("name", ["transformer", "gru"])
def test_a_tiny_model_learns_to_reverse_and_both_decoders_write_it(name):
    torch.manual_seed(0)
    net = model(name, vocab=12, context=12, dropout=0.0)
    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(400):
        src = torch.randint(3, 12, (32, 5))
        target = torch.cat([src.flip(1), torch.full((32, 1), EOS)], dim=1)  # reversed, then </s>
        decoder_input = torch.cat([torch.full((32, 1), EOS), target[:, :-1]], dim=1)
        loss = torch.nn.functional.cross_entropy(net(src, decoder_input).flatten(0, 1), target.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    src = torch.tensor([[3, 4, 5, 6, 7], [11, 10, 9, 8, 3]])
    expected = torch.cat([src.flip(1), torch.full((2, 1), EOS)], dim=1)
    assert torch.equal(greedy(net, src, eos_id=EOS)[:, :6], expected)
    assert torch.equal(beam_search(net, src, eos_id=EOS, beam=4)[:, :6], expected)
