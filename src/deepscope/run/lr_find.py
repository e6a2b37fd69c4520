"""The learning-rate range test on a config: which learning rate to train with.

    result = deepscope.lr_find("examples/mnist.yaml", steps=100, out="runs/lr-find-mnist.png")
    result.suggestion          # e.g. 3.2e-03: use it as train.optimizer.lr

The config's own model (with its pretrained layers) is trained by the config's own trainer (clipping,
precision, augmentation) for `steps` mini-batches while the `LRFinder` callback grows the rate from `start` to
`end`; then the model is thrown away. The test leaves no run directory: only the plot and its numbers, when
`out` is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from deepscope.config.loading import load_config
from deepscope.config.schema import Config
from deepscope.data.prepare import prepare_data
from deepscope.diagnose.lr_range import LRFindResult, summarise
from deepscope.io import write_json
from deepscope.report.plots import plot_lr_find
from deepscope.run.recipe import output_path
from deepscope.run.train import model_for
from deepscope.training.callbacks import Callback
from deepscope.training.callbacks.lr_finder import LRFinder
from deepscope.training.trainer import Trainer, TrainingDiverged


def lr_find(
    config: str | Path | Mapping[str, Any] | Config,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    *,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    smoothing: float = 0.98,
    seed: int | None = None,
    out: str | Path | bool | None = None,
    callbacks: Iterable[Callback] = (),
) -> LRFindResult:
    """Run the range test on the config's data, model and trainer, and judge it (`deepscope.diagnose.lr_range`).

    Args:
        config, overrides: as for `deepscope.train`.
        start, end, steps: the rates tried: `steps` of them, evenly spaced on a log scale.
        smoothing: beta of the bias-corrected moving average of the loss.
        seed: the seed of the initial weights and the batch order (default train.seed).
        out: also write the plot there (PNG) and its numbers beside it (.json); True: RUN_ROOT/lr-find-CONFIG.png.
        callbacks: more callbacks for the test's trainer (progress, or a probe in a test).
    """
    finder = LRFinder(start, end, steps, smoothing)  # a bad option fails before any data is loaded
    source, config = config, load_config(config, overrides)
    if seed is not None:
        config = load_config(config, {"train.seed": seed})
    data = prepare_data(config.data)
    model = model_for(config, data)
    # the config's trainer, but not its schedule (the finder's sweep replaces it) nor the callbacks of a training
    # (early stopping, weight averaging), which would judge or smooth a run that is not one
    trainer = Trainer.from_config(config.train, epochs=1, schedule="constant", callbacks=[finder, *callbacks])
    try:
        trainer.fit(model, data.splits["train"])
    except TrainingDiverged:
        pass  # the loss blew up at a large rate: the end a range test runs to
    result = summarise(finder.lrs, finder.losses, smoothing, stopped_early=finder.stopped_early)
    result.plot = output_path(out, source, config, "lr-find")
    if result.plot is not None:
        plot_lr_find(result, result.plot)
        write_json(result.plot.with_suffix(".json"), result.to_dict())
    return result

