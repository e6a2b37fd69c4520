"""Registries map the names used in configs to the objects that implement them.

Each object registers where it is defined::

    ENCODERS = Registry("encoder")

    @ENCODERS.register("cnn")
    class CnnEncoder(Encoder): ...

    ENCODERS.get("cnn")  # -> CnnEncoder; an unknown name raises ConfigError listing the known ones

The optimizers and schedules are defined in `training`, which `config` may not import; their names are listed
here too, so that the schema refuses `optimizer: adamz` while the config is read, before a run folder exists
(tests/config/test_names.py checks that these lists and the registries agree).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from deepscope.config.echo import shown
from deepscope.errors import ConfigError

T = TypeVar("T")

OPTIMIZER_NAMES = ("adam", "adamw", "rmsprop", "sgd")  # training/optim.py: OPTIMIZERS
SCHEDULE_NAMES = ("constant", "cosine", "onecycle", "plateau", "step")  # training/optim.py: SCHEDULES


def unknown_name(kind: str, name: object, names: Iterable[str]) -> str:
    """The one message for a name that is not registered: what was given and every name there is."""
    return f"unknown {kind} {shown(name)}; choose one of: {', '.join(sorted(names))}"


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise RuntimeError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return add

    def get(self, name: str, *, where: str = "") -> T:
        if name not in self._items:
            place = f"{where}: " if where else ""
            raise ConfigError(place + unknown_name(self.kind, name, self.names()))
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        return [(name, self._items[name]) for name in self.names()]
