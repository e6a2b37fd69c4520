"""The `tune:` section: the settings a hyperparameter search varies, and how it searches (`deepscope tune`, on
Optuna: run/tune.py).

Each key of `space` is a dotted config path, as in an override (`train.optimizer.lr`), and its value says what
the search tries there:

    tune:
      space:
        train.optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}   # a float, sampled evenly on a log scale
        train.optimizer.weight_decay: {uniform: [0.0, 0.1]}   # a float, evenly (step: 0.01 for a grid)
        train.batch_size: {int: [32, 256], log: true}         # an integer (step: 32 for multiples of 32)
        model.encoder.dropout: [0.1, 0.3, 0.5]                # one of these values ({choice: [...]} says the same)
        model.encoder.filters: [[32, 64], [64, 128]]          # a choice may be a list too
      trials: 30
      pruner: median             # stop bad trials early: median, halving (successive halving) or none

The objective is the config's monitored validation metric (`train.monitor`, default val.loss) in its direction.
Whether each key is a real config setting is checked where the whole config is known (run/tune_space.py).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from deepscope.config.echo import cut, shown
from deepscope.config.section import Section
from deepscope.config.values import Seed

KINDS = ("choice", "uniform", "log_uniform", "int")  # the keys that say what a dimension is
SYNTAX = "a list of values, {log_uniform: [low, high]}, {uniform: [low, high]} or {int: [low, high]}"
MAX_CHOICES = 1000
SCALARS = (str, int, float, bool, type(None))  # what Optuna can hold as a choice; anything else goes as JSON text
STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # a study names files in the run root


def check_study_name(name: str) -> str:
    """`name` if it can name a study's files in the run root (RUN_ROOT/NAME-best.yaml), else a ValueError."""
    if not STUDY_NAME.fullmatch(name):
        raise ValueError(f"study name {shown(name)}: use letters, digits, '-', '_' and '.' (not first), at most "
                         "100 characters, e.g. breastmnist-lr")
    return name


