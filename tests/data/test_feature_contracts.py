"""The feature contract over every registered feature type: fitted on small realistic raw values, a feature's
state survives JSON and `Feature.from_state` rebuilds one that encodes the same tensors, describes itself the
same and, for the types that can be outputs, decodes a head's predictions the same.

A newly registered type fails here until it has raw sample values in `SAMPLES`.
"""

from __future__ import annotations

import json
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from deepscope.data.corpus import TokenWindows, character_ids, character_vocabulary
from deepscope.data.features import FEATURES, Feature
from deepscope.data.timeseries import read_series
from deepscope.data.windows import SeriesWindows, split_periods

HeadOutput = Callable[[dict[str, Any], int], dict[str, torch.Tensor]]  # (describe(), batch size) -> predictions


@dataclass
class Case:
    """One way to use a feature type: its options, the training values it is fitted on, the values it encodes,
    and, for outputs, a fake head prediction for `decode`."""

    label: str
    options: dict[str, Any]
    train: Any
    values: Any
    where: str = "data"
    head_output: HeadOutput | None = None


# --- fake head predictions, shaped as each output head gives them ------------------------------------------------
def fake_values(description: dict[str, Any], batch: int) -> dict[str, torch.Tensor]:
    return {"value": torch.linspace(-1.5, 2.0, batch)}  # (B,) in normalised units


def fake_probabilities(description: dict[str, Any], batch: int) -> dict[str, torch.Tensor]:
    logits = torch.randn(batch, description["cardinality"], generator=torch.Generator().manual_seed(0))
    return {"probabilities": logits.softmax(dim=1)}  # (B, C)


def fake_probability(description: dict[str, Any], batch: int) -> dict[str, torch.Tensor]:
    # (B,); 0.4 lies between a lowered threshold and the default 0.5, so a lost threshold decodes differently
    return {"probability": torch.tensor([0.1, 0.4, 0.9]).repeat(batch)[:batch]}


def fake_forecast(description: dict[str, Any], batch: int) -> dict[str, torch.Tensor]:
    return {"values": 100 + torch.arange(batch * description["horizon"], dtype=torch.float32).view(batch, -1)}


# --- raw sample values, as sources give them -----------------------------------------------------------------------
def number_cases(tmp_path: Path) -> list[Case]:
    train = [1.5, None, "3", 4.25, "-2", 7.0]  # CSV text, a missing value, floats
    values = [None, "2.5", 10.0, -3]
    return [Case("input", {}, train, values),
            Case("minmax", {"normalization": "minmax"}, train, values),
            Case("output", {"loss": "mae"}, [1.0, 2.0, 4.0, 8.0], [3.0, 5.0], where="data.outputs",
                 head_output=fake_values)]


def category_cases(tmp_path: Path) -> list[Case]:
    colours = ["red", "green", None, "red", "blue", "green", "red"]
    return [Case("input", {}, colours, ["blue", "purple", None, "red"]),  # purple is unseen: <unknown>
            Case("rare-to-unknown", {"max_categories": 2}, colours, ["green", "red"]),
            Case("output", {"label_smoothing": 0.1}, ["cat", "dog", "bird", "dog"], ["bird", "cat"],
                 where="data.outputs", head_output=fake_probabilities),
            Case("integer-output", {}, [3, 1, 10, 1], [10, 3, 1], where="data.outputs",
                 head_output=fake_probabilities)]


def binary_cases(tmp_path: Path) -> list[Case]:
    return [Case("yes-no", {}, ["yes", "no", "no", None, "yes"], ["no", None, "yes"]),
            Case("zero-one", {}, [0, 1, 1, 0], [1, 0]),
            Case("positive-named", {"positive": "churned"}, ["stayed", "churned"], ["churned", "stayed"]),
            # the threshold is the head's option, and decode reads it: it must come back with the state
            Case("output", {"threshold": 0.3}, ["no", "yes", "no", "yes"], ["yes", "no", "yes"],
                 where="data.outputs", head_output=fake_probability)]


def image_cases(tmp_path: Path) -> list[Case]:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(5, 6, 4, 3), dtype=np.uint8)  # (N, H, W, C)
    grey = rng.integers(0, 256, size=(4, 5, 5), dtype=np.uint8)  # (N, H, W)
    digits = rng.integers(0, 17, size=(3, 8, 8)).astype(np.float64)  # scikit-learn's digits scale: 0..16
    return [Case("rgb", {}, rgb, rgb[:2]), Case("grey", {}, grey, grey[1:]), Case("float-pixels", {}, digits, digits)]


