"""deepscope: deep learning you can see into.

    import deepscope as ds
    run = ds.train("examples/mnist.yaml", overrides={"train.epochs": 2})   # config -> a finished run folder
    ds.load(run.dir).predict({"image": "digit.png"})                        # raw values in, decoded values out
    ds.load(run.dir).explain({"image": images}, method="grad_cam")           # attributions, as arrays
    ds.evaluate(run.dir, split="test"); ds.predict(run.dir, "digits/")      # the saved model on data again
    ds.diagnose(run.dir); ds.report(run.dir)                                # findings; RUN/report.html
    ds.lr_find("examples/mnist.yaml"); ds.learning_curve("examples/breastmnist.yaml")
    ds.tune("examples/breastmnist-tune.yaml", trials=30, jobs=2)           # search the config's `tune:` space
    ds.runs.list_runs("runs", sort="test.accuracy")                         # the run store
    ds.Trainer(epochs=3, loss="cross_entropy").fit(any_module, (x, y))      # any torch.nn.Module
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from deepscope.errors import ConfigError, DataError, UserError  # noqa: E402

# imported on first use, so `import deepscope` (and the CLI's --help) stays fast; None: the module itself
_LAZY = {
    "train": ("deepscope.run.train", "train"),
    "Run": ("deepscope.run.train", "Run"),
    "tune": ("deepscope.run.tune", "tune"),  # hyperparameter search on Optuna: deepscope.tune(config, trials=30)
    "load": ("deepscope.run.explainer", "load"),  # a Predictor that can also .explain(...)
    "Predictor": ("deepscope.models.predictor", "Predictor"),
    "evaluate": ("deepscope.run.evaluate", "evaluate"),
    "export": ("deepscope.serve.export", "export_run"),  # ONNX, TorchScript, pt2, with a parity check
    "audit": ("deepscope.run.audit", "audit"),  # fairness: deepscope.audit(run, by=["sex"]) -> FairnessAudit
    "predict": ("deepscope.run.predict", "predict"),
    "report": ("deepscope.report", None),  # callable: deepscope.report(run) writes RUN/report.html
    "diagnose": ("deepscope.diagnose", None),  # callable: deepscope.diagnose(run) reads its findings
    "lr_find": ("deepscope.run.lr_find", "lr_find"),
    "learning_curve": ("deepscope.run.learning_curve", "learning_curve"),
    "runs": ("deepscope.run.runs", None),
    "datasets": ("deepscope.run.datasets", "datasets"),
    "shard": ("deepscope.data.stream.sharding", "shard_source"),  # a folder -> tar shards to stream (data/stream)
    "ui": ("deepscope.ui", None),  # deepscope.ui.serve(root): the dashboard
    "serve": ("deepscope.serve", None),  # deepscope.serve.run_server(ServeOptions(run)): the prediction server
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


__all__ = ["ConfigError", "DataError", "UserError", *_LAZY, "__version__"]
