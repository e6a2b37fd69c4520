"""The rules every config value of a kind shares, written once: sizes are positive, numbers finite, seeds in range.

The schema's sections (config/schema.py) and the components' own options (an encoder's `filters`, a feature's
`size`) use these types, so that `filters: [-5]`, `lr: .inf` or `seed: -1` is refused while the config is read,
with a message naming the key, and never reaches torch as a traceback after the run folder exists.

    class CnnOptions(BaseModel):
        filters: list[Size] | None = None          # filters: [-5] -> "Input should be greater than or equal to 1"
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

# a count of units, filters, channels, heads, layers, steps, pixels: zero of them builds nothing
Size = Annotated[int, Field(ge=1)]
# numpy's seeds are 32-bit and non-negative (np.random.seed(-1) raises); torch's and Python's take these too
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="a whole number from 0 to 4294967295")]


def non_finite(value: Any, path: str = "") -> str | None:
    """The dotted path of the first NaN or infinite number inside `value` (dicts and lists are walked), else None.

    For the free options that pydantic does not type (a component's extras, e.g. `optimizer.momentum: .inf`).
    """
    if isinstance(value, float) and not math.isfinite(value):
        return path
    children = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found = non_finite(child, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


FINITE_MESSAGE = "must be a finite number (YAML's .inf and .nan are not)"
