"""Evaluate a finished run's saved model on one split of its data.

    deepscope.evaluate("runs/mnist-20261123-214500", split="test")   # {"loss": 0.03, "accuracy": 0.991, ...}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepscope.config.loading import load_config
from deepscope.data.prepare import encode_columns, load_splits
from deepscope.errors import UserError
from deepscope.io import write_json
from deepscope.models.saving import load_model
from deepscope.track.rundir import RunDir
from deepscope.training.trainer import Trainer


def evaluate(run: str | Path, split: str = "test") -> dict[str, Any]:
    """Metrics of the saved model on `split`, preprocessed with the *saved* features (not refitted); also
    written to RUN/evaluation-SPLIT.json."""
    run_dir = RunDir(Path(run))
    if not run_dir.config.exists():
        raise UserError(f"{run}: not a run directory (config.yaml is missing)")
    config = load_config(run_dir.config)
    saved = load_model(run_dir.path)
    raw, _, _ = load_splits(config.data)
    if split not in raw.splits:
        raise UserError(f"--split {split}: this run's data has the splits {', '.join(raw.splits)}")
    # encoded with the features saved with the model, exactly as at prediction time
    tensors = encode_columns({**saved.inputs, **saved.outputs}, raw.splits[split])
    device = next(saved.model.parameters()).device
    metrics = Trainer(device=str(device)).evaluate(saved.model, tensors)
    write_json(run_dir.path / f"evaluation-{split}.json", metrics)
    return metrics
