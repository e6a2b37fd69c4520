"""Heads by output feature type; each registers itself in `HEADS` where it is defined."""

from deepscope.models.heads import binary, category, regression  # noqa: F401  (registration)
from deepscope.models.heads.base import HEADS, Head

__all__ = ["HEADS", "Head"]
