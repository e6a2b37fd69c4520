"""Hostile configs: every planted config file or override is refused with one message, before anything is written.

Each case is a config file's bytes and the overrides after it; `deepscope train config.yaml OVERRIDES` must exit
with code 2 and a bounded message naming every place listed (the file, the key, the line), print no traceback,
and leave the sandbox exactly as it was: no run folder, no run root. Memory bombs run in a bounded fresh process
(`run_bounded`); the rest in this process, which is fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile.harness import refused, run_bounded, snapshot, untouched

BASE = "data:\n  source: digits\ntrain:\n  epochs: 1\n"
# nine lists of nine references each: a billion strings once expanded, 1 KB as text
LAUGHS = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]" for previous, name in zip("abcdefgh", "bcdefghi")]
FLOW_LAUGHS = "[" + ", ".join(['&a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'] + [
    f"&{name} [{', '.join([f'*{previous}'] * 9)}]" for previous, name in zip("abcdefgh", "bcdefghi")]) + "]"
MEGABYTE = "x" * 2**20


@dataclass(frozen=True)
class Case:
    name: str
    config: bytes
    overrides: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    bomb: bool = False  # a memory bomb: run in a fresh process under an address-space limit


def case(name: str, config: str | bytes, *overrides: str, places: tuple[str, ...], bomb: bool = False) -> Case:
    return Case(name, config.encode() if isinstance(config, str) else config, overrides, places, bomb)


CASES = [
    case("billion-laughs-file", "\n".join(LAUGHS) + "\n", places=("config.yaml", "line 6", "aliases are expanded"),
         bomb=True),
    case("billion-laughs-override", BASE, f"data.inputs={FLOW_LAUGHS}", places=("override", "aliases are expanded"),
         bomb=True),
    case("self-referring-alias", "data: &x {source: digits, more: *x}\n", places=("config.yaml", "line 1")),
    case("duplicate-key", "data:\n  source: digits\n  inputs: {image: image}\n  source: mnist\n",
         places=("config.yaml", "`source` is given twice (lines 2 and 4)")),
    case("duplicate-section", BASE + "data: {source: mnist}\n", places=("config.yaml", "`data`", "lines 1 and 5")),
    case("nested-900-deep", "data: {source: digits}\nmodel: {layers: " + "[" * 900 + "]" * 900 + "}\n",
         places=("config.yaml", "line 2", "nested more than 100")),
    case("binary-junk", bytes(range(256)) * 64, places=("config.yaml", "binary")),
    case("not-utf8", "data: {source: caf\xe9}\n".encode("latin-1"), places=("config.yaml", "line 1", "UTF-8")),
    case("nul-bytes", BASE.encode() + b"model: \0\0\0\n", places=("config.yaml", "line 5", "NUL")),
    case("control-character", BASE + "model: \x07\n", places=("config.yaml", "line 5", "U+0007")),
    case("empty-file", "", places=("config.yaml", "is empty")),
    case("a-list-not-a-mapping", "- data\n- model\n", places=("config.yaml", "holds a list")),
    case("python-tag", "data: !!python/object/apply:os.system [echo hacked]\n",
         places=("config.yaml", "line 1", "python/object")),
    case("yaml-error-in-file", "data: {source: digits\n", places=("config.yaml", "line 2", "not valid YAML")),
    case("yaml-error-in-override", BASE, "train.optimizer.lr=[1,", places=("train.optimizer.lr", "not valid YAML")),
    case("override-key-3000-deep", BASE, "train.optimizer" + ".a" * 3000 + "=1", places=("override", "names deep")),
    case("negative-filters", BASE, "model.encoder=cnn", "model.encoder.filters=[-5]",
         places=("model.encoder.filters", "greater than or equal to 1")),
    case("layer-list-negative-filters", BASE, "model.layers=[{conv2d: {filters: -5}}, {dense: 10}]",
         places=("model.layers[0] (conv2d)", "filters must be a whole number of at least 1, got -5")),
    case("layer-list-zero-kernel", BASE, "model.layers=[{conv2d: {filters: 8, kernel: 0}}]",
         places=("model.layers[0] (conv2d)", "kernel", "got 0")),
    case("layer-list-zero-pool", BASE, "model.layers=[{maxpool2d: 0}]", places=("model.layers[0] (maxpool2d)", "size")),
    case("layer-list-text-units", BASE, "model.layers=[{dense: many}]",
         places=("model.layers[0] (dense)", "units", "'many'")),
    case("layer-list-nan-dropout", BASE, "model.layers=[{dropout: .nan}]", places=("model.layers.0.dropout", "finite")),
    case("zero-hidden-units", BASE, "model.combiner.hidden=[0]", places=("model.combiner.hidden", "greater than")),
    case("negative-seed", BASE, "train.seed=-1", places=("config.yaml", "train.seed", "greater than or equal to 0")),
    case("negative-split-seed", BASE, "data.split.seed=-1", places=("data.split.seed",)),
    case("infinite-lr", BASE, "train.optimizer.lr=.inf", places=("train.optimizer.lr", "finite")),
    case("nan-lr", BASE, "train.optimizer.lr=.nan", places=("train.optimizer.lr", "finite")),
    case("nan-lr-as-text", BASE, "train.optimizer.lr=nan", places=("train.optimizer.lr", "finite")),
    case("negative-lr", BASE, "train.optimizer.lr=-1", places=("train.optimizer.lr", "greater than 0")),
    case("infinite-optimizer-option", BASE, "train.optimizer.momentum=-.inf",
         places=("train.optimizer.momentum", "finite")),
    case("infinite-grad-clip", BASE + "  grad_clip: .inf\n", places=("train.grad_clip", "finite")),
    case("unknown-optimizer", BASE, "train.optimizer.name=adamz",
         places=("train.optimizer.name", "unknown optimizer 'adamz'", "adam, adamw, rmsprop, sgd")),
    case("unknown-schedule", BASE, "train.schedule=cosinus",
         places=("train.schedule.name", "unknown schedule 'cosinus'", "onecycle, plateau, step")),
    case("unknown-device", BASE, "train.device=gpu", places=("train.device", "unknown device 'gpu'", "cuda:N")),
    case("optimizer-option-torch-refuses", BASE, "train.optimizer.betas=3",
         places=("train.optimizer", "adam refuses these options", "betas")),
    case("schedule-option-of-the-wrong-kind", BASE, "train.schedule.name=step", "train.schedule.gamma=abc",
         places=("train.schedule", "step refuses these options", "gamma")),
    case("schedule-warmup-out-of-range", BASE, "train.schedule.name=cosine", "train.schedule.warmup=5.5",
         places=("train.schedule.warmup", "5.5")),
    case("megabyte-value", BASE + f"  precision: {MEGABYTE}\n", places=("train.precision", "characters, cut")),
    case("megabyte-key", BASE + f"  ? {MEGABYTE}\n  : 1\n", places=("train.", "unknown key", "characters, cut")),
    case("megabyte-override", BASE, f"train.device={MEGABYTE}", places=("train.device", "characters, cut")),
    case("ten-thousand-bad-sizes", BASE, "model.combiner.hidden=[" + ",".join(["0"] * 10**4) + "]",
         places=("model.combiner.hidden.0", "9,990 more problems")),
    case("a-million-values", BASE, "data.inputs=[" + ",".join(["0"] * 10**6) + "]",
         places=("override", "more than 100,000 values")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_hostile_config_is_refused_before_anything_is_written(case: Case, tmp_path: Path,
                                                                deepscope_in_process) -> None:
    (tmp_path / "config.yaml").write_bytes(case.config)
    before = snapshot(tmp_path)
    started = time.monotonic()
    if case.bomb:
        result = run_bounded("train", "config.yaml", *case.overrides, cwd=tmp_path)
    else:
        result = deepscope_in_process("train", "config.yaml", *case.overrides, cwd=tmp_path)
    refused(result, *case.places)
    assert time.monotonic() - started < 30, "a refusal must come before any work"
    untouched(before, snapshot(tmp_path))
