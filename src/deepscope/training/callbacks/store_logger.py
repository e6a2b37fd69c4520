"""Write a run into the run store while it trains: the run at fit start, one row per metric at each epoch end.

The store is a convenience beside the run folder (which has everything, and `deepscope runs reindex` rebuilds the
store from it), so a store that cannot be opened or written never stops training: the first failure is logged
once as a warning and the logger stops trying for the rest of the run (a locked store would otherwise cost its
whole timeout at every epoch).

    logger = StoreLogger(run_dir.path.parent / "runs.sqlite", run_dir.path, config=config_dict)
    trainer = Trainer(callbacks=[..., logger]); trainer.fit(...)
    ...                                           # model saved, final evaluation appended to metrics.jsonl
    logger.finish()                               # the whole run folder into the store: finals, artefacts, status
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepscope.training.callbacks.base import Callback

log = logging.getLogger("deepscope")


class StoreLogger(Callback):
    def __init__(self, store_path: str | Path, run_dir: str | Path, config: dict[str, Any] | None = None,
                 timeout: float = 5.0, tags: dict[str, str] | None = None):
        self.store_path, self.run_dir = Path(store_path), Path(run_dir)
        self.config = config  # None: read from the run folder's config.yaml at fit start
        self.tags = dict(tags or {})
        self.timeout = timeout  # seconds to wait for a store another process holds locked
        self.failed = False
        self._store: Any = None

    def on_fit_start(self, trainer: Any) -> None:
        if not trainer.strategy.is_main:  # one writer per run, not one per process
            self.failed = True
            return

        def start(store: Any) -> None:
            store.start_run(self.run_dir, self._config())
            if self.tags:
                store.set_tags(self.run_dir, self.tags)
            for row in trainer.history:  # a resume: the epochs kept from the checkpoint, as metrics.jsonl has them
                self._log(store, row, step=int(row.get("epoch", 0)))
        self._call(start)

    def on_epoch_end(self, trainer: Any, logs: dict[str, float]) -> None:
        self._call(lambda store: self._log(store, logs, step=trainer.global_step))

    def on_exception(self, trainer: Any, error: BaseException) -> None:
        problem = f"training stopped: {type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
        self._call(lambda store: store.finish_run(self.run_dir, "incomplete", [problem]))

    def finish(self) -> None:
        """Record the finished run folder (model, final evaluations, artefacts, status) once the run has ended."""
        from deepscope.track.runinfo import read_run

        self._call(lambda store: store.record_run(read_run(self.run_dir)))

    def _log(self, store: Any, logs: dict[str, Any], step: int) -> None:
        epoch = logs.get("epoch")
        values = {k: v for k, v in logs.items() if k != "epoch"}
        store.log_metrics(self.run_dir, step, values, epoch=int(epoch) if epoch is not None else None)

    def _config(self) -> dict[str, Any]:
        if self.config is not None:
            return self.config
        from deepscope.track.runinfo import read_run

        return read_run(self.run_dir).config

    def _call(self, action: Callable[[Any], None]) -> None:
        """`action(store)`, or nothing once the store has failed; a failure is a warning, never an error."""
        if self.failed:
            return
        try:
            if self._store is None:
                from deepscope.track.store import RunStore

                self._store = RunStore(self.store_path, timeout=self.timeout)
            action(self._store)
        except Exception as error:  # any failure of the store, whatever it is, must not stop training
            self.failed = True
            log.warning("run store %s is unavailable (%s: %s); training goes on without it, the run folder has "
                        "everything: `deepscope runs reindex` brings the run into the store later",
                        self.store_path, type(error).__name__, error)
