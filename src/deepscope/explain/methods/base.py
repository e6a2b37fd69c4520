"""The attribution-method contract: a name, whether it fits a model's input, and one batched Captum call.

    method = METHODS.get("integrated_gradients")
    method.applies(view, "image")                       # None: it applies; else the reason it does not
    explanation = method.attribute(view, batch, targets, steps=32)

A subclass sets `name`, the `modalities` it fits, its `options` (name -> default) and `compute`, which makes the
single Captum call for the whole batch; this base class binds the batch, picks the baseline, sums the result into
units and fills the `Explanation`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from deepscope.config.registry import Registry
from deepscope.errors import UserError
from deepscope.explain.baselines import baseline_for
from deepscope.explain.explanation import Explanation
from deepscope.explain.spaces import TABLE, modality_of
from deepscope.explain.view import ScoreView

MODALITIES = frozenset({"image", "text", "audio", "table", "series"})


class Method:
    name: ClassVar[str]
    modalities: ClassVar[frozenset[str]] = MODALITIES
    options: ClassVar[dict[str, Any]] = {}  # option -> default; `baseline` where the method compares with one
    uses_gradients: ClassVar[bool] = True

    def applies(self, view: ScoreView, input_name: str) -> str | None:
        """None when the method fits the model's `input_name`, else the reason in plain words."""
        modality = input_modality(view, input_name)
        if modality not in self.modalities:
            return f"{self.name} applies to {', '.join(sorted(self.modalities))} inputs, not {modality}"
        return None

    def attribute(self, view: ScoreView, inputs: dict[str, torch.Tensor], targets: torch.Tensor,
                  **options: Any) -> Explanation:
        """Attributions for the encoded batch `inputs`, one target index per example."""
        settings = self.settings(options)
        view.bind(inputs)
        x, context = view.prepare()
        kind = settings.pop("baseline", None)  # zeros | blurred | mean, for the methods that compare with one
        baseline = baseline_for(kind, view.space, x) if kind else None
        targets = targets.to(x.device).long()
        raw, extra = self.compute(view, x, context, targets, baseline, **settings)
        if kind:
            extra = {**extra, "baseline": kind}
        return explanation(view, self.name, x, view.space.pool(raw, view.batch), targets, baseline, extra)

    def compute(self, view: ScoreView, x: torch.Tensor, context: tuple[torch.Tensor, ...], targets: torch.Tensor,
                baseline: torch.Tensor | None, **settings: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """(attributions shaped like `x` (or broadcastable), extra values): one Captum call for the batch."""
        raise NotImplementedError

    def settings(self, options: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(self.options) or "none"
            raise UserError(f"{self.name}: unknown option(s) {', '.join(unknown)}; it takes: {known}")
        return {**self.options, **options}


def explanation(view: ScoreView, method: str, x: torch.Tensor, attributions: torch.Tensor, targets: torch.Tensor,
                baseline: torch.Tensor | None, extra: dict[str, Any]) -> Explanation:
    space = view.space
    units = space.units(view.batch, x)
    return Explanation(
        method=method, input=view.input_name, modality=space.modality, inputs=units.detach(),
        attributions=attributions.detach().float(), targets=targets.detach(),
        baseline=space.unit_baseline(baseline.detach() if baseline is not None else None, view.batch),
        labels=space.labels(), tokens=space.tokens(view.batch), scores=view.prepared_scores(units, targets),
        extra=extra,
    )


def input_modality(view: ScoreView, input_name: str) -> str:
    if input_name == TABLE:
        return "table"
    return modality_of(view.inputs[input_name])


def encoder_of(view: ScoreView, input_name: str) -> torch.nn.Module:
    """The encoder that reads `input_name` (the shared tabular encoder for table columns)."""
    encoders = view.model.encoders
    return encoders[input_name] if input_name in encoders else encoders["tabular"]


METHODS: Registry[Method] = Registry("attribution method")
