"""Tar shards in WebDataset's layout: `deepscope shard SOURCE OUT` writes them, `data.source: OUT` streams them.

    OUT/train-000000.tar   00000000.png 00000000.label 00000001.png 00000001.label ...   (10,000 examples each)
    OUT/test-000000.tar    ...
    OUT/shards.json        {"format": "deepscope-shards", "kind": "image", "splits": {"train": {...}}}

Each example is two members with one key: the file as it was (`.png`, `.jpg`, `.wav`, `.txt`, not decoded or
re-encoded) and `.label`, its class name in UTF-8. A shard is a plain tar: `tar tf`, Python's tarfile and the
`webdataset` package read it. deepscope writes and reads them with the standard library: a reader lists each
member's data offset from the tar headers once and then reads any example with one seek (data/stream/reading.py),
so a streamed epoch is the same permutation an in-memory one draws, with no shuffle buffer; nothing in a tar is
ever extracted to disk, so a member's name cannot write outside the folder.
"""

from __future__ import annotations

import functools
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from deepscope.data.stream.reading import member_reference
from deepscope.data.suffixes import AUDIO_SUFFIXES, IMAGE_SUFFIXES, TEXT_SUFFIXES
from deepscope.errors import DataError
from deepscope.io import atomic_write, write_json

INDEX = "shards.json"
FORMAT = "deepscope-shards"
PER_SHARD = 10_000  # examples per tar: 28x28 PNGs make shards of a few MB; photos a few hundred MB
LABEL = ".label"
MAX_MEMBER = 2**28  # 256 MB: a member larger than any image or clip deepscope decodes is not read
KIND_OF = {**{s: "image" for s in IMAGE_SUFFIXES}, **{s: "audio" for s in AUDIO_SUFFIXES},
           **{s: "text" for s in TEXT_SUFFIXES}}


def is_shard_folder(path: Path) -> bool:
    return (path / INDEX).is_file() or any(path.glob("*.tar"))


def write_shards(splits: dict[str, dict[str, np.ndarray]], column: str, kind: str, out: Path,
                 per_shard: int = PER_SHARD, progress: Callable[[int], None] | None = None) -> dict:
    """Write each split's files (`splits[split][column]`: paths; `["label"]`: class names) into tars under `out`,
    and `out/shards.json`; every tar is written atomically. Returns what shards.json holds."""
    out.mkdir(parents=True, exist_ok=True)
    index: dict = {"format": FORMAT, "version": 1, "kind": kind, "splits": {}}
    for split, columns in splits.items():
        files, labels = columns[column], columns["label"]
        names = []
        for number, start in enumerate(range(0, len(files), per_shard)):
            name = f"{split}-{number:06d}.tar"
            rows = range(start, min(start + per_shard, len(files)))
            atomic_write(out / name, functools.partial(_write_tar, files=files, labels=labels, rows=rows))
            names.append(name)
            if progress:
                progress(len(rows))
        index["splits"][split] = {"shards": names, "examples": len(files)}
    write_json(out / INDEX, index)
    return index


def _write_tar(path: Path, files: np.ndarray, labels: np.ndarray, rows: range) -> None:
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for row in rows:
            key = f"{row:08d}"
            source = Path(files[row])
            data = source.read_bytes()
            _add(tar, f"{key}{source.suffix.lower()}", data)
            _add(tar, f"{key}{LABEL}", str(labels[row]).encode("utf-8"))


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def list_shards(path: Path) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, str]]:
    """Per split, {column: member references, "label": class names}, and {column: kind}, from the tar headers."""
    shards = _shards_by_split(path)
    splits, kinds = {}, set()
    for split, files in shards.items():
        references, labels = [], []
        for shard in files:
            for reference, label, kind in _members(shard):
                references.append(reference)
                labels.append(label)
                kinds.add(kind)
        if references:
            splits[split] = {"references": references, "label": labels}
    if "train" not in splits:
        raise DataError(f"{path}: no training examples in its shards; write them with `deepscope shard SOURCE {path}`")
    if len(kinds) > 1:
        raise DataError(f"{path}: the shards mix {' and '.join(sorted(kinds))} files; one source has one kind")
    kind = kinds.pop()
    return {split: {kind: _objects(c["references"]), "label": _objects(c["label"])} for split, c in splits.items()}, \
        {kind: kind}


def _shards_by_split(path: Path) -> dict[str, list[Path]]:
    """The tars of each split: as shards.json lists them, else by their names (`train-000000.tar`; a tar whose
    name starts with no split's name is training data)."""
    index = path / INDEX
    if index.is_file():
        try:
            listed = json.loads(index.read_text(encoding="utf-8"))
            named = {split: [path / Path(n).name for n in entry["shards"]] for split, entry in listed["splits"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise DataError(f"{index}: not a readable shard index ({error}); write the shards again with "
                            "`deepscope shard`") from None
        missing = [str(p) for files in named.values() for p in files if not p.is_file()]
        if missing:
            raise DataError(f"{path}: {INDEX} lists shards that are missing: {', '.join(missing[:3])}")
        return named
    found: dict[str, list[Path]] = {}
    for tar in sorted(path.glob("*.tar")):
        split = next((s for s in ("val", "test") if tar.name.startswith(s)), "train")
        found.setdefault(split, []).append(tar)
    return found


def _members(shard: Path) -> list[tuple[str, str, str]]:
    """(reference, label, kind) per example of one tar; members are paired by their key (the name up to the
    first dot of its last part, as WebDataset pairs them)."""
    inputs: dict[str, tuple[str, str]] = {}
    labels: dict[str, str] = {}
    try:
        length = shard.stat().st_size
        with tarfile.open(shard, "r:") as tar:
            for info in tar:
                if info.offset_data + info.size > length:  # tarfile stops quietly at a cut-short end
                    raise tarfile.ReadError(f"cut short in {info.name}")
                if not info.isfile() or info.size > MAX_MEMBER:
                    continue
                folder, _, base = info.name.rpartition("/")
                stem, dot, suffix = base.partition(".")
                key = f"{folder}/{stem}"
                if f"{dot}{suffix}" == LABEL:
                    labels[key] = tar.extractfile(info).read().decode("utf-8").strip()
                elif f".{suffix.lower()}" in KIND_OF:
                    kind = KIND_OF[f".{suffix.lower()}"]
                    inputs[key] = (member_reference(shard, info.offset_data, info.size, info.name), kind)
    except (OSError, tarfile.TarError, UnicodeDecodeError) as error:
        raise DataError(f"{shard}: not a readable tar shard ({error}); write it again with `deepscope shard`") from None
    unlabelled = [k for k in inputs if k not in labels]
    if unlabelled:
        raise DataError(f"{shard}: {len(unlabelled)} example(s) without a {LABEL} member, e.g. "
                        f"{unlabelled[0].lstrip('/')}; each example needs its class name in KEY{LABEL}")
    return [(reference, labels[key], kind) for key, (reference, kind) in inputs.items()]


def _objects(values: list[str]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array
