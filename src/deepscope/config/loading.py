"""Load a config from YAML or a dict, apply dotted overrides, and turn validation errors into plain messages.

    cfg = load_config("examples/mnist.yaml", ["train.epochs=3", "train.optimizer.lr=0.01"])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from deepscope.config.schema import Config
from deepscope.errors import ConfigError


def load_config(
    source: str | Path | Mapping[str, Any] | Config,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
) -> Config:
    """A validated `Config` from a YAML path, a dict or a `Config`, with overrides applied on top.

    Overrides are `key.path=value` strings (values parsed as YAML, so `3` is an int and `[1, 2]` a list) or a
    mapping of dotted keys to values.
    """
    where = str(source) if isinstance(source, (str, Path)) else "config"
    raw = _read(source)
    for key, value in _pairs(overrides):
        _set_dotted(raw, key, value)
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, where)) from None


def _read(source: str | Path | Mapping[str, Any] | Config) -> dict[str, Any]:
    if isinstance(source, Config):
        return source.model_dump(exclude_none=True)
    if isinstance(source, Mapping):
        return _deep_copy(source)
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; "
                          "give the path of a YAML file such as examples/mnist.yaml")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping with `data`, `model` and `train` sections")
    return loaded


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _pairs(overrides: Iterable[str] | Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    pairs = []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: write it as key.path=value, e.g. train.epochs=3")
        pairs.append((key.strip(), yaml.safe_load(text) if text.strip() else None))
    return pairs


def _set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    """`train.optimizer.lr=0.01` also works when the YAML says `optimizer: adam` (a name becomes a dict)."""
    parts = key.split(".")
    node = target
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if isinstance(child, str) and depth >= 1:
            child = {"name": child} if part not in ("inputs", "outputs") else child
        if child is None:
            child = {}
        if not isinstance(child, dict):
            raise ConfigError(f"override {key}: {'.'.join(parts[: depth + 1])} is {child!r}, not a section")
        node[part] = child
        node = child
    node[parts[-1]] = value


def format_validation_error(error: ValidationError, where: str, *, schema: type[BaseModel] = Config,
                            prefix: str = "") -> str:
    """One line per problem: the dotted config path, what is wrong, and what is allowed.

    `schema` is the model that was validated and `prefix` its place in a whole config (e.g. TrainConfig, "train").
    """
    lines = [f"{where}: invalid config"]
    for path, explanation in problems(error, schema):
        lines.append(f"  {prefix + '.' if prefix and path else prefix}{path or ('' if prefix else '(top level)')}: "
                     f"{explanation}")
    return "\n".join(lines)


def problems(error: ValidationError, schema: type[BaseModel], *, list_keys: bool = True) -> list[tuple[str, str]]:
    """(dotted path inside `schema`, what is wrong there) for each problem pydantic found; `list_keys` adds the
    allowed keys to an 'unknown key' problem."""
    found = []
    for problem in error.errors():
        path = ".".join(str(p) for p in problem["loc"] if not str(p).startswith("function-"))
        found.append((path, _explain(problem, schema, list_keys)))
    return found


def _explain(problem: dict[str, Any], schema: type[BaseModel], list_keys: bool = True) -> str:
    kind = problem["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(schema, problem["loc"][:-1]) if list_keys else []
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {problem['loc'][-1]!r}{hint}"
    if kind == "missing":
        return "required, but missing"
    if kind == "literal_error":
        return f"got {problem['input']!r}; {problem['msg'].lower()}"
    message = problem["msg"].removeprefix("Value error, ")
    if kind == "value_error":
        return message
    return f"{message} (got {problem['input']!r})"


def _allowed_keys(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the section at `loc` inside `schema`, for the 'unknown key' message."""
    model: type[BaseModel] | None = schema
    for part in loc:
        field = model.model_fields.get(str(part)) if model else None
        if field is None:
            return []
        annotation = field.annotation
        model = next((t for t in _types_in(annotation) if isinstance(t, type) and issubclass(t, BaseModel)), None)
    return sorted(model.model_fields) if model else []


def _types_in(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", None)
    return [annotation] + [t for arg in args or () for t in _types_in(arg)]


def config_to_yaml(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
