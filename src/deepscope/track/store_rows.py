"""What the run store keeps of one run folder: its metric rows, artefacts, tags and a signature that changes
whenever the folder does (so `sync` re-reads only changed runs)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from deepscope.track.runinfo import FILES, RunInfo, flatten, read_run
from deepscope.track.store_query import as_number

MAX_ARTEFACTS = 500  # files listed per run: a folder of thousands of checkpoints is not a table's business
SIGNED_FILES = (*FILES, "model/weights.safetensors", "tags.json")  # a change to any of these re-reads a run


def read_folder(folder: Path) -> tuple[RunInfo, str, list[tuple[str, str, int]]]:
    signature = folder_signature(folder)  # before reading: a change made meanwhile is seen at the next sync
    return read_run(folder), signature, folder_artefacts(folder)


def metric_rows(info: RunInfo, steps: dict[int, int]) -> list[tuple[int | None, int | None, str, float]]:
    """(step, epoch, name, value): the per-epoch rows of metrics.jsonl, then the final evaluations (no step)."""
    rows = []
    for index, row in enumerate(info.epochs, 1):
        epoch = row.get("epoch") if isinstance(row.get("epoch"), int) else index
        rows += [(steps.get(epoch, epoch), epoch, name, number) for name, value in row.items()
                 if name != "epoch" and (number := as_number(value)) is not None]
    finals = dict(info.headline())
    for split, evaluation in info.forecast.items():  # one-step and horizon errors of the model and baselines
        for key, value in flatten({k: evaluation.get(k) for k in ("one_step", "horizon")}).items():
            if not key.endswith(".steps") and ".forecast." not in key and as_number(value) is not None:
                finals[f"forecast.{split}.{key}"] = value
    return rows + [(None, None, name, float(value)) for name, value in finals.items()]


def folder_signature(folder: Path) -> str:
    """Sizes and modification times of a run's files: it changes whenever the run folder does."""
    parts = []
    for name in SIGNED_FILES:
        try:
            stat = (folder / name).stat()
        except OSError:
            continue
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:20]


def folder_artefacts(folder: Path) -> list[tuple[str, str, int]]:
    """(relative path, kind, bytes) of the files in a run folder, temporary files left out."""
    found = []
    for directory, subfolders, files in os.walk(folder):
        subfolders.sort()
        for name in sorted(files):
            if name.startswith(".") or len(found) >= MAX_ARTEFACTS:
                continue
            path = Path(directory) / name
            relative = path.relative_to(folder).as_posix()
            try:
                found.append((relative, artefact_kind(relative), path.stat().st_size))
            except OSError:
                continue  # removed while listed
    return found


def artefact_kind(relative: str) -> str:
    kinds = {"config.yaml": "config", "env.json": "environment", "metrics.jsonl": "metrics",
             "model/model.json": "model", "model/weights.safetensors": "weights", "diagnosis.json": "diagnosis",
             "report.html": "report", "tags.json": "tags"}
    if relative in kinds:
        return kinds[relative]
    return "checkpoint" if relative.startswith("checkpoints/") else "file"


def folder_tags(folder: Path) -> dict[str, str] | None:
    # tags.json is written by set_tags; a damaged one is ignored (the store's tags are kept)
    try:
        tags = json.loads((folder / "tags.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else None
