"""The language models and their decoding: causal, cache-exact (also past the context), seeded, filtered."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from deepscope.errors import ConfigError
from deepscope.models.language import (
    LANGUAGE_MODELS,
    CausalTransformer,
    ContextWindow,
    LSTMLanguageModel,
    filter_logits,
    generate,
)

VOCAB, CONTEXT = 11, 12
TINY = {
    "transformer-rotary": (CausalTransformer, {"d_model": 16, "heads": 2, "layers": 2, "positions": "rotary"}),
    "transformer-learned": (CausalTransformer, {"d_model": 16, "heads": 2, "layers": 2, "positions": "learned"}),
    "lstm": (LSTMLanguageModel, {"d_model": 16, "layers": 2}),
}


def tiny(name: str, **options) -> torch.nn.Module:
    torch.manual_seed(0)
    model, defaults = TINY[name]
    return model(VOCAB, CONTEXT, **{**defaults, **options}).eval()


def ids(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


def test_the_registry_names_both_models():
    assert LANGUAGE_MODELS.get("transformer") is CausalTransformer
    assert LANGUAGE_MODELS.get("lstm") is LSTMLanguageModel


@pytest.mark.parametrize("name", TINY)
def test_a_later_token_never_changes_earlier_logits(name):
    model, x = tiny(name), ids(2, CONTEXT)
    changed = x.clone()
    changed[:, 7] = (changed[:, 7] + 1) % VOCAB
    before, after = model(x), model(changed)
    assert before.shape == (2, CONTEXT, VOCAB)
    torch.testing.assert_close(before[:, :7], after[:, :7], atol=1e-6, rtol=0)
    assert not torch.allclose(before[:, 7:], after[:, 7:], atol=1e-4)  # ... and it does change its own


@pytest.mark.parametrize("name", TINY)
def test_cached_decoding_gives_the_logits_of_a_full_pass_also_past_the_context(name):
    model, forced = tiny(name), ids(2, 3 * CONTEXT)
    cached, uncached = ContextWindow(model, forced[:, :3]), ContextWindow(model, forced[:, :3], use_cache=False)
    for end in range(3, forced.shape[1]):  # the window fills at CONTEXT, then slides for 2 x CONTEXT more tokens
        reference = model(forced[:, max(0, end - CONTEXT) : end])[:, -1]  # the last `context` tokens, one pass
        torch.testing.assert_close(cached.logits, reference, atol=1e-5, rtol=0)
        torch.testing.assert_close(uncached.logits, reference, atol=1e-5, rtol=0)
        cached.push(forced[:, end : end + 1]), uncached.push(forced[:, end : end + 1])
    assert cached.cache.length == CONTEXT


@pytest.mark.parametrize("name", ["transformer-rotary", "transformer-learned"])
def test_a_chunk_after_the_cache_attends_to_the_cache_and_causally_within_itself(name):
    model, x = tiny(name), ids(2, 10)
    cache = model.new_cache(2)
    pieces = [model(x[:, :4], cache), model(x[:, 4:9], cache), model(x[:, 9:], cache)]
    torch.testing.assert_close(torch.cat(pieces, dim=1), model(x), atol=1e-5, rtol=0)
    assert cache.length == 10


def test_the_transformer_refuses_more_positions_than_its_context():
    model = tiny("transformer-rotary")
    with pytest.raises(ValueError, match="at most 12 positions"):
        model(ids(1, CONTEXT + 1))
    cache = model.new_cache(1)
    model(ids(1, CONTEXT - 1), cache)
    with pytest.raises(ValueError, match="11 cached \\+ 2 new"):
        model(ids(1, 2), cache)


@pytest.mark.parametrize("name", TINY)
def test_the_same_seed_gives_the_same_ids_with_and_without_the_cache(name):
    model, prompt = tiny(name), ids(3, 2)

    def sampled(seed: int, use_cache: bool) -> torch.Tensor:
        return generate(model, prompt, 3 * CONTEXT, temperature=1.5, top_k=8, top_p=0.95, use_cache=use_cache,
                        generator=torch.Generator().manual_seed(seed))

    with_cache = sampled(0, True)
    assert with_cache.shape == (3, 3 * CONTEXT)
    assert torch.equal(with_cache, sampled(0, False))
    assert not torch.equal(with_cache, sampled(1, True))  # the seed does matter


def test_a_prompt_longer_than_the_context_is_cut_to_its_last_context_tokens():
    model, prompt = tiny("transformer-learned"), ids(2, 2 * CONTEXT)
    long = generate(model, prompt, 20, generator=torch.Generator().manual_seed(0))
    cut = generate(model, prompt[:, -CONTEXT:], 20, generator=torch.Generator().manual_seed(0))
    assert torch.equal(long, cut)


def test_generate_decodes_in_eval_mode_and_restores_the_training_mode():
    model = tiny("transformer-rotary", dropout=0.5).train()
    first = generate(model, ids(1, 3), 15, temperature=0)
    assert model.training
    assert torch.equal(first, generate(model, ids(1, 3), 15, temperature=0))  # no dropout noise while decoding


@pytest.mark.parametrize("name", TINY)
def test_gradients_reach_every_parameter_and_dropout_acts_in_training_only(name):
    model, x = tiny(name, dropout=0.3).train(), ids(2, CONTEXT)
    assert not torch.allclose(model(x), model(x))  # dropout draws differ from pass to pass
    F.cross_entropy(model(x[:, :-1]).flatten(0, 1), x[:, 1:].flatten()).backward()
    silent = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not silent
    model.eval()
    assert torch.equal(model(x), model(x))


def test_top_k_keeps_exactly_the_k_largest_even_on_ties():
    logits = torch.tensor([[0.5, 2.0, 2.0, 2.0, -1.0, 1.0]])
    kept = filter_logits(logits, top_k=2).isfinite()
    assert kept.sum() == 2 and kept[0, [1, 2, 3]].sum() == 2
    assert filter_logits(torch.tensor([[0.5, 3.0, -1.0, 1.0]]), top_k=2).isfinite().tolist() == [[False, True,
                                                                                                   False, True]]


def test_top_p_keeps_the_smallest_set_that_reaches_p_and_always_the_most_likely():
    probabilities = torch.tensor([[0.1, 0.45, 0.05, 0.3, 0.1]])
    logits = probabilities.log()
    # sorted: 0.45, 0.3 (0.75), 0.1 (0.85), ...: p = 0.7 needs the first two, p = 0.8 the first three
    assert filter_logits(logits, top_p=0.7).isfinite().tolist() == [[False, True, False, True, False]]
    assert filter_logits(logits, top_p=0.8).isfinite().sum() == 3
    assert filter_logits(logits, top_p=0.01).isfinite().tolist() == [[False, True, False, False, False]]
    kept = filter_logits(logits, top_p=0.8)
    torch.testing.assert_close(kept[kept.isfinite()], logits[kept.isfinite()])  # kept logits are unchanged


def test_top_k_then_top_p_work_on_the_renormalised_top_k():
    logits = torch.tensor([[0.45, 0.3, 0.1, 0.1, 0.05]]).log()
    # within the top 2, the probabilities are 0.6 and 0.4: p = 0.55 keeps only the first
    assert filter_logits(logits, top_k=2, top_p=0.55).isfinite().tolist() == [[True, False, False, False, False]]


def test_temperature_scales_and_zero_is_the_argmax():
    logits = torch.tensor([[1.0, 4.0, 2.0], [3.0, -1.0, 0.0]])
    torch.testing.assert_close(filter_logits(logits, temperature=0.5), logits * 2)
    greedy = filter_logits(logits, temperature=0)
    assert greedy.isfinite().tolist() == [[False, True, False], [True, False, False]]
    model = tiny("transformer-rotary")
    new = generate(model, ids(2, 4), 5, temperature=0)
    window = ContextWindow(model, ids(2, 4))
    assert torch.equal(new[:, :1], window.logits.argmax(dim=-1, keepdim=True))


@pytest.mark.parametrize("bad", [{"temperature": -1.0}, {"top_k": 0}, {"top_p": 0.0}, {"top_p": 1.5}])
def test_filter_logits_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        filter_logits(torch.zeros(1, 3), **bad)


@pytest.mark.parametrize("name", TINY)
def test_tied_weights_are_one_tensor_and_untied_two(name):
    model = tiny(name)
    assert model.output_weight is model.embedding.weight
    assert "embedding.weight" in model.state_dict() and not any("head" in key for key in model.state_dict())
    x = torch.tensor([[0, 1, 2, 3, 4]])
    F.cross_entropy(model(x)[0], x[0]).backward()
    assert model.embedding.weight.grad[VOCAB - 1].abs().sum() > 0  # a token never read learns through the output
    untied = tiny(name, tie_weights=False)
    assert untied.output_weight is not untied.embedding.weight
    tied_count = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in untied.parameters()) == tied_count + VOCAB * 16


def test_gpt2_initialisation_scales_the_residual_projections():
    model = CausalTransformer(VOCAB, CONTEXT, d_model=64, heads=2, layers=8)
    block = model.blocks[0]
    assert abs(block.attention.qkv.weight.std().item() - 0.02) < 0.002
    assert abs(block.attention.out.weight.std().item() - 0.02 / 4) < 0.001  # 1 / sqrt(2 x 8 layers)
    assert block.attention.qkv.bias.abs().max() == 0


def test_attention_weights_are_kept_per_layer_and_head_and_rows_sum_to_one():
    model, x = tiny("transformer-rotary"), ids(2, 7)
    fast = model(x)
    model.keep_attention = True
    kept = model(x)
    torch.testing.assert_close(kept, fast, atol=1e-5, rtol=0)  # the explicit softmax is the fused kernel's
    assert len(model.attention) == 2
    for weights in model.attention:
        assert weights.shape == (2, 2, 7, 7)
        torch.testing.assert_close(weights.sum(dim=-1), torch.ones(2, 2, 7))
        assert weights.triu(diagonal=1).abs().max() == 0  # nothing from the future
    cache = model.new_cache(2)
    model(x[:, :5], cache), model(x[:, 5:], cache)
    assert model.attention[0].shape == (2, 2, 2, 7)  # (B, heads, T new, S = cached + new)


@pytest.mark.parametrize("model", [CausalTransformer, LSTMLanguageModel])
def test_an_option_typo_names_its_config_path(model):
    with pytest.raises(ConfigError, match=r"model\.encoder\.d_modle: .*d_model"):
        model(VOCAB, CONTEXT, where="model.encoder", d_modle=8)


def test_heads_must_divide_d_model_and_rotary_needs_even_head_sizes():
    with pytest.raises(ConfigError, match="heads .3. must divide d_model .16."):
        CausalTransformer(VOCAB, CONTEXT, d_model=16, heads=3)
    with pytest.raises(ConfigError, match="must be even"):
        CausalTransformer(VOCAB, CONTEXT, d_model=15, heads=5)
    CausalTransformer(VOCAB, CONTEXT, d_model=15, heads=5, positions="learned")  # odd heads are fine without RoPE


@pytest.mark.parametrize("name", ["transformer-rotary", "lstm"])
def test_a_tiny_model_learns_a_repeated_string_and_writes_it_back(name):
    text = "hello world! "
    alphabet = sorted(set(text))
    stream = torch.tensor([alphabet.index(c) for c in text * 40])
    torch.manual_seed(0)
    model_class, defaults = TINY[name]
    context = 24
    model = model_class(len(alphabet), context, **{**defaults, "d_model": 32, "dropout": 0.0})
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    windows = stream.unfold(0, context + 1, 1)  # (N, context + 1): every offset
    for _ in range(250):
        batch = windows[torch.randint(0, len(windows), (32,))]
        loss = F.cross_entropy(model(batch[:, :-1]).flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.1
    prompt = stream[None, :3]  # "hel"
    written = generate(model, prompt, 2 * context, temperature=0)  # past the context: the window slides
    assert "".join(alphabet[i] for i in written[0]) == (text * 5)[3 : 3 + 2 * context]
