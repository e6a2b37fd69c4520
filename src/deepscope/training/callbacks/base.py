"""Callbacks: everything optional in training. Every hook is a no-op; a subclass overrides the few it needs.

Hooks run on the host. `on_batch_end` runs every step and must not sync with the device; `on_log` runs every
`log_every` steps with the loss already fetched, so that is the place for anything that needs numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deepscope.training.trainer import Trainer


class Callback:
    def on_fit_start(self, trainer: Trainer) -> None:
        pass

    def on_epoch_start(self, trainer: Trainer) -> None:
        pass

    def on_batch_end(self, trainer: Trainer) -> None:
        pass

    def on_log(self, trainer: Trainer, logs: dict[str, float]) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, float]) -> None:
        pass

    def on_fit_end(self, trainer: Trainer) -> None:
        pass

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        """Training stopped with `error` (re-raised afterwards): a chance to report what led to it."""

    # state that must survive a resume (JSON-serialisable)
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class CallbackList(Callback):
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks: list[Callback]):
        self.callbacks = list(callbacks)

    def on_fit_start(self, trainer: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_fit_start(trainer)

    def on_epoch_start(self, trainer: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_epoch_start(trainer)

    def on_batch_end(self, trainer: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_batch_end(trainer)

    def on_log(self, trainer: Trainer, logs: dict[str, float]) -> None:
        for callback in self.callbacks:
            callback.on_log(trainer, logs)

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, float]) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(trainer, logs)

    def on_fit_end(self, trainer: Trainer) -> None:
        for callback in self.callbacks:
            callback.on_fit_end(trainer)

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        for callback in self.callbacks:
            callback.on_exception(trainer, error)

    def state_dict(self) -> dict[str, Any]:
        return {f"{i}:{type(c).__name__}": c.state_dict() for i, c in enumerate(self.callbacks)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for i, callback in enumerate(self.callbacks):
            key = f"{i}:{type(callback).__name__}"
            if key in state:
                callback.load_state_dict(state[key])
