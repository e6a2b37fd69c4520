"""What the run store keeps of one run folder: its metric rows, artefacts, tags and a signature that changes
whenever the folder does (so `sync` re-reads only changed runs)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from deepscope.track.runfiles import folder_text, parse_json, text_only
from deepscope.track.runinfo import FILES, RunInfo, flatten, read_run
from deepscope.track.store_query import as_number

MAX_ARTEFACTS = 500  # files listed per run: a folder of thousands of checkpoints is not a table's business
MAX_TAGS, TAG_CHARS = 100, 1000  # tags kept of a run's tags.json, and the characters of a key or a value
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
    return rows + [(None, None, name, number) for name, value in finals.items()
                   if (number := as_number(value)) is not None]


def folder_signature(folder: Path) -> str:
    """Sizes and modification times of a run's files: it changes whenever the run folder does."""
    parts = []
    for name in SIGNED_FILES:
        try:
            stat = (folder / name).lstat()  # a link is not followed, here or anywhere in a run folder
        except OSError:
            continue
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:20]


def folder_artefacts(folder: Path) -> list[tuple[str, str, int]]:
    """(relative path, kind, bytes) of the files in a run folder, temporary files left out."""
    found: list[tuple[str, str, int]] = []
    for directory, subfolders, files in os.walk(folder):
        if len(found) >= MAX_ARTEFACTS:  # a folder of a million files is not walked to its end
            break
        subfolders.sort()
        for name in sorted(files):
            if name.startswith(".") or len(found) >= MAX_ARTEFACTS:
                continue
            path = Path(directory) / name
            # a name of bytes that are not UTF-8 is stored with replacement characters (SQLite holds text)
            relative = text_only(path.relative_to(folder).as_posix())
            try:
                found.append((relative, artefact_kind(relative), path.lstat().st_size))
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
    """The tags of a run's tags.json (written by set_tags), at most MAX_TAGS of TAG_CHARS each; None when there is
    none or it is damaged, a link out of the folder or too big (then the store's tags are kept)."""
    text, problem = folder_text(folder, "tags.json")
    tags, problem = parse_json(text, "tags.json") if text is not None else (None, problem)
    if problem is not None or not isinstance(tags, dict):
        return None
    return {str(k)[:TAG_CHARS]: str(v)[:TAG_CHARS] for k, v in list(tags.items())[:MAX_TAGS]}