@dataclass(frozen=True)
class Dimension:
    """One setting a search varies: a choice among values, or a float or integer range (`log`: sampled evenly on
    a log scale; `step`: on a grid from `low`)."""

    kind: Literal["choice", "float", "int"]
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def probes(self) -> list[Any]:
        """The values that are checked against the config before a search starts: each choice, or both ends (and,
        for a float, one between them that is no whole number: an integer setting refuses it)."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        between = self.low + (self.high - self.low) * 0.37 if self.step is None else self.low + self.step
        return [float(self.low), float(self.high), float(between)]

    @property
    def scalar_choices(self) -> bool:
        return all(isinstance(c, SCALARS) for c in self.choices)


def parse_dimension(key: str, value: Any) -> Dimension:
    """The `Dimension` a `space` entry describes, or a ValueError naming `key`, what is wrong and what to write.

    >>> parse_dimension("train.optimizer.lr", {"log_uniform": [1e-4, 0.1]})
    Dimension(kind='float', low=0.0001, high=0.1, log=True, step=None, choices=())
    >>> parse_dimension("model.encoder.dropout", [0.1, 0.3]).choices
    (0.1, 0.3)
    """
    if isinstance(value, list):
        return _choice(key, value)
    if not isinstance(value, dict):
        raise ValueError(f"{cut(key)}: got {shown(value)}; give {SYNTAX}")
    kinds = [k for k in value if k in KINDS]
    unknown = [k for k in value if k not in (*KINDS, "log", "step")]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), (*KINDS, "log", "step"), n=1)
        hint = f"; did you mean {close[0]}?" if close else f"; give {SYNTAX}, with log: true or step: N for a range"
        raise ValueError(f"{cut(key)}: unknown key {shown(unknown[0])}{hint}")
    if len(kinds) != 1:
        found = f"both {kinds[0]} and {kinds[1]}" if kinds else "no kind"
        raise ValueError(f"{cut(key)}: {found}; give exactly one of {', '.join(KINDS)}: {SYNTAX}")
    kind = kinds[0]
    if kind == "choice":
        if set(value) != {"choice"}:
            raise ValueError(f"{cut(key)}: a choice takes no log or step; give {{choice: [a, b, c]}}")
        return _choice(key, value["choice"])
    return _range(key, kind, value)


def _choice(key: str, values: Any) -> Dimension:
    if not isinstance(values, list) or not values:
        raise ValueError(f"{cut(key)}: a choice needs a list of one or more values, e.g. [0.1, 0.3, 0.5]")
    if len(values) > MAX_CHOICES:
        raise ValueError(f"{cut(key)}: {len(values):,} choices; give at most {MAX_CHOICES:,}, or a range")
    texts = [json.dumps(v, sort_keys=True, default=str) for v in values]
    if len(set(texts)) < len(texts):
        twice = next(t for t in texts if texts.count(t) > 1)
        raise ValueError(f"{cut(key)}: the choice {cut(twice)} is listed twice; list each value once")
    return Dimension("choice", choices=tuple(values))


def _range(key: str, kind: str, value: dict[str, Any]) -> Dimension:
    bounds, log, step = value[kind], value.get("log", kind == "log_uniform"), value.get("step")
    example = "[32, 256]" if kind == "int" else "[0.0001, 0.1]"
    integers = kind == "int"
    if (not isinstance(bounds, list) or len(bounds) != 2 or not all(_number(b, integers) for b in bounds)):
        what = "two whole numbers" if integers else "two numbers"
        raise ValueError(f"{cut(key)}: {kind} takes {what} [low, high], e.g. {{{kind}: {example}}} "
                         f"(got {shown(bounds)})")
    low, high = bounds
    if not low < high:
        raise ValueError(f"{cut(key)}: {kind} [{low}, {high}]: low must be below high")
    if not isinstance(log, bool) or (kind == "log_uniform" and log is False):
        raise ValueError(f"{cut(key)}: log is true or false (got {shown(log)})")
    if log and low <= 0:
        raise ValueError(f"{cut(key)}: a log scale needs low > 0 (got [{low}, {high}]); start the range above 0, "
                         "or use uniform")
    if step is not None:
        if log:
            raise ValueError(f"{cut(key)}: step and a log scale do not go together; drop one")
        if not _number(step, integers) or step <= 0 or step > high - low:
            raise ValueError(f"{cut(key)}: step must be a {'whole ' if integers else ''}number above 0 and no "
                             f"more than high - low = {high - low:g} (got {shown(step)})")
    return Dimension("int" if integers else "float", low=low, high=high, log=log, step=step)


def _number(value: Any, integers: bool) -> bool:
    if isinstance(value, bool):  # YAML's true is not 1
        return False
    return isinstance(value, int) if integers else isinstance(value, (int, float)) and math.isfinite(value)


class PrunerConfig(Section):
    """Which trials stop early, judged on the monitored metric after each epoch: `tune.pruner`.

    median: a trial whose value is worse than the median of earlier trials at the same epoch stops (Optuna's
    MedianPruner; not before `startup_trials` trials have finished, nor before epoch `warmup_epochs` + 1).
    halving: successive halving (Optuna's SuccessiveHalvingPruner): at epochs min_epochs * factor^k only the best
    1 / factor of the trials go on. none: every trial trains to its end.

        pruner: median
        pruner: {name: halving, min_epochs: 2, reduction_factor: 3}
    """

    name: Literal["median", "halving", "none"] = "median"
    startup_trials: int = Field(5, ge=0, description="median: trials that finish before any is pruned")
    warmup_epochs: int = Field(0, ge=0, description="median: epochs a trial trains before it may be pruned")
    min_epochs: int | None = Field(None, ge=1, description="halving: epochs before the first cut (default: chosen "
                                                           "by Optuna from the first trials)")
    reduction_factor: int = Field(3, ge=2, description="halving: 1 in this many trials goes on at each cut")


class TuneConfig(Section):
    """A hyperparameter search: the `tune:` section (see the module docstring).

    Args:
        space: dotted config path -> what to try there (a list of values or a range).
        trials: how many trials one `deepscope tune` runs (all its worker processes together).
        jobs: worker processes on this machine, each running trials of the one study (its CPU threads shared out).
        timeout: seconds after which no new trial starts (trials under way finish).
        pruner: see PrunerConfig. sampler: tpe (Optuna's default, Bayesian) or random. seed: the sampler's.
        direction: auto (the monitored metric's: a loss goes down, an accuracy up), minimize or maximize.
        study, storage: the study's name (default: the config file's) and where it is kept (default: a journal
            file in the run root); see `deepscope tune --help`.
    """

    space: dict[str, Any] = Field(min_length=1, description="dotted config path -> a list of values, "
                                  "{log_uniform: [low, high]}, {uniform: [low, high]} or {int: [low, high]}")
    trials: int = Field(50, ge=1, description="trials this search runs, all its worker processes together")
    jobs: int = Field(1, ge=1, le=256, description="worker processes sharing the study on this machine")
    timeout: float | None = Field(None, gt=0, description="seconds; no trial starts after it")
    pruner: PrunerConfig = Field(default_factory=PrunerConfig)
    sampler: Literal["tpe", "random"] = "tpe"
    seed: Seed | None = Field(None, description="the sampler's seed (each worker adds its number to it)")
    direction: Literal["auto", "minimize", "maximize"] = "auto"
    study: str | None = Field(None, description="the study's name (default: the config file's name)")
    storage: str | None = Field(None, description="a database URL (sqlite:///tune.db, postgresql://...) or a "
                                "journal file's path; default RUN_ROOT/STUDY.optuna.journal")

    @field_validator("pruner", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    _study = field_validator("study")(classmethod(lambda cls, v: v if v is None else check_study_name(v)))

    @field_validator("space")
    @classmethod
    def _dimensions(cls, space: dict[str, Any]) -> dict[str, Any]:
        for key, value in space.items():
            if key.split(".", 1)[0] in ("tune", "run"):
                raise ValueError(f"{cut(key)}: the search cannot vary the `{key.split('.', 1)[0]}` section (each "
                                 "trial is its own run under run.root); search model, train or data settings")
            parse_dimension(key, value)
        return space

    def dimensions(self) -> dict[str, Dimension]:
        return {key: parse_dimension(key, value) for key, value in self.space.items()}
