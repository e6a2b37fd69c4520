"""Where the dashboard reads its runs: the run store of the root (`<root>/runs.sqlite`), rebuilt from the run
folders when the dashboard starts and brought up to date with them at each listing, so that runs trained without
the store, or since the start, appear too.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deepscope.errors import UserError
from deepscope.track.store import RunStore


class RunSource:
    """The runs of one root, read through the run store."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserError(f"run root {self.root} does not exist: train a run first (`deepscope train CONFIG`) "
                            "or pass --root with the folder that holds your runs")
        self.store = RunStore.for_root(self.root)  # one connection, which the store guards for all threads

    def reindex(self) -> int:
        """Rebuild the store from the run folders; the number of runs."""
        return self.store.reindex(self.root)

    def sync(self) -> int:
        """Record the folders that are new or changed (a training still going, one just finished); cheap when
        nothing changed. The number of runs recorded again."""
        return self.store.sync(self.root)

    def runs(self, *, where: list[str], sort: str | None, descending: bool, limit: int | None) -> list[dict]:
        rows = self.store.runs(where=list(where), sort=sort or None, descending=descending, limit=limit)
        return [finite(row) for row in rows]

    def run(self, name: str) -> dict | None:
        row = self.store.run(name)
        return finite(row) if row is not None else None

    def metric_names(self, name: str) -> list[str]:
        return list(self.store.metric_names(name))

    def metric_series(self, name: str, metric: str) -> list[list[float | None]]:
        return [[finite(x), finite(y)] for x, y in self.store.metric_series(name, metric)]


def finite(value: Any) -> Any:
    """The value with NaN and infinities as None: a diverged run logs NaN losses, and JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value
