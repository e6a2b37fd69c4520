"""Evaluate a finished run's saved model on one split of its data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepscope.config.loading import load_config
from deepscope.data.prepare import encode_columns, load_splits
from deepscope.errors import UserError
from deepscope.io import write_json
from deepscope.serve.predictor import Predictor
from deepscope.track.rundir import RunDir
from deepscope.training.trainer import Trainer


def evaluate_run(path: str | Path, split: str = "test") -> dict[str, Any]:
    """Metrics of the saved model on `split`, preprocessed with the *saved* features (not refitted)."""
    run = RunDir(Path(path))
    if not run.config.exists():
        raise UserError(f"{path}: not a run directory (config.yaml is missing)")
    config = load_config(run.config)
    predictor = Predictor.load(run.path)
    raw, _, _ = load_splits(config.data)
    if split not in raw.splits:
        raise UserError(f"--split {split}: this run's data has the splits {', '.join(raw.splits)}")
    # encoded with the features saved with the model, exactly as at prediction time
    tensors = encode_columns({**predictor.inputs, **predictor.outputs}, raw.splits[split])
    metrics = Trainer(device=str(predictor.device)).evaluate(predictor.model, tensors)
    write_json(run.path / f"evaluation-{split}.json", metrics)
    return metrics
