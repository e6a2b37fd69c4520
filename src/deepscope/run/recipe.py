"""The trainer a config describes, with the callbacks it asks for: the one place they are built, so training,
learning curves and the learning-rate range test run the same recipe.

    trainer = trainer_for(config, run_dir, data=prepared)      # everything `deepscope train` uses
    trainer = trainer_for(config)                               # the recipe alone: no logs, checkpoints or store
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepscope.config.schema import Config
from deepscope.data.prepare import PreparedData
from deepscope.diagnose import Record
from deepscope.diagnose.callback import Diagnostics
from deepscope.diagnose.profile import profile_data
from deepscope.track.rundir import RunDir
from deepscope.training.callbacks import (
    Callback,
    EarlyStopping,
    ExponentialMovingAverage,
    MetricsLogger,
    ModelCheckpoint,
    ProgressBar,
    StoreLogger,
    TensorBoard,
)
from deepscope.training.callbacks.text_samples import TextSamples
from deepscope.training.trainer import Trainer


def trainer_for(config: Config, run_dir: RunDir | None = None, *, progress: bool = False,
                data: PreparedData | None = None, **options: Any) -> Trainer:
    """`Trainer.from_config(config.train)` with `callbacks_for(...)`; `options` override any Trainer setting."""
    strategy = options.get("strategy")
    callbacks = callbacks_for(config, run_dir, progress=progress, data=data,
                              main=strategy is None or strategy.is_main)
    return Trainer.from_config(config.train, callbacks=callbacks, **options)


def callbacks_for(config: Config, run_dir: RunDir | None = None, *, progress: bool = False,
                  data: PreparedData | None = None, main: bool = True) -> list[Callback]:
    """The callbacks `config` asks for, in the order they must run.

    Always those that change what is trained (early stopping, weight averaging). With a run folder, also what
    a run keeps: progress, diagnostics (their data profile from `data`), TensorBoard, metrics.jsonl, the run
    store, and last the checkpoint (so that it saves every other callback's updated state), which restores
    the best epoch at the end when `train.restore_best` says so.

    On a DDP rank other than 0 (`main` False, no run folder) also the diagnostics, which write nothing there
    but take part in reducing their measurements over the ranks.
    """
    t = config.train
    bar = ProgressBar() if progress and run_dir is not None else None
    callbacks: list[Callback] = [bar] if bar else []
    if t.early_stopping:
        callbacks.append(EarlyStopping(t.early_stopping.patience, t.early_stopping.monitor, t.early_stopping.min_delta))
    if t.ema:
        callbacks.append(ExponentialMovingAverage(t.ema))
    if run_dir is None and not main and config.diagnose.enabled:
        return callbacks + [Diagnostics(every=config.diagnose.every, path=None, live=False, skip=config.diagnose.skip,
                                        finish_at_fit_end=False)]
    if run_dir is None:
        return callbacks
    if config.diagnose.enabled:
        record = Record(data=profile_data(data)) if data is not None else Record()
        callbacks.append(Diagnostics(every=config.diagnose.every, path=run_dir.diagnosis, live=progress,
                                     console=bar.console if bar else None, skip=config.diagnose.skip,
                                     record=record, finish_at_fit_end=False))
    if config.run.tensorboard:
        callbacks.append(TensorBoard(run_dir.path / "tensorboard"))
    # the run store sits beside the run folders of the root (`deepscope runs`, `deepscope ui`)
    store = StoreLogger(Path(config.run.root) / "runs.sqlite", run_dir.path, config=config.model_dump(mode="json"),
                        tags=config.run.tags)
    checkpoint = ModelCheckpoint(run_dir.checkpoints, every_steps=t.checkpoint_every, restore_best=t.restore_best)
    return callbacks + _text_samples(run_dir, data) + [MetricsLogger(run_dir.metrics), store, checkpoint]


SAMPLES_PER_EPOCH, SAMPLE_TOKENS = 2, 200  # a language model's texts after each epoch (RUN/samples.jsonl)


def _text_samples(run_dir: RunDir, data: PreparedData | None) -> list[Callback]:
    tokens = next((f for f in data.inputs.values() if f.type == "tokens"), None) if data is not None else None
    if tokens is None:
        return []
    from deepscope.models.generation import generate_text

    def write(model: Any) -> list[str]:
        return generate_text(model, tokens, max_tokens=SAMPLE_TOKENS, n=SAMPLES_PER_EPOCH, seed=0)
    return [TextSamples(run_dir.samples, write)]


def output_path(out: str | Path | bool | None, source: Any, config: Config, what: str) -> Path | None:
    """Where a command that reads a config writes its plot: `out` itself; for True, RUN_ROOT/WHAT-NAME.png with
    NAME the config file's name (or, for a config given as a dict, the data source's); None for no file."""
    if out is None or out is False:
        return None
    if out is not True:
        return Path(out)
    name = Path(source).stem if isinstance(source, (str, Path)) else Path(config.data.source).stem or "config"
    return Path(config.run.root) / f"{what}-{name}.png"
