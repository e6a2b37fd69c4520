"""The typed config: `data`, `model`, `train` and `run` sections.

Every section forbids unknown keys, so a typo (`train.epocs`) is an error that names its path instead of a
setting silently ignored. Options that belong to a registered object (an encoder's `filters`, an
optimizer's `momentum`) stay as free dicts here and are checked by that object, because `config` must not
import `models` or `train` (see DESIGN.md, dependency direction).

Compact forms are accepted where a person would write them: `optimizer: adam` means `{name: adam}`,
`encoder: cnn` means `{name: cnn}`, `inputs: {image: image}` means `{image: {type: image}}`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from deepscope.config.corpus import CorpusConfig
from deepscope.config.echo import shown
from deepscope.config.music import MusicConfig
from deepscope.config.registry import OPTIMIZER_NAMES, SCHEDULE_NAMES, unknown_name
from deepscope.config.section import Section
from deepscope.config.series import SeriesConfig
from deepscope.config.translation import TranslationConfig
from deepscope.config.tune import TuneConfig
from deepscope.config.values import Seed, Size


def named(value: Any) -> Any:
    """`adam` -> `{name: adam}`; a dict passes through (copied, so callers may pop from it)."""
    if isinstance(value, str):
        return {"name": value}
    return dict(value) if isinstance(value, dict) else value


class FeatureSpec(Section):
    """One column and how to treat it. Options other than `type` go to the feature (e.g. `size` for images)."""

    model_config = ConfigDict(extra="allow")
    type: str | None = None


def feature_specs(value: Any) -> Any:
    """`{image: image}` -> `{image: {type: image}}`; a list of names -> types inferred."""
    if isinstance(value, list):
        return {name: {} for name in value}
    if isinstance(value, dict):
        return {name: ({"type": spec} if isinstance(spec, str) else spec or {}) for name, spec in value.items()}
    return value


class SplitConfig(Section):
    """How to make the splits a source does not give: `data.split`.

    Args:
        val, test: fractions of the whole (or of train, for `val` when the source gives a test split).
        seed: the seed of the shuffle.
        stratify: keep each class's share the same in every split (classification outputs).

        split: {val: 0.1, test: 0.2, seed: 0}
    """

    val: float = Field(0.1, ge=0.0, lt=1.0)
    test: float = Field(0.2, ge=0.0, lt=1.0)
    seed: Seed = 0
    stratify: bool = True


class AugmentConfig(Section):
    """Batched, on-device augmentation of image inputs, applied to training batches only: `data.augment`.

        augment: {flip: horizontal, shift: 2, rotate: 10}
    """

    flip: Literal["none", "horizontal", "vertical", "both"] = "none"
    shift: int = Field(0, ge=0, description="random translation, in pixels, up to this many each way")
    rotate: float = Field(0.0, ge=0.0, le=180.0, description="random rotation, in degrees, up to this much each way")


DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")  # the devices deepscope trains on (training/distributed.py)

class WeightsConfig(Section):
    """Per-example weights in the training loss: `data.weights`. Validation and test losses and metrics stay
    unweighted, so runs with and without weights are scored alike.

    Args:
        balance: a column of the data, or several for their joint groups, whose groups should weigh the same in the
            training loss overall: a training example of a group of n_g rows weighs n / (G * n_g), n training rows
            in G groups, so the weights average 1 and each group's weights sum to n / G. The column need not be a
            model input (a sensitive attribute kept with the data for the fairness audit); a missing value is a
            group of its own. The loss of a batch is the weighted mean sum(w * loss) / sum(w).

        weights: {balance: sex}
        weights: {balance: [sex, income]}    # each (sex, income) pair weighs the same
    """

    balance: list[str] = Field(min_length=1, description="the column(s) whose groups (joint groups for several) "
                                                         "weigh the same in the training loss")

    _one_column = field_validator("balance", mode="before")(
        classmethod(lambda cls, v: [v] if isinstance(v, str) else v))


class DataConfig(Section):
    """What to learn from: the `data:` section.

    Args:
        source: a builtin dataset's name (digits, mnist, ...), a folder of class sub-folders (images, WAVs, texts),
            a folder of IDX files (MNIST's format: train-images-idx3-ubyte[.gz], ...), a CSV/TSV file, or an .npz
            file.
        inputs, outputs: column -> feature type (image, number, category, binary, text, audio), or a dict with
            `type` and the feature's options; an output's other options go to its head (`label_smoothing`).
            Types are inferred where obvious, and outputs from the source where it says (class folders).
        split, augment, series, corpus, music, translation: see SplitConfig, AugmentConfig, SeriesConfig,
            CorpusConfig, MusicConfig, TranslationConfig.
        delimiter, pattern, limit: a table's delimiter; file names that carry columns; at most `limit` rows.
        header, columns, encoding: how a table (a `series` file too) or text file is read; see their descriptions.
        test_source, strip: a separate test file read like `source`; characters stripped from a column's values.
        weights: per-example loss weights in training; see WeightsConfig.
        stream: auto, true or false: data larger than memory is streamed (data/stream/__init__.py).

        data: {source: mnist, inputs: {image: image}, outputs: {label: {type: category, label_smoothing: 0.1}}}
        data: {source: adult.data, header: false, columns: [age, workclass, ...], outputs: {income: binary}}
        data: {source: adult.data, test_source: adult.test, strip: {income: "."}, weights: {balance: sex}}
    """

    source: str
    inputs: dict[str, FeatureSpec] = Field(default_factory=dict)
    outputs: dict[str, FeatureSpec] = Field(default_factory=dict)
    split: SplitConfig = Field(default_factory=SplitConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    delimiter: str | None = None
    pattern: str | None = Field(None, description="file names that carry columns, e.g. {label}_{speaker}_{index}.wav")
    limit: int | None = Field(None, ge=1, description="use at most this many training rows (quick trials)")
    header: bool | None = Field(
        None, description="whether a table's first line names its columns; default yes, with a warning when some "
                          "of its names are numbers (then it is often data: UCI files have no header row)")
    columns: list[str] | None = Field(
        None, description="a table's column names, in order: for a file without a header row (header: false), or "
                          "instead of its header's names; without a header and without columns: column_1, column_2...")
    encoding: str | None = Field(
        None, description="the text encoding of a table or text files (cp1252, latin-1, utf-8, ...): lines not "
                          "valid in it are left out, counted and listed in diagnosis.json. Default: UTF-8, and a "
                          "line that is not UTF-8 read as Windows-1252 (said once on the console)")
    series: SeriesConfig | None = Field(None, description="forecast a time series: windows instead of rows")
    corpus: CorpusConfig | None = Field(None, description="model a text file: next-token prediction (a language "
                                                          "model, `deepscope generate`); see config/corpus.py")
    music: MusicConfig | None = Field(None, description="model melodies: one voice of a folder of MusicXML/MIDI "
                                                        "files (or bach-chorales) as notes to predict; `deepscope "
                                                        "generate` writes .mid files; see config/music.py")
    translation: TranslationConfig | None = Field(
        None, description="translate: parallel text files in a folder (a sequence-to-sequence model, `deepscope "
                          "translate`); see config/translation.py")
    test_source: str | None = Field(
        None, description="a second file or folder read like `source`, with the same options, as the test split: for "
                          "data sets distributed as a training and a test file (UCI Adult: adult.data, adult.test); "
                          "validation is then carved from the training file. Not with a source that has its own test "
                          "split")
    strip: dict[str, str] | None = Field(
        None, description="characters stripped from both ends of a table column's values as it is read, per column "
                          "(Python's str.strip): {income: \".\"} reads Adult's test labels `>50K.` as `>50K`. Spaces "
                          "are always stripped, and `?`, NA, N/A, nan, NaN, null, None and empty cells are missing "
                          "values")
    weights: WeightsConfig | None = Field(None, description="per-example loss weights in training, e.g. {balance: sex}")
    stream: Literal["auto"] | bool = Field(
        "auto", description="decode examples lazily in DataLoader worker processes instead of holding them in memory: "
                            "for folders of images, WAVs or texts, CSV/TSV tables and `deepscope shard` folders. auto: "
                            "stream when the data would take more than half the available memory (or "
                            "DEEPSCOPE_MEMORY_LIMIT, e.g. 2G); see data/stream")

    _specs = field_validator("inputs", "outputs", mode="before")(classmethod(lambda cls, v: feature_specs(v)))


class ComponentSpec(Section):
    """A registered component by name, with its options (checked by the component itself)."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(None, description="registered name; None picks the default for the data")


def registered(kind: str, names: tuple[str, ...]) -> Any:
    """A validator of `name` against the names `training` registers (config/registry.py lists them)."""

    def check(cls: type, value: str | None) -> str | None:
        if value is not None and value not in names:
            raise ValueError(unknown_name(kind, value, names))
        return value

    return field_validator("name")(classmethod(check))


class OptimizerSpec(ComponentSpec):
    name: str | None = Field("adam", description=f"one of {', '.join(OPTIMIZER_NAMES)}")
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)

    _registered = registered("optimizer", OPTIMIZER_NAMES)


