"""The learning-rate range test: a sensible suggestion on real data, the rule on known curves, and the plot."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from deepscope.diagnose.lr_range import LRFindResult, summarise
from deepscope.errors import ConfigError
from deepscope.report.plots import plot_lr_find
from deepscope.run.lr_find import lr_find
from deepscope.training.callbacks import Callback
from deepscope.training.callbacks.lr_finder import exponential_rates

DIGITS_MLP = {"data": {"source": "digits"}, "model": {"encoder": "mlp"}, "train": {"batch_size": 64}}
# a wide range up to a rate no model survives, in few steps: the test stops early and stays fast
SWEEP = {"start": 1e-5, "end": 1e3, "steps": 60, "seed": 0}


@pytest.fixture(scope="module")
def digits_result() -> LRFindResult:
    return lr_find(DIGITS_MLP, **SWEEP)


def test_suggestion_for_adam_on_digits_is_a_usual_rate(digits_result: LRFindResult) -> None:
    # measured: 8e-3 .. 1.5e-2 over seeds 0-5; Adam trains this MLP well from 3e-3 to 3e-2
    assert digits_result.rule == "steepest"
    assert 2e-3 <= digits_result.suggestion <= 5e-2
    low, high = digits_result.steep_range
    assert low <= digits_result.suggestion <= high < digits_result.minimum_lr


def test_loss_falls_then_diverges_and_the_test_stops_before_the_end(digits_result: LRFindResult) -> None:
    smoothed = digits_result.smoothed
    lowest = smoothed.index(min(smoothed))
    assert digits_result.stopped_early
    assert len(digits_result.lrs) < SWEEP["steps"] and digits_result.lrs[-1] < SWEEP["end"]
    assert 0 < lowest < len(smoothed) - 1
    assert smoothed[lowest] < 0.95 * smoothed[0]  # it fell ...
    assert smoothed[-1] > 4 * smoothed[lowest]  # ... then rose past the stopping threshold
    assert all(math.isfinite(loss) for loss in digits_result.losses)


def test_rates_grow_exponentially_from_start(digits_result: LRFindResult) -> None:
    lrs = digits_result.lrs
    assert lrs[0] == pytest.approx(SWEEP["start"])
    ratios = [b / a for a, b in itertools.pairwise(lrs)]
    assert ratios == pytest.approx([(SWEEP["end"] / SWEEP["start"]) ** (1 / (SWEEP["steps"] - 1))] * len(ratios))


def test_same_seed_same_result(digits_result: LRFindResult) -> None:
    again = lr_find(DIGITS_MLP, **SWEEP)
    assert again.losses == digits_result.losses
    assert again.suggestion == digits_result.suggestion


def test_result_is_plain_json(digits_result: LRFindResult) -> None:
    data = json.loads(json.dumps(digits_result.to_dict(), allow_nan=False))
    assert data["suggestion"] == digits_result.suggestion
    assert len(data["lrs"]) == len(data["losses"]) == len(data["smoothed"])
    assert set(data) >= {"minimum_lr", "steep_range", "stopped_early", "rule"}


def test_plot_is_a_png(digits_result: LRFindResult, tmp_path) -> None:
    path = plot_lr_find(digits_result, tmp_path / "new folder" / "lr.png")
    content = path.read_bytes()
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(content) > 10_000  # axes, two curves and a legend, not an empty canvas


def test_suggestion_is_the_steepest_fall_before_the_minimum() -> None:
    lrs = exponential_rates(1e-6, 1.0, 61)
    # falls fastest at 1e-3 (log-logistic), lowest at 1e-1, then rises steeply; no smoothing, to know the answer
    losses = [2 - 1.5 / (1 + (1e-3 / lr) ** 2) + 50 * max(0.0, math.log10(lr) + 1) ** 2 for lr in lrs]
    result = summarise(lrs, losses, 0.0, stopped_early=True)
    assert result.rule == "steepest"
    assert result.suggestion == pytest.approx(1e-3, rel=0.13)  # one step of the grid is a factor 1.26
    assert result.minimum_lr == pytest.approx(0.1, rel=0.3)
    assert result.steep_range[0] < 1e-3 < result.steep_range[1]


def test_a_loss_that_never_falls_suggests_a_tenth_of_its_minimum() -> None:
    lrs = exponential_rates(1e-4, 1.0, 30)
    result = summarise(lrs, [1.0 + lr for lr in lrs], 0.0, stopped_early=False)
    assert result.rule == "minimum/10"
    assert result.minimum_lr == lrs[0] and result.suggestion == pytest.approx(lrs[0] / 10)


@pytest.mark.parametrize("options, word", [
    ({"start": 1.0, "end": 0.1}, "below the end"),
    ({"start": 0.0}, "positive"),
    ({"steps": 5}, "too few"),
    ({"smoothing": 1.0}, "smoothing"),
])
def test_bad_options_are_config_errors_before_any_work(options: dict, word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        lr_find({"data": {"source": "no-such-source"}}, **options)  # the data is never looked at


class _Probe(Callback):
    """What the range test's trainer holds when it starts: its gradient clipping and the embedding's weights."""

    def on_fit_start(self, trainer) -> None:
        self.grad_clip = trainer.grad_clip
        embedding = trainer.model.encoders["text"].input.embedding
        self.start_weights, self.vocabulary = embedding.weight.detach().clone(), embedding.tokens


def test_the_range_test_of_a_recurrent_glove_model_clips_and_starts_from_the_glove_vectors(tmp_path) -> None:
    """The recipe lr-find tries is the one `deepscope train` runs: the config's model with its pretrained vectors,
    and the trainer's own step, which clips a recurrent model's gradients (the bug was a copy of the step that
    never clipped, on a model built without its embeddings)."""
    words = ["good", "great", "fine", "bad", "awful", "poor"]
    rng = np.random.default_rng(0)
    lines = {label: [" ".join(rng.choice(words[i:i + 3], 5)) for _ in range(60)]
             for i, label in ((0, "pos"), (3, "neg"))}
    (tmp_path / "reviews").mkdir()
    for label, texts in lines.items():
        (tmp_path / "reviews" / f"{label}.txt").write_text("\n".join(texts) + "\n")
    glove = {word: rng.normal(size=8).round(4) for word in words}
    (tmp_path / "glove.txt").write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in glove.items()))
    config = {"data": {"source": str(tmp_path / "reviews")},
              "model": {"encoder": {"name": "lstm", "hidden": 8, "embedding": {"dim": 8, "pretrained":
                                                                               str(tmp_path / "glove.txt")}}},
              "train": {"batch_size": 16}, "run": {"root": str(tmp_path / "runs")}}
    probe = _Probe()
    result = lr_find(config, start=1e-4, end=1.0, steps=20, callbacks=[probe])
    assert probe.grad_clip == 1.0  # recurrent: clipped, as in training
    for word, vector in glove.items():
        row = probe.vocabulary.index(word)
        assert probe.start_weights[row].tolist() == pytest.approx(vector.tolist(), abs=1e-6)
    assert len(result.losses) == 20 and not (tmp_path / "runs").exists()  # no run directory, no plot unless asked
