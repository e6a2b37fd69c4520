"""Load a config from YAML or a dict, apply dotted overrides, and turn validation errors into plain messages.

    cfg = load_config("examples/mnist.yaml", ["train.epochs=3", "train.optimizer.lr=0.01"])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from deepscope.config.echo import cut, shown
from deepscope.config.overrides import apply_overrides
from deepscope.config.schema import Config
from deepscope.config.values import FINITE_MESSAGE, non_finite
from deepscope.config.yaml_text import parse_yaml, read_yaml_text
from deepscope.errors import ConfigError

__all__ = ["config_to_yaml", "format_validation_error", "load_config", "parse_yaml", "problems", "read_yaml_text"]


def load_config(
    source: str | Path | Mapping[str, Any] | Config,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
) -> Config:
    """A validated `Config` from a YAML path, a dict or a `Config`, with overrides applied on top.

    Overrides are `key.path=value` strings (values parsed as YAML, so `3` is an int and `[1, 2]` a list) or a
    mapping of dotted keys to values; column names with dots work in them (config/overrides.py).
    """
    where = str(source) if isinstance(source, (str, Path)) else "config"
    raw = _read(source)
    apply_overrides(raw, overrides)
    if (infinite := non_finite(raw)) is not None:  # anywhere, typed or not: a layer list, a component's options
        raise ConfigError(f"{where}: invalid config\n  {cut(infinite)}: {FINITE_MESSAGE}")
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
    loaded = parse_yaml(read_yaml_text(path), where=str(path))
    if not isinstance(loaded, dict):
        found = "is empty" if loaded is None else f"holds a {type(loaded).__name__}"
        raise ConfigError(f"{path}: {found}, but a config is a mapping with `data`, `model` and `train` sections")
    return loaded


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def format_validation_error(error: ValidationError, where: str, *, schema: type[BaseModel] = Config,
                            prefix: str = "") -> str:
    """One line per problem: the dotted config path, what is wrong, and what is allowed.

    `schema` is the model that was validated and `prefix` its place in a whole config (e.g. TrainConfig, "train").
    """
    lines = [f"{where}: invalid config"]
    found = problems(error, schema)
    for path, explanation in found[:MAX_PROBLEMS]:
        lines.append(f"  {prefix + '.' if prefix and path else prefix}{path or ('' if prefix else '(top level)')}: "
                     f"{explanation}")
    if len(found) > MAX_PROBLEMS:
        lines.append(f"  ... and {len(found) - MAX_PROBLEMS:,} more problems")
    return "\n".join(lines)


def problems(error: ValidationError, schema: type[BaseModel], *, list_keys: bool = True) -> list[tuple[str, str]]:
    """(dotted path inside `schema`, what is wrong there) for each problem pydantic found; `list_keys` adds the
    allowed keys to an 'unknown key' problem."""
    found: list[tuple[str, str]] = []
    errors = error.errors()
    for problem in errors:
        loc = tuple(p for p in problem["loc"] if not str(p).startswith("function-"))
        explanation = _explain(problem, schema, list_keys)
        if _is_yaml_boolean(problem):
            loc, explanation = _boolean_problem(loc, problem["input"], errors)
        if (path := cut(".".join(str(p) for p in loc)), explanation) not in found:  # a union's branches say it once
            found.append((path, explanation))
    return found


def _is_yaml_boolean(problem: dict[str, Any]) -> bool:
    """A text (or name) was expected and YAML gave a boolean: an unquoted No, Yes, On or Off (YAML 1.1)."""
    return isinstance(problem.get("input"), bool) and problem["type"] != "bool_type"


def _boolean_problem(loc: tuple[Any, ...], value: bool, errors: list[Any]) -> tuple[tuple[Any, ...], str]:
    """Where the boolean is and what to write instead. A key (`inputs: {No: number}`) is reported at its section;
    the branches of a union (`time: str | list[str]`) at the field they share."""
    words, example = ("Yes or On", "'Yes'") if value else ("No or Off", "'No'")  # any case; PyYAML keeps Y, N
    read = f"YAML reads an unquoted {words} as the boolean {str(value).lower()}"
    if loc and loc[-1] == "[key]":
        return loc[:-2], f"a key is the boolean {str(value).lower()}: {read}; put the name in quotes, e.g. {example}"
    siblings = [p for p in errors if _is_yaml_boolean(p) and tuple(p["loc"][:-1]) == tuple(loc[:-1])]
    if len(siblings) > 1 and len(loc) > 1:
        loc = loc[:-1]
    return loc, f"got {str(value).lower()}, but text is expected here: {read}; put it in quotes, e.g. {example}"


def _explain(problem: dict[str, Any], schema: type[BaseModel], list_keys: bool = True) -> str:
    kind = problem["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(schema, problem["loc"][:-1]) if list_keys else []
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {shown(problem['loc'][-1])}{hint}"
    if kind == "missing":
        return "required, but missing"
    if kind == "literal_error":
        return f"got {shown(problem['input'])}; {cut(problem['msg'].lower(), MESSAGE_LIMIT)}"
    message = cut(problem["msg"].removeprefix("Value error, "), MESSAGE_LIMIT)
    if kind == "value_error":
        return message
    return f"{message} (got {shown(problem['input'])})"


# a planted list of a million bad sizes is a million problems: the first few say what to fix
MAX_PROBLEMS = 10
# pydantic's own words for one problem: a sentence, or a list of allowed names; never a value echoed whole
MESSAGE_LIMIT = 600


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
