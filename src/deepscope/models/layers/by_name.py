"""Modules keyed by column names, whatever the names are: the one place a column name becomes a module name.

PyTorch refuses module names that contain "." (`pm2.5`, `y.z`) or that are already attributes of the dict
(`type`, `values`, `float`, `training`), and a CSV header may hold any of them. `module_key` escapes exactly
those names, percent-style, so every other name keeps its plain key (and saved weights their old keys):

    module_key("label"), module_key("pm2.5"), module_key("type")    # ('label', 'pm2%2E5', '%74ype')
    heads = ModulesByName({"pm2.5": nn.Linear(8, 1)})
    heads["pm2.5"], list(heads)                                     # the module, ['pm2.5']
    dict(heads.named_children())                                    # {'pm2%2E5': Linear(...)}: the weights' key
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import unquote

from torch import nn

# every attribute a ModuleDict has (methods, `training`, ...): a module of one of these names would shadow it
_RESERVED = frozenset(dir(nn.ModuleDict()))


def module_key(name: str) -> str:
    """The module name for a column name: "%" and "." written as %25 and %2E, and the first character escaped
    where the name would shadow an attribute. Injective, and `column_name` undoes it."""
    key = name.replace("%", "%25").replace(".", "%2E")
    if key in _RESERVED or not key:
        key = "".join(f"%{byte:02X}" for byte in key[:1].encode()) + key[1:]
    return key


def column_name(key: str) -> str:
    """The column name a `module_key` came from."""
    return unquote(key)


def readable_path(path: str) -> str:
    """A module or parameter path as a person reads it, each escaped column name decoded:
    "heads.pm2%2E5.linear.weight" -> "heads.pm2.5.linear.weight". For showing only: `get_submodule` needs the
    escaped path. Other parts are left as they are (module names that PyTorch accepts hold no "%")."""
    return ".".join(column_name(part) if "%" in part else part for part in path.split("."))


class ModulesByName(nn.ModuleDict):
    """An `nn.ModuleDict` read and written by column name; its state-dict keys are the escaped names."""

    def __getitem__(self, name: str) -> nn.Module:
        return super().__getitem__(module_key(name))

    def __setitem__(self, name: str, module: nn.Module) -> None:
        super().__setitem__(module_key(name), module)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(module_key(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(module_key(name))

    def __iter__(self) -> Iterator[str]:
        return (column_name(key) for key in super().__iter__())

    def keys(self) -> Iterable[str]:  # type: ignore[override]
        return list(self)

    def items(self) -> Iterable[tuple[str, nn.Module]]:  # type: ignore[override]
        return [(column_name(key), module) for key, module in super().items()]

    def pop(self, name: str) -> nn.Module:
        module = self[name]
        del self[name]
        return module
