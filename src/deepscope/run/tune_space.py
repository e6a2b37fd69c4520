"""Check a search space against the config it searches, before any trial trains: every key a real setting,
every value it may take one the config accepts.

    check_space(config, raw)   # ConfigError: tune.space.train.optimzer.lr: train has no setting 'optimzer'...

Two checks. The key's path is walked through the config schema (config/schema.py): a typed section must have
the setting, a section keyed by column names (data.inputs) the column. A component's own options (an encoder's
dropout, an optimizer's momentum) are free in the schema, so then each value the search may try (both ends of a
range, every choice) is put into the config, the config is validated and, for model and optimizer settings, the
model and its optimizer are built on the data, as `deepscope train` does before a run folder exists: a typo there
(`model.encoder.dropuot`) is refused by the encoder itself, naming its options.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from deepscope.config.echo import cut, shown
from deepscope.config.loading import load_config
from deepscope.config.overrides import COLUMN_KEYED, resolve_path
from deepscope.config.schema import Config
from deepscope.config.tune import Dimension
from deepscope.errors import ConfigError, UserError

BUILT = ("model.", "train.optimizer", "train.schedule")  # settings that only building the model/optimizer checks


def check_space(config: Config, raw: dict[str, Any]) -> None:
    """Refuse, with one ConfigError naming the key and the fix, a space key that is no config setting."""
    assert config.tune is not None
    for key in config.tune.space:
        path = resolve_path(raw, key)
        problem = path_problem(path, raw)
        if problem is not None:
            raise ConfigError(f"tune.space.{cut(key)}: {problem}")


def check_values(raw: dict[str, Any], dimensions: Mapping[str, Dimension]) -> None:
    """Validate the config with each value a dimension may take, and build the model and optimizer for those that
    only they check (data prepared once). A ConfigError names the key and the value refused."""
    from deepscope.data.prepare import prepare_data
    from deepscope.run.recipe import trainer_for
    from deepscope.run.resolved import resolved_config
    from deepscope.run.train import model_for

    data = model = None
    for key, dimension in dimensions.items():
        for value in dimension.probes():
            try:
                config = load_config(raw, {key: value, "tune": None})
                if key.startswith(BUILT):
                    data = data or prepare_data(config.data)
                    config = resolved_config(config, data)
                    if key.startswith("model.") or model is None:  # an optimizer's option: the model as it is
                        model = model_for(config, data)
                    trainer_for(config).check_optimization(model)
                    model = None if key.startswith("model.") else model
            except UserError as error:
                raise ConfigError(f"tune.space.{cut(key)}: the search would try {shown(value)} there, which the "
                                  f"config refuses: {_one_problem(error)}") from None


def _one_problem(error: UserError) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines[1:] if len(lines) > 1 and lines[0].endswith("invalid config") else lines)


def path_problem(path: list[str], raw: dict[str, Any]) -> str | None:
    """What is wrong with the config path `path` (as `resolve_path` splits it), or None when it is a setting or
    lies among a component's free options."""
    node: Any = Config
    for depth, part in enumerate(path):
        here = ".".join(path[:depth])
        if _is_model(node):
            if part in node.model_fields:
                node = _section_type(node.model_fields[part].annotation)
                continue
            if node.model_config.get("extra") == "allow":
                return None  # a component's options: the component checks them when it is built (check_values)
            return _unknown(part, here, sorted(node.model_fields))
        if node is dict:  # a section keyed by column names: the column must be one the config names
            columns = _at(raw, path[:depth])
            if tuple(path[:depth]) in COLUMN_KEYED and part not in columns:
                listed = ", ".join(map(str, columns)) or "none listed"
                return (f"{here} has no column {shown(part)} (columns: {listed}); name the column in the config "
                        "first, then search its options")
            node = _value_type(here)
            continue
        if node is Any:
            return None
        return f"{here} is a value, not a section: search {here} itself"
    return None


def _unknown(part: str, here: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(part, allowed, n=1)
    hint = f"; did you mean {'.'.join(filter(None, [here, close[0]]))}?" if close else ""
    return f"{here or 'a config'} has no setting {shown(part)}{hint} (settings there: {', '.join(allowed)})"


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _section_type(annotation: Any) -> Any:
    """What a field holds, for walking on: its section (a model), `dict` for a mapping of names, `Any` for free
    values (a layer list item, an init option), else the annotation itself (a plain value)."""
    types = _types_in(annotation)
    model = next((t for t in types if _is_model(t)), None)
    if model is not None:
        return model
    if any(typing.get_origin(t) is dict or t is dict for t in types):
        return dict
    return Any if any(t is Any for t in types) else annotation


def _value_type(here: str) -> Any:
    """The section type of the values of the mapping at `here` (data.inputs holds FeatureSpecs)."""
    node: Any = Config
    for part in here.split("."):
        if not _is_model(node):
            return Any
        annotation = node.model_fields[part].annotation
        node = _section_type(annotation)
    mapping = next((t for t in _types_in(annotation) if typing.get_origin(t) is dict), None)
    value = typing.get_args(mapping)[1] if mapping is not None else Any
    return _section_type(value)


def _types_in(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation) if typing.get_origin(annotation) is not dict else ()
    return [annotation] + [t for arg in args for t in _types_in(arg)]


def _at(raw: dict[str, Any], path: list[str]) -> dict[str, Any]:
    node: Any = raw
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}
