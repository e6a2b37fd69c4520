"""The base of every config section (its own module, so that sections may live in several files)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    # allow_inf_nan=False: every number of the schema is finite (`lr: .inf` would train on NaN losses); the free
    # values (a component's options, a layer list) are checked by load_config and parse_options (config/values.py)
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
