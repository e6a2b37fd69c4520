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

from deepscope.config.loading import MAX_PROBLEMS, problems
from deepscope.config.values import FINITE_MESSAGE, non_finite
from deepscope.errors import ConfigError

Options = TypeVar("Options", bound=BaseModel)


def parse_options(options: type[Options], values: Mapping[str, Any], where: str, *, what: str) -> Options:
    """`options(**values)`, or a ConfigError: `where.key: what is wrong` for each problem, then the options of
    `what`."""
    try:
        parsed = options(**values)
    except ValidationError as error:
        listed = problems(error, options, list_keys=False)
        found = "; ".join(f"{where}.{path}: {explanation}" if path else f"{where}: {explanation}"
                          for path, explanation in listed[:MAX_PROBLEMS])
        more = f"; ... and {len(listed) - MAX_PROBLEMS:,} more" if len(listed) > MAX_PROBLEMS else ""
        allowed = ", ".join(sorted(options.model_fields)) or "none"
        raise ConfigError(f"{found}{more} (options for {what}: {allowed})") from None
    # every number a component is given is finite, as in the schema (config/values.py), whatever its type says
    infinite = non_finite(parsed.model_dump())
    if infinite is not None:
        raise ConfigError(f"{where}.{infinite}: {FINITE_MESSAGE}")
    return parsed