def text_cases(tmp_path: Path) -> list[Case]:
    reviews = ["a gripping, funny film", "a dull film", "funny and warm", "the film is a gripping ride"]
    unseen = ["a warm film about nothing", "Gripping!"]
    return [Case(tokenizer, {"tokenizer": tokenizer, "min_frequency": 1}, reviews, unseen)
            for tokenizer in ("word", "char", "bpe", "wordpiece")] + [
            Case("cut-to-max-length", {"max_length": 3}, reviews, unseen)]


def audio_cases(tmp_path: Path) -> list[Case]:
    clips = [write_tone(tmp_path / f"clip-{i}.wav", hz, seconds, rate)
             for i, (hz, seconds, rate) in enumerate([(440, 0.10, 8000), (300, 0.15, 8000), (500, 0.05, 16000)])]
    # 8000 Hz is the clips' most common rate; the 16 kHz clip is resampled, the short one padded
    return [Case("wav-files", {"n_mels": 16}, clips, clips[::-1]),
            Case("mfcc", {"n_mels": 16, "mfcc": 8, "max_seconds": 0.12}, clips, clips[1:])]


def write_tone(path: Path, hz: float, seconds: float, rate: int) -> Path:
    """A 16-bit mono PCM sine written by Python's own `wave` module."""
    t = np.arange(int(seconds * rate)) / rate
    frames = (0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return path


def monthly_windows(tmp_path: Path, *, lookback: int, horizon: int) -> tuple[SeriesWindows, SeriesWindows]:
    """Training and test windows of a 36-month series with a trend and a season, through the project's reader."""
    months = np.datetime64("2000-01") + np.arange(36)
    rows = [f'"{m}",{120 + 2 * i + 15 * np.sin(2 * np.pi * i / 12):.2f}' for i, m in enumerate(months)]
    path = tmp_path / "sales.csv"
    path.write_text("\r\n".join(['"Month","Sales"', *rows]))
    series = read_series(path, time="Month")
    periods = split_periods(len(series), lookback=lookback, horizon=horizon, holdout=6, val=0)
    return tuple(SeriesWindows.for_period(series, *periods[split], lookback=lookback, horizon=horizon)
                 for split in ("train", "test"))


def timeseries_cases(tmp_path: Path) -> list[Case]:
    train, test = monthly_windows(tmp_path, lookback=6, horizon=2)
    options = {"time": "Month", "values": ["Sales"], "target": "Sales", "lookback": 6}
    return [Case("standard", options, train, test),
            Case("log-with-calendar", {**options, "scale": "log", "covariates": ["month", "day_of_year"]}, train,
                 test),
            Case("series-end", {**options, "scale": "minmax", "relative": True}, train, test.series)]


def forecast_cases(tmp_path: Path) -> list[Case]:
    train, test = monthly_windows(tmp_path, lookback=6, horizon=3)
    return [Case(scale, {"target": "Sales", "horizon": 3, "scale": scale}, train, test, where="data.outputs",
                 head_output=fake_forecast) for scale in ("standard", "log", "minmax")]


def token_windows() -> tuple[TokenWindows, TokenWindows]:
    """Training and held-out windows of a verse, the held-out ones with a character training never had."""
    text = "To be, or not to be, that is the question.\n" * 20
    vocabulary = character_vocabulary(text[:700])
    train = TokenWindows.over(character_ids(text[:700], vocabulary), vocabulary, context=16, stride=8)
    held_out = TokenWindows.over(character_ids(text[700:] + "Z", vocabulary), vocabulary, context=16, stride=16)
    return train, held_out


def subword_windows() -> tuple[TokenWindows, TokenWindows]:
    """The same verse in learned subwords (byte-level BPE fitted on the training part)."""
    from deepscope.data.subwords import ByteBPE

    text = "To be, or not to be, that is the question.\n" * 20
    bpe = ByteBPE.train(text[:700], vocab_size=280)
    windows = [TokenWindows.over(np.asarray(bpe.encode(part), dtype=np.int64), bpe.tokens, context=16, stride=8,
                                 unit="subwords", tokenizer=bpe.state()) for part in (text[:700], text[700:] + "Z")]
    return windows[0], windows[1]


def tokens_cases(tmp_path: Path) -> list[Case]:
    return [Case("characters", {}, *token_windows(), where="data.corpus"),
            Case("subwords", {}, *subword_windows(), where="data.corpus")]


def next_token_cases(tmp_path: Path) -> list[Case]:
    def generated(described: dict[str, Any], n: int) -> dict[str, torch.Tensor]:
        return {"ids": torch.randint(1, described["vocab_size"], (n, 5), generator=torch.Generator().manual_seed(0))}
    return [Case("characters", {}, *token_windows(), where="data.corpus", head_output=generated),
            Case("subwords", {}, *subword_windows(), where="data.corpus", head_output=generated)]


def sequence_cases(tmp_path: Path) -> list[Case]:
    def written(described: dict[str, Any], n: int) -> dict[str, torch.Tensor]:
        ids = torch.randint(3, described["vocab_size"], (n, 6), generator=torch.Generator().manual_seed(0))
        ids[:, 4] = described["eos_id"]  # a translation ends at </s>; what follows is not read
        return {"ids": ids}
    train = ["Ein Hund rennt.", "Eine Katze schläft auf dem Sofa.", "Zwei Hunde rennen im Park."] * 5
    values = ["Ein Hund schläft.", "Drei Katzen, zwei Hunde!"]
    return [Case("bpe", {"min_frequency": 1, "vocab_size": 60}, train, values, where="data.outputs",
                 head_output=written),
            Case("word", {"tokenizer": "word", "min_frequency": 1}, train, values, where="data.outputs",
                 head_output=written)]


def signal_cases(tmp_path: Path) -> list[Case]:
    rows = np.random.default_rng(0).normal(size=(6, 40))  # MNIST-1D-like: one channel of 40 floats per example
    return [Case("one-channel", {}, rows, rows[:3]),
            Case("channels", {"normalization": "none"}, rows.reshape(6, 20, 2), rows[:2].reshape(2, 20, 2))]


SAMPLES: dict[str, Callable[[Path], list[Case]]] = {
    "number": number_cases, "category": category_cases, "binary": binary_cases, "image": image_cases,
    "text": text_cases, "audio": audio_cases, "timeseries": timeseries_cases, "forecast": forecast_cases,
    "tokens": tokens_cases, "next_token": next_token_cases, "sequence": sequence_cases,
    "signal": signal_cases,
}


# --- the contract ------------------------------------------------------------------------------------------------
def cases_for(type_name: str, tmp_path: Path) -> list[Case]:
    if type_name not in SAMPLES:
        pytest.fail(f"feature type {type_name!r} is registered but has no raw sample values: add a function "
                    f"giving its cases to SAMPLES in {Path(__file__).name}, so the contract covers it")
    return SAMPLES[type_name](tmp_path)


def can_decode(cls: type[Feature]) -> bool:
    """Output-capable types are those that override `Feature.decode` (the base refuses)."""
    return cls.decode is not Feature.decode


def assert_same_tensor(actual: torch.Tensor, expected: torch.Tensor, label: str) -> None:
    assert isinstance(actual, torch.Tensor), f"{label}: encode gave a {type(actual).__name__}"
    assert (actual.dtype, tuple(actual.shape)) == (expected.dtype, tuple(expected.shape)), label
    assert torch.equal(actual, expected), f"{label}: the reloaded feature encodes different values"


@pytest.mark.parametrize("type_name,cls", FEATURES.items(), ids=FEATURES.names())
def test_every_feature_type_round_trips_through_its_json_state(type_name, cls, tmp_path):
    cases = cases_for(type_name, tmp_path)
    if can_decode(cls):
        assert any(c.head_output for c in cases), (
            f"{type_name} can be an output: give one of its cases a fake head prediction (head_output)")
    for case in cases:
        label = f"{type_name}/{case.label}"
        feature = cls("col", case.options, where=case.where).fit(case.train)
        expected = feature.encode(case.values)
        assert expected.numel() > 0 and len(expected) > 0, f"{label}: encoding gave no values"
        state = json.loads(json.dumps(feature.state(), allow_nan=False))  # strict JSON, as saved with the model
        json.dumps(feature.describe(), allow_nan=False)  # plain data for the model builder
        clone = Feature.from_state(state, where=case.where)  # as the model's loader does, outputs at data.outputs
        assert type(clone) is cls, label
        assert_same_tensor(clone.encode(case.values), expected, label)
        assert clone.describe() == feature.describe(), label
        if case.head_output is not None:
            assert can_decode(cls), f"{label}: a head output for a type that cannot decode"
            assert_decodes_the_same(clone, feature, case.head_output(feature.describe(), len(expected)), label)


def assert_decodes_the_same(clone: Feature, feature: Feature, output: dict[str, torch.Tensor], label: str) -> None:
    decoded = feature.decode(output)
    batch = len(next(iter(output.values())))
    assert len(decoded) == batch and all(feature.name in row for row in decoded), f"{label}: {decoded[:2]}"
    assert clone.decode(output) == decoded, f"{label}: the reloaded feature decodes differently"
    json.dumps(decoded, allow_nan=False)  # predictions are served as JSON
