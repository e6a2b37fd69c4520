"""Explain a finished run's predictions: raw inputs or a sample of a split in; attributions, their pictures and
how far they can be trusted out.

    result = explain_run("runs/digits-...", split="test", n=100, out_dir="explanations")
    result.explanations["integrated_gradients"].attributions      # (100, 1, 8, 8)
    result.faithfulness["integrated_gradients"]["deletion_gain"]   # 0.4: the score falls 40 % faster than random
    ds.load("runs/digits-...").explain({"image": images}, method="grad_cam", out="explanations")  # run/explainer.py

Pictures come from report/explain_plots.py, the checks from explain/faithfulness/: the deletion and insertion
areas against a random order, integrated gradients' completeness error, and the model-randomisation check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from deepscope.config.loading import load_config
from deepscope.data.prepare import encode_columns, load_splits
from deepscope.data.suffixes import TABLE_SUFFIXES
from deepscope.errors import DataError, UserError
from deepscope.explain.api import applicable_methods, encoded_batch, explain
from deepscope.explain.defaults import DEFAULT_METHODS
from deepscope.explain.explanation import Explanation
from deepscope.explain.faithfulness import faithfulness_findings, randomisation_check
from deepscope.explain.measured import measure_explanation
from deepscope.explain.methods import METHODS
from deepscope.explain.methods.permutation import Importance, permutation_importance
from deepscope.explain.spaces import TABLE
from deepscope.explain.view import ScoreView
from deepscope.io import save_tensors, write_json
from deepscope.models.saving import load_model
from deepscope.run.explain_files import write_files
from deepscope.run.explain_global import tokens_by_class
from deepscope.run.predict import _existing_path, _read_table, table_reading
from deepscope.track.rundir import RunDir

DEFAULT_N = 100  # examples of a split explained: enough for the faithfulness means, seconds on a CPU
RANDOMISATION_EXAMPLES = 16  # the randomisation check re-runs the method once per layer: on a few examples


@dataclass
class ExplainResult:
    explanations: dict[str, Explanation]  # by method
    faithfulness: dict[str, dict[str, Any]] = field(default_factory=dict)  # by method: see `faithfulness`
    importance: Importance | None = None  # permutation importance with intervals (tables, series)
    tokens: dict[str, dict[str, list]] = field(default_factory=dict)  # text, by method: the top tokens per class
    files: list[Path] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(next(iter(self.explanations.values()))) if self.explanations else 0


def explain_run(run: str | Path, inputs: Sequence[str] | None = None, *, split: str | None = None,
                n: int = DEFAULT_N, method: str | None = None, target: Any = None, out_dir: str | Path | None = None,
                output: str | None = None, input_name: str | None = None, seed: int = 0,
                check: bool = True) -> ExplainResult:
    """Explanations of `inputs` (image or WAV files, texts, or a CSV file) or of `n` examples of `split`.

    Args:
        method: one registered method; default: the modality's (explain/defaults.py), those that apply.
        target: a class to explain ("7"); default: each example's predicted class.
        input_name: the input column explained, for a model that reads several; "*" for its table columns.
        out_dir: where the pictures, the arrays (explanations.safetensors) and explanations.json go; None: nowhere.
        check: measure faithfulness (deletion/insertion vs random, completeness, randomisation).
    """
    saved = load_model(run)
    output = output or next(iter(saved.outputs))
    if output not in saved.outputs:
        raise UserError(f"--output {output}: this model predicts {', '.join(saved.outputs)}")
    if inputs:
        columns = raw_columns(run, saved.inputs, list(saved.outputs), inputs)
    else:
        columns = split_sample(run, saved, split or "test", n, seed)
    batch = encoded_batch(saved.inputs, columns, next(saved.model.parameters()).device)
    view = ScoreView(saved.model, saved.inputs, output, input_name=checked_input(saved.inputs, input_name))
    methods = chosen_methods(view, method, len(next(iter(batch.values()))))
    result = ExplainResult({})
    for name in methods:
        explained = explain(saved.model, saved.inputs, output, batch, name, target, outputs=saved.outputs,
                            input_name=view.input_name)
        result.explanations[name] = explained
        if check:
            result.faithfulness[name] = faithfulness(view, batch, explained, saved.model, saved.inputs, output)
    for name, explained in result.explanations.items():
        if explained.modality == "text" and explained.method != "attention":
            result.tokens[name] = tokens_by_class(explained, getattr(saved.outputs[output], "classes", None))
    if "permutation" in result.explanations:
        targets = result.explanations["permutation"].targets
        result.importance = permutation_importance(view, batch, targets, seed=seed)
    if out_dir is not None:
        result.files = write_outputs(Path(out_dir), result, saved.outputs[output])
    return result


def checked_input(inputs: dict[str, Any], name: str | None) -> str | None:
    """The column explained: `name`, or "*" for a table column (its columns are explained together, as one
    encoder reads them); a UserError listing the model's inputs when it reads no such column."""
    if name is None or name == TABLE:
        return name
    if name in inputs:
        return TABLE if inputs[name].kind == "tabular" else name
    raise UserError(f"--input {str(name)[:80]!r}: this model reads {', '.join(inputs)}; give one of them, or * for "
                    "its table columns together")