class ScheduleSpec(ComponentSpec):
    name: str | None = Field("onecycle", description=f"one of {', '.join(SCHEDULE_NAMES)}")

    _registered = registered("schedule", SCHEDULE_NAMES)


class CombinerConfig(Section):
    """What joins the encoders' outputs before the heads: `model.combiner` (concatenation, then dense layers).

        combiner: {hidden: [128], dropout: 0.2, activation: relu}
    """

    hidden: list[Size] = Field(default_factory=list, description="sizes of dense layers after concatenation")
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    activation: str = "relu"


class ModelConfig(Section):
    """The network: the `model:` section. Give an encoder (for every input), encoders by input, or a plain
    layer list; the output layers come from the outputs' types.

    Args:
        encoder: a registered encoder (cnn, resnet, mlp, tabular, lstm, gru, rnn, cnn1d, transformer) with its
            options: `encoder: cnn` or `encoder: {name: cnn, filters: [32, 64]}`.
        encoders: one per input column, `{image: cnn, review: lstm}`, for models with several inputs.
        layers: the beginner's form: `[conv2d: {filters: 32, kernel: 3}, relu, maxpool2d: 2, dense: 128, relu]`.
            A layer's own `init` sets how its weights start: `dense: {units: 64, init: xavier}`.
        init: how the weights of every hidden layer (layer list, encoders, combiner) start: `normal` (`std`,
            `mean`), `uniform` (`limit`), `xavier` (`gain`, `distribution`), `kaiming` (`nonlinearity`, `mode`,
            `distribution`), `orthogonal` (`gain`) or `default` (PyTorch's), each with `bias` (0). An encoder's own
            `init` option wins over it: `encoder: {name: mlp, init: kaiming}`. The output layers keep PyTorch's.
        combiner: see CombinerConfig.

        model: {encoder: {name: lstm, hidden: 128, bidirectional: true, embedding: {dim: 100}}}
    """

    encoder: ComponentSpec | None = None
    encoders: dict[str, ComponentSpec] = Field(default_factory=dict)
    layers: list[Any] | None = None
    init: str | dict[str, Any] | None = Field(None, description="how the hidden layers' weights start: xavier, "
                                              "kaiming, orthogonal, {name: normal, std: 0.01}, ...")
    combiner: CombinerConfig = Field(default_factory=CombinerConfig)

    _named = field_validator("encoder", mode="before")(classmethod(lambda cls, v: named(v)))

    @field_validator("encoders", mode="before")
    @classmethod
    def _named_each(cls, value: Any) -> Any:
        return {k: named(v) for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _one_form(self) -> ModelConfig:
        if self.layers is not None and (self.encoder is not None or self.encoders):
            raise ValueError("give either `layers` (a plain layer list) or `encoder`/`encoders`, not both")
        return self


class EarlyStoppingConfig(Section):
    """`train.early_stopping`: stop when `monitor` (default `train.monitor`) has not improved by `min_delta` for
    `patience` epochs. `early_stopping: 5` means `{patience: 5}`; `true` the defaults."""

    patience: int = Field(5, ge=1)
    monitor: str | None = None
    min_delta: float = Field(0.0, ge=0.0)


class TrainConfig(Section):
    """How to train: the `train:` section, and the defaults of `deepscope.Trainer` (the one place they are written).

    Each field says what it does. `optimizer: adam` means `{name: adam}` (options: lr, weight_decay, and the
    optimizer's own, e.g. momentum); `schedule: onecycle` means `{name: onecycle}` (options: warmup and the
    schedule's own). `early_stopping`, `ema`, `restore_best` and `checkpoint_every` become callbacks
    (`deepscope.run.recipe.callbacks_for`).

        train: {epochs: 10, batch_size: 128, optimizer: {name: adamw, lr: 0.003, weight_decay: 0.05},
                schedule: onecycle, early_stopping: {patience: 5}, precision: bf16}
    """

    epochs: int | None = Field(None, ge=1, description="passes over the training data; default (auto): enough for "
                               "at least 1,000 optimizer steps, 10 to 500 epochs, stopping early after a tenth of "
                               "them without improvement unless early_stopping is set (deepscope/training/length.py)")
    batch_size: int | None = Field(None, ge=1, description="examples per optimizer step; default (auto): 128, "
                                   "or a quarter of the training rows (a power of two, at least 8) for tiny data")
    eval_batch_size: int | None = Field(None, ge=1)
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    grad_clip: float | None = Field(None, ge=0.0, description="clip the global gradient norm to this; 0 turns "
                                    "clipping off; default: 1.0 for recurrent models (rnn, lstm, gru), else off")
    ema: float | None = Field(None, gt=0.0, lt=1.0, description="keep an average of the weights with this decay")
    early_stopping: EarlyStoppingConfig | None = None
    monitor: str | None = Field(None, description="metric that picks the best checkpoint, e.g. val.loss")
    restore_best: bool = Field(True, description="the saved model is the best epoch on `monitor` (else the last)")
    checkpoint_every: int | None = Field(None, ge=1, description="also checkpoint every N steps")
    seed: Seed = 0
    deterministic: bool = False
    device: str = Field("auto", description="auto (a CUDA GPU when there is one, else the CPU), cpu, cuda, cuda:N "
                        "or mps")
    precision: Literal["fp32", "bf16", "fp16"] = Field("fp32", description="fp32, or bf16 / fp16 autocast "
                                                       "(fp16 with loss scaling, CUDA only)")
    compile: bool = Field(False, description="train through torch.compile; the seconds spent compiling are logged "
                          "apart (compile_time), not in the epochs' time")
    log_every: int = Field(50, ge=1, description="steps between progress updates (each one syncs the device)")

    _named = field_validator("optimizer", "schedule", mode="before")(classmethod(lambda cls, v: named(v)))

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        # only the kind of device is checked here; whether this machine has it, when training starts
        if not DEVICE.fullmatch(value):
            raise ValueError(f"unknown device {shown(value)}; use auto, cpu, cuda, cuda:N (N a GPU number) or mps")
        return value

    @field_validator("early_stopping", mode="before")
    @classmethod
    def _patience_only(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False:
            return None
        return {"patience": value} if isinstance(value, int) else value


class DiagnoseConfig(Section):
    """Diagnostics: on by default; they watch training and say what is wrong and what to change.

        diagnose: false                                   # off
        diagnose: {every: 20, skip: [calibration]}        # measure every 20 steps; one detector off
    """

    enabled: bool = True
    every: int | None = Field(None, ge=1,
                              description="steps between measurements (default: about 4 an epoch, 10 to 50 apart)")
    skip: list[str] = Field(default_factory=list, description="detectors to turn off, e.g. [calibration]")

    @model_validator(mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value


class RunConfig(Section):
    """Where the run goes and what it keeps besides the model: the `run:` section.

        run: {root: runs, name: mnist-baseline, tensorboard: true, tags: {group: baseline}}
    """

    root: str = "runs"
    name: str | None = Field(None, description="the run folder under root, a plain name and not a path "
                                                 "(default: the data's name and the start time)")
    tensorboard: bool = Field(False, description="also write TensorBoard event files to RUN_DIR/tensorboard/")
    report: bool = Field(True, description="write RUN_DIR/report.html at the end of training")
    tags: dict[str, str] = Field(default_factory=dict, description="labels for the run store: runs list --where "
                                                                   "tag:KEY=VALUE")

    @field_validator("name")
    @classmethod
    def _one_folder_name(cls, value: str | None) -> str | None:
        # the name becomes a folder under `root`: a path in it (../x, /tmp/x, a/b) would write the run elsewhere
        if value is None:
            return value
        if not value.strip() or value in {".", ".."} or any(c in value for c in "/\\:\0") or value.startswith("."):
            raise ValueError(f"{shown(value)} is not a folder name: give a plain name (letters, digits, - _ and .; not "
                             "starting with a dot) and put the folder it goes in as run.root")
        return value


class Config(Section):
    """A whole config: `data` (required), `model`, `train`, `diagnose`, `run`, and `tune` (a search space for
    `deepscope tune`, ignored by `deepscope train`); see each section's class.

        config = load_config("examples/mnist.yaml", ["train.epochs=3"])   # a Config, validated, with every default
    """

    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    diagnose: DiagnoseConfig = Field(default_factory=DiagnoseConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    # left out of a dump when absent, so the config.yaml of a run that is no search has no `tune: null`
    tune: TuneConfig | None = Field(None, exclude_if=lambda value: value is None,
                                    description="a hyperparameter search: `deepscope tune` (config/tune.py)")
