"""Evaluate a finished run's saved model on one split of its data.

    deepscope.evaluate("runs/mnist-20261123-214500", split="test")   # {"loss": 0.03, "accuracy": 0.991, ...}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepscope.config.loading import load_config
from deepscope.data.prepare import encode_columns, load_splits
from deepscope.data.stream.prepare import streamed_split
from deepscope.errors import UserError
from deepscope.io import write_json
from deepscope.models.saving import load_model
from deepscope.run.translation import extra_split, translation_scores
from deepscope.track.rundir import RunDir
from deepscope.training.trainer import Trainer


def evaluate(run: str | Path, split: str = "test", *, beam: int = 5, alpha: float = 0.6) -> dict[str, Any]:
    """Metrics of the saved model on `split`, preprocessed with the *saved* features (not refitted); also
    written to RUN/evaluation-SPLIT.json. A translation run's also holds sacreBLEU's BLEU and chrF of its
    beam-search translations (`beam`, `alpha`; run/translation.py), with their signatures."""
    run_dir = RunDir(Path(run))
    if not run_dir.config.exists():
        raise UserError(f"{run}: not a run directory (config.yaml is missing)")
    config = load_config(run_dir.config)
    saved = load_model(run_dir.path)
    streamed = streamed_split(config.data, {**saved.inputs, **saved.outputs}, split)
    if streamed is not None:  # data larger than memory: the whole split, decoded as it is read
        metrics = Trainer(device=str(next(saved.model.parameters()).device)).evaluate(saved.model, streamed)
        write_json(run_dir.path / f"evaluation-{split}.json", metrics)
        return metrics
    raw, _, _ = load_splits(config.data)
    columns = raw.splits.get(split) or extra_split(config, split)
    if columns is None:
        raise UserError(f"--split {split}: this run's data has the splits {', '.join(raw.splits)}")
    # encoded with the features saved with the model, exactly as at prediction time
    tensors = encode_columns({**saved.inputs, **saved.outputs}, columns)
    device = next(saved.model.parameters()).device
    metrics = Trainer(device=str(device)).evaluate(saved.model, tensors)
    if any(f.type == "sequence" for f in saved.outputs.values()):
        metrics.update(translation_scores(saved, columns, beam=beam, alpha=alpha))
    write_json(run_dir.path / f"evaluation-{split}.json", metrics)
    return metrics
