"""Detectors: one judgement per file, each a pure function `Record -> list[Finding]`, registered by name.

    @DETECTORS.register("overfitting")
    def overfitting(record: Record) -> list[Finding]: ...

A detector returns [] when it has nothing to say or not enough evidence to say it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from deepscope.config.registry import Registry
from deepscope.diagnose.finding import Finding
from deepscope.diagnose.record import Record

Detector = Callable[[Record], list[Finding]]
DETECTORS: Registry[Detector] = Registry("detector")


def load_all() -> Registry[Detector]:
    """Import every detector module (each registers itself) and return the registry."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return DETECTORS
