"""Dotted overrides on top of a config dict: `train.epochs=3`, `train.optimizer.lr=0.01`, `data.outputs.pm2.5=number`.

Column names may hold dots themselves (`pm2.5`, `y.z`), so inside the sections keyed by column names
(`data.inputs`, `data.outputs`, `data.series.fill`, `model.encoders`) a key is read this way:

- the longest dotted name that is already a key there wins: with `outputs: {pm2.5: number}` in the YAML,
  `data.outputs.pm2.5.label_smoothing=0.1` sets an option of `pm2.5`;
- a part that starts with a digit continues the name before it (an option's name never starts with one), so
  `data.outputs.pm2.5=number` names the column `pm2.5` even when the YAML does not;
- a part in quotes is one name, whatever it holds: `data.inputs."y.z"=category` (quote the whole argument in a
  shell: `'data.inputs."y.z"=category'`).

    raw = {"data": {"outputs": {"pm2.5": "number"}}}
    apply_overrides(raw, ["data.outputs.pm2.5.label_smoothing=0.1"])
    raw["data"]["outputs"]                           # {'pm2.5': {'type': 'number', 'label_smoothing': 0.1}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from deepscope.config.echo import cut, shown
from deepscope.config.yaml_text import DEPTH_LIMIT, parse_yaml
from deepscope.errors import ConfigError

# the sections whose keys are column names (config/schema.py: DataConfig.inputs/outputs, SeriesConfig.fill,
# ModelConfig.encoders); a column's compact string there means its `type`, elsewhere a component's `name`
COLUMN_KEYED = {("data", "inputs"): "type", ("data", "outputs"): "type", ("data", "series", "fill"): None,
                ("model", "encoders"): "name"}
QUOTES = "\"'"

Part = tuple[str, bool]  # (text, whether it was quoted)


def apply_overrides(target: dict[str, Any], overrides: Iterable[str] | Mapping[str, Any] | None) -> None:
    """Set each dotted key of `overrides` in `target` (a config dict), in order.

    Args:
        target: the config as a dict, changed in place.
        overrides: `key.path=value` strings (values parsed as YAML, so `3` is an int and `[1, 2]` a list) or a
            mapping of dotted keys to values.

    Raises:
        ConfigError: an override without `=`, an unclosed quote, or a path through a value that is not a section.
    """
    for key, value in _pairs(overrides):
        set_dotted(target, key, value)


def _pairs(overrides: Iterable[str] | Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    pairs = []
    for item in overrides:
        key, sep, text = _split_assignment(item)
        if not sep or not key.strip():
            raise ConfigError(f"override {shown(item)}: write it as key.path=value, e.g. train.epochs=3")
        pairs.append((key.strip(), parse_yaml(text, where=f"override {shown(item)}") if text.strip() else None))
    return pairs


def _split_assignment(item: str) -> tuple[str, str, str]:
    """`key=value` at the first `=` outside quotes (a quoted column name may hold one)."""
    quote = None
    for index, char in enumerate(item):
        if quote:
            quote = None if char == quote else quote
        elif char in QUOTES:
            quote = char
        elif char == "=":
            return item[:index], "=", item[index + 1 :]
    return item, "", ""


def set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    """`train.optimizer.lr=0.01` also works when the YAML says `optimizer: adam` (a name becomes a dict), and
    `data.outputs.label.label_smoothing=0.1` when it says `label: category` (a type becomes a dict)."""
    path = resolve_path(target, key)
    node = target
    for depth, part in enumerate(path[:-1]):
        child = node.get(part)
        parent = tuple(path[:depth])
        if isinstance(child, str) and parent and parent != ("data",):  # data.inputs: [a, b] stays a list
            compact = COLUMN_KEYED.get(parent, "name")
            child = {compact: child} if compact else child
        if child is None:
            child = {}
        if not isinstance(child, dict):
            raise ConfigError(f"override {cut(key)}: {cut('.'.join(path[: depth + 1]))} is {shown(child)}, "
                              "not a section")
        node[part] = child
        node = child
    node[path[-1]] = value


def resolve_path(target: dict[str, Any], key: str) -> list[str]:
    """The keys `key` walks through in `target`, column names with dots kept whole (see the module docstring).

    >>> resolve_path({"data": {"inputs": {"y.z": "category"}}}, "data.inputs.y.z.type")
    ['data', 'inputs', 'y.z', 'type']
    """
    parts = _parts(key)
    path: list[str] = []
    node: Any = target
    index = 0
    while index < len(parts):
        end = index + 1
        if tuple(path) in COLUMN_KEYED and not parts[index][1]:
            end = _column_end(node if isinstance(node, dict) else {}, parts, index)
        name = ".".join(text for text, _ in parts[index:end])
        path.append(name)
        node = node.get(name) if isinstance(node, dict) else None
        index = end
    return path


def _column_end(section: dict[str, Any], parts: list[Part], start: int) -> int:
    """Where the column name that starts at parts[start] ends: the longest existing key, else the first part and
    any unquoted parts after it that start with a digit."""
    unquoted = start
    while unquoted < len(parts) and not parts[unquoted][1]:
        unquoted += 1
    for end in range(unquoted, start, -1):
        if ".".join(text for text, _ in parts[start:end]) in section:
            return end
    end = start + 1
    while end < unquoted and parts[end][0][:1].isdigit():
        end += 1
    return end


def _parts(key: str) -> list[Part]:
    """`data.inputs."y.z".type` -> [("data", False), ("inputs", False), ("y.z", True), ("type", False)]."""
    parts: list[Part] = []
    index = 0
    while index <= len(key):
        if index < len(key) and key[index] in QUOTES:
            close = key.find(key[index], index + 1)
            if close < 0:
                raise ConfigError(f"override {cut(key)}: the quote {key[index]} at character {index + 1} is not "
                                  "closed")
            parts.append((key[index + 1 : close], True))
            index = close + 1
            if index < len(key) and key[index] != ".":
                raise ConfigError(f"override {cut(key)}: a quoted name must be followed by '.' or '=' "
                                  f"(character {index + 1})")
        else:
            end = key.find(".", index)
            end = len(key) if end < 0 else end
            parts.append((key[index:end], False))
            index = end
        index += 1  # past the "."
    if any(not text for text, quoted in parts if not quoted):
        raise ConfigError(f"override {cut(key)}: an empty name between dots; write it as key.path=value")
    if len(parts) > DEPTH_LIMIT:  # as deep as a YAML file may nest (config/yaml_text.py)
        raise ConfigError(f"override {cut(key)}: {len(parts):,} names deep; a config nests a few levels")
    return parts
