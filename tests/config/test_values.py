"""The shared value rules: sizes positive, numbers finite, seeds in range, names known, echoed values cut."""

from __future__ import annotations

import pytest

from deepscope.config.echo import ECHO_LIMIT, shown
from deepscope.config.loading import load_config
from deepscope.config.registry import OPTIMIZER_NAMES, SCHEDULE_NAMES
from deepscope.errors import ConfigError
from deepscope.training.optim import OPTIMIZERS, SCHEDULES

BASE = {"data": {"source": "digits"}}


def test_the_names_the_schema_accepts_are_the_ones_training_registers():
    assert list(OPTIMIZER_NAMES) == OPTIMIZERS.names()
    assert list(SCHEDULE_NAMES) == SCHEDULES.names()


@pytest.mark.parametrize(("override", "expected"), [
    ("train.optimizer.lr=.inf", "train.optimizer.lr: must be a finite number"),
    ("train.optimizer.lr=nan", "train.optimizer.lr: Input should be a finite number"),
    ("train.grad_clip=inf", "train.grad_clip: Input should be a finite number"),  # text pydantic reads as a number
    ("model.layers=[{dense: 8}, {dropout: .nan}]", "model.layers.1.dropout: must be a finite number"),
    ("train.optimizer.lr=0", "train.optimizer.lr: Input should be greater than 0"),
    ("data.augment.rotate=.nan", "data.augment.rotate: must be a finite number"),
    ("train.optimizer.momentum=.inf", "train.optimizer.momentum: must be a finite number"),
    ("data.inputs.image.scale=-.inf", "data.inputs.image.scale: must be a finite number"),
    ("train.seed=-1", "train.seed: Input should be greater than or equal to 0"),
    ("train.seed=4294967296", "train.seed: Input should be less than or equal to 4294967295"),
    ("data.split.seed=-3", "data.split.seed: Input should be greater than or equal to 0"),
    ("model.combiner.hidden=[64, 0]", "model.combiner.hidden.1: Input should be greater than or equal to 1"),
    ("train.optimizer=adamz", "train.optimizer.name: unknown optimizer 'adamz'; choose one of: adam, adamw, rmsprop"),
    ("train.schedule.name=warm", "train.schedule.name: unknown schedule 'warm'; choose one of: constant, cosine"),
    ("train.device=gpu", "train.device: unknown device 'gpu'; use auto, cpu, cuda, cuda:N"),
    ("train.device=cuda:x", "unknown device 'cuda:x'"),
])
def test_a_value_outside_its_rule_is_refused_naming_the_key(override: str, expected: str):
    with pytest.raises(ConfigError) as error:
        load_config(BASE, [override])
    assert expected in str(error.value)


@pytest.mark.parametrize("override", ["train.seed=4294967295", "train.device=cuda:1", "train.device=mps",
                                      "train.optimizer.momentum=0.8", "train.schedule=plateau"])
def test_values_inside_the_rules_are_kept(override: str):
    load_config(BASE, [override])


def test_an_echoed_value_is_cut_to_a_few_hundred_characters():
    assert shown("adamz") == "'adamz'"
    long = shown("x" * 10**6)
    assert len(long) < ECHO_LIMIT + 50 and long.endswith("(1,000,000 characters, cut)")
    with pytest.raises(ConfigError) as error:
        load_config(BASE, ["train.precision=" + "y" * 10**6])
    assert len(str(error.value)) < 1000 and "train.precision: got 'yyy" in str(error.value)


def test_a_component_option_is_checked_by_the_same_rules():
    from deepscope.config.options import parse_options
    from deepscope.models.encoders.cnn import CnnOptions
    from deepscope.models.layers.init import NormalOptions

    with pytest.raises(ConfigError, match=r"model.encoder.filters.0: Input should be greater than or equal to 1"):
        parse_options(CnnOptions, {"filters": [-5]}, "model.encoder", what="cnn")
    with pytest.raises(ConfigError, match=r"model.init.mean: must be a finite number"):
        parse_options(NormalOptions, {"mean": float("inf")}, "model.init", what="normal")
    with pytest.raises(ConfigError, match=r"model.init.bias: must be a finite number"):
        parse_options(NormalOptions, {"bias": "nan"}, "model.init", what="normal")  # text read as a number too