def chosen_methods(view: ScoreView, method: str | None, n: int) -> list[str]:
    if method is not None:
        return [method]  # explain() refuses one that does not apply, listing those that do
    fitting = set(applicable_methods(view))
    defaults = [m for m in DEFAULT_METHODS[view.modality] if m in fitting]
    return [m for m in defaults if n >= 2 or METHODS.get(m).uses_gradients]  # permutation shuffles across rows


def faithfulness(view: ScoreView, batch: dict[str, torch.Tensor], explained: Explanation, model: torch.nn.Module,
                 inputs: dict[str, Any], output: str) -> dict[str, Any]:
    """The explain/faithfulness numbers for one method's explanation of `batch`, the randomisation check included,
    and what they say as findings (`"findings"`: Finding.to_dict() each; none when the maps hold up)."""
    randomisation = None
    if METHODS.get(explained.method).uses_gradients:
        few = {k: v[:RANDOMISATION_EXAMPLES] for k, v in batch.items()}
        few_targets = explained.targets[:RANDOMISATION_EXAMPLES]
        real = explained.inputs[:RANDOMISATION_EXAMPLES] != 0 if explained.modality == "text" else None

        def attribute(candidate: torch.nn.Module) -> torch.Tensor:
            maps = explain(candidate, inputs, output, few, explained.method, few_targets,
                           input_name=view.input_name).attributions
            # text: the real tokens only, as one row; padding scores 0 in every map and would tie the ranks
            return maps[real].unsqueeze(0) if real is not None else maps

        randomisation = randomisation_check(model, attribute)
    measured = measure_explanation(view, batch, explained, randomisation=randomisation)
    return {**measured.to_dict(), "findings": [finding.to_dict() for finding in faithfulness_findings(measured)]}


def raw_columns(run: str | Path, features: dict[str, Any], outputs: list[str], inputs: Sequence[str]) -> dict[str, Any]:
    """Columns by name from what a user typed: image or WAV files, texts (for a text model), or one CSV file."""
    paths = [_existing_path(value) for value in inputs]
    if len(inputs) == 1 and paths[0] is not None and paths[0].suffix.lower() in TABLE_SUFFIXES:
        return _read_table(paths[0], table_reading(run), outputs=outputs)
    own = [name for name, f in features.items() if f.kind in ("image", "audio") or f.type == "text"]
    if len(features) != 1 or not own:
        raise DataError(f"this model reads the columns {list(features)}: give a CSV file with them")
    feature = features[own[0]]
    if feature.type != "text":
        missing = [value for value, path in zip(inputs, paths) if path is None or not path.is_file()]
        if missing:
            raise DataError(f"{str(missing[0])[:200]}: no such file; give {feature.kind} files to explain")
        return {own[0]: [str(p) for p in paths]}
    return {own[0]: list(inputs)}


def split_sample(run: str | Path, saved: Any, split: str, n: int, seed: int) -> dict[str, torch.Tensor]:
    """`n` examples of `split` drawn at random (seeded), encoded with the features saved with the model."""
    run_dir = RunDir(Path(run))
    if not run_dir.config.exists():
        raise UserError(f"{run}: not a run directory (config.yaml is missing); --split needs the run's data")
    if n < 1:
        raise UserError(f"--n {n}: explain at least one example")
    raw, _, _ = load_splits(load_config(run_dir.config).data)
    if split not in raw.splits:
        raise UserError(f"--split {split}: this run's data has the splits {', '.join(raw.splits)}")
    tensors = encode_columns(saved.inputs, raw.splits[split]).tensors
    size = len(next(iter(tensors.values())))
    if size == 0:
        raise UserError(f"--split {split}: the split is empty; choose another")
    chosen = torch.randperm(size, generator=torch.Generator().manual_seed(seed))[:n]
    return {name: tensor[chosen] for name, tensor in tensors.items()}


def write_outputs(folder: Path, result: ExplainResult, output_feature: Any) -> list[Path]:
    """The arrays, a JSON summary, and the pictures (report/explain_plots.py)."""
    tensors = {f"{method}.{key}": value.contiguous() for method, e in result.explanations.items()
               for key, value in _tensors(e).items()}
    files = [save_tensors(folder / "explanations.safetensors", tensors)]
    files += write_files(folder, result.explanations, result.faithfulness, result.importance, output_feature)
    summary = {"n": result.n, "faithfulness": result.faithfulness,
               "importance": result.importance.ranked() if result.importance else None,
               "tokens_by_class": result.tokens,
               "methods": {m: {"input": e.input, "modality": e.modality, "labels": e.labels,
                               "extra": {k: v for k, v in e.extra.items() if not isinstance(v, (torch.Tensor, list))}}
                           for m, e in result.explanations.items()}}
    files.append(write_json(folder / "explanations.json", summary))
    return files


def _tensors(e: Explanation) -> dict[str, torch.Tensor]:
    out = {"inputs": e.inputs.float(), "attributions": e.attributions, "targets": e.targets, "scores": e.scores}
    if e.baseline is not None:
        out["baseline"] = e.baseline.float()
    return {k: v.detach().cpu() for k, v in out.items()}
