"""The options of a registered component (a feature, an encoder, a head), checked by its own pydantic model.

The config schema leaves these as free dicts, because `config` must not know every component; each component
declares its options once, as a pydantic model, and this one parser turns what is wrong into a message that
names the config path and lists the options there are.

    class CnnOptions(BaseModel):
        model_config = ConfigDict(extra="forbid")
        filters: list[int] = [32, 64]

    parse_options(CnnOptions, {"filter": [8]}, "model.encoder", what="the cnn encoder")
    # ConfigError: model.encoder.filter: unknown key 'filter' (options for the cnn encoder: filters)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from deepscope.config.loading import problems
from deepscope.errors import ConfigError

Options = TypeVar("Options", bound=BaseModel)


def parse_options(options: type[Options], values: Mapping[str, Any], where: str, *, what: str) -> Options:
    """`options(**values)`, or a ConfigError: `where.key: what is wrong` for each problem, then the options of
    `what`."""
    try:
        return options(**values)
    except ValidationError as error:
        found = "; ".join(f"{where}.{path}: {explanation}" if path else f"{where}: {explanation}"
                          for path, explanation in problems(error, options, list_keys=False))
        allowed = ", ".join(sorted(options.model_fields)) or "none"
        raise ConfigError(f"{found} (options for {what}: {allowed})") from None
