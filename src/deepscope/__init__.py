"""deepscope: deep learning you can see into.

    import deepscope as ds
    run = ds.train("examples/mnist.yaml", overrides={"train.epochs": 2})
    predictor = ds.load(run.dir)
    predictor.predict({"image": "digit.png"})
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from deepscope.errors import ConfigError, DataError, UserError  # noqa: E402

# imported on first use, so `import deepscope` (and the CLI's --help) stays fast
_LAZY = {
    "train": ("deepscope.pipeline", "train"),
    "load": ("deepscope.pipeline", "load"),
    "Run": ("deepscope.pipeline", "Run"),
    "Trainer": ("deepscope.training.trainer", "Trainer"),
    "callbacks": ("deepscope.callbacks", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'deepscope' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


__all__ = ["ConfigError", "DataError", "Run", "Trainer", "UserError", "callbacks", "load", "train", "__version__"]
