"""The builtin datasets: which there are, whether each is on this machine, and getting one.

    deepscope.datasets()                     # [{"name": "mnist", "description": ..., "present": True, "where": ...}]
    deepscope.datasets(download="fsdd")      # downloads it into the cache (checked by sha256) unless present
"""

from __future__ import annotations

from typing import Any

from deepscope.data.sources.builtin import BUILTIN_DATASETS, dataset_status


def datasets(download: str | None = None) -> list[dict[str, Any]]:
    """Every builtin dataset and where it is; with `download`, that one is fetched first (and alone listed)."""
    if download:
        BUILTIN_DATASETS.get(download, where="--download").load()
    names = [download] if download else [name for name, _ in BUILTIN_DATASETS.items()]
    listed = []
    for name in names:
        present, where = dataset_status(name)
        listed.append({"name": name, "description": BUILTIN_DATASETS.get(name).description, "present": present,
                       "where": where})
    return listed
