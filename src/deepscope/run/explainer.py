"""What `deepscope.load(run)` returns: the models' Predictor, which can also explain its predictions.

    predictor = ds.load("runs/digits-...")
    predictor.predict({"image": images})
    e = predictor.explain({"image": images}, method="grad_cam", target="7", out="explanations")
    e.attributions          # (n, 1, 8, 8); e.extra["files"]: the pictures written to out/

The predictor lives in `models`, which may not import `explain`; this subclass in `run` adds `.explain`. Captum,
matplotlib and the data pipeline are imported on the first `.explain` call, so loading a model to predict stays
as fast as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from deepscope.explain.explanation import Explanation
from deepscope.models.predictor import Predictor


class ExplainingPredictor(Predictor):
    """`deepscope.load(run)`: predicts, and explains its predictions."""

    def explain(self, data: Any, *, method: str | None = None, target: Any = None, output: str | None = None,
                out: str | Path | None = None, **options: Any) -> Explanation:
        """Attributions for raw values (as `predict` takes them): an Explanation of arrays; with `out`, the
        pictures are written there too and listed in `explanation.extra["files"]`."""
        from deepscope.explain.api import explain  # Captum: only when explaining (see the module docstring)
        from deepscope.run.explain import ExplainResult, write_outputs

        output = output or next(iter(self.outputs))
        columns = self._columns(data)
        explained = explain(self.model, self.inputs, output, columns, method, target, outputs=self.outputs,
                            **options)
        if out is not None:
            result = ExplainResult({explained.method: explained})
            explained.extra["files"] = write_outputs(Path(out), result, self.outputs[output])
        return explained


def load(path: str | Path, device: str | torch.device = "cpu") -> ExplainingPredictor:
    """A predictor for a finished run directory (or its model/ folder) that can also explain: `deepscope.load(run)`."""
    return ExplainingPredictor.load(path, device)
