"""GET /metadata: what a client needs to call the model (its inputs and outputs, in the request's terms), which
software serves it, and how well it did on its test split."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import torch

from deepscope.data.features import Feature
from deepscope.data.features.category import UNKNOWN
from deepscope.serve.backends import Backend
from deepscope.serve.options import ServeOptions
from deepscope.track.runinfo import read_run


def metadata(options: ServeOptions, backend: Backend) -> dict[str, Any]:
    run = Path(options.run)
    finals = read_run(run).finals if run.is_dir() else {}
    return {
        "run": options.name,
        "inputs": {name: describe(f) for name, f in backend.inputs.items()},
        "outputs": {name: describe(f) for name, f in backend.outputs.items()},
        "test_metrics": {k: v for k, v in finals.get("test", {}).items() if isinstance(v, (int, float))},
        "versions": {"deepscope": options.version, "torch": torch.__version__, "python": platform.python_version()},
        "backend": backend.name,
        "batching": {"enabled": options.batching, "max_batch": options.max_batch, "max_wait_ms": options.max_wait_ms},
    }


def describe(feature: Feature) -> dict[str, Any]:
    """The feature in a client's terms: its type and what values it takes (not its whole fitted state: a text
    feature's holds the tokenizer)."""
    out: dict[str, Any] = {"type": feature.type}
    f = feature.fitted
    if feature.type == "category":
        out["categories"] = feature.classes if f.get("output") else [v for v in f["vocabulary"] if v != UNKNOWN]
    elif feature.type == "binary":
        out["values"] = [f.get("negative"), f.get("positive")]
    elif feature.type == "image":
        out["shape"] = {"height": f["height"], "width": f["width"], "channels": f["channels"]}
    elif feature.type == "audio":
        out["sample_rate"], out["seconds"] = f["sample_rate"], f["n_samples"] / f["sample_rate"]
    elif feature.type == "text":
        out["max_tokens"] = f["max_length"]
    elif feature.type == "timeseries":
        o = feature.options
        out.update(time=o.time, values=list(o.values), categorical=list(o.categorical), lookback=o.lookback)
    elif feature.type == "forecast":
        out["horizon"] = feature.options.horizon
    return out
