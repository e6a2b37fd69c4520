"""The model as Captum sees it: one input column in, the scores of one output out, everything else held fixed.

    view = ScoreView(model, inputs, "label", input_name="image").bind(batch)
    x, context = view.prepare()                 # the tensor to attribute and the rest of the batch
    view(x, *context)                           # (n, 10) class probabilities
    view.scores(batch["image"], targets)        # (n,) each example's probability of its target

The scores are what a person reads: the softmax probability for a category, the sigmoid for a yes/no output
(as two columns, no and yes, so that a target picks either), the value itself for a regression (one column per
forecast step). Attributions therefore add up to changes in probability, and the completeness of integrated
gradients is checked in the same units as `Explanation.scores`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from deepscope.data.features import Feature
from deepscope.explain.spaces import TABLE, Space, space_for

Batch = dict[str, torch.Tensor]


class ScoreView(nn.Module):
    """Wraps a DeepscopeModel so that `forward(x, *context) -> (n, k)` scores of `output` for one input.

    Args:
        model: the trained model (put in eval mode: dropout off, batch-norm statistics fixed).
        inputs: its fitted input features by column name.
        output: the output explained.
        input_name: the column explained; "*" for every table column; default: the only input (or the table).
    """

    def __init__(self, model: nn.Module, inputs: dict[str, Feature], output: str, *, input_name: str | None = None):
        super().__init__()
        self.model = model.eval()
        self.inputs, self.output = inputs, output
        self.input_name = input_name or default_input(inputs)
        self.space: Space = space_for(model, self.input_name, inputs)
        self.context_names = list(inputs)  # the batch's columns, passed to Captum as additional_forward_args
        self.batch: Batch = {}
        self.logits = False  # scores before the softmax / sigmoid (see `on_logits`)
        self._prepared: torch.Tensor | None = None  # the tensor `prepare` last handed out
        self._seen: torch.Tensor | None = None  # the raw output of a forward pass on exactly that tensor

    @property
    def modality(self) -> str:
        return self.space.modality

    @property
    def classifies(self) -> bool:
        """Whether the scores are class probabilities (else values: a regression, a forecast's steps)."""
        head = self.model.heads[self.output]
        return hasattr(head, "num_classes") or type(head).__name__ == "BinaryHead"

    def bind(self, batch: Batch) -> ScoreView:
        """Hold `batch` (encoded, on the model's device) as the examples explained."""
        self.batch = {name: batch[name] for name in self.context_names}
        return self

    def prepare(self) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """(the tensor Captum attributes, the context tensors `forward` takes after it)."""
        captured = self._capture(self.batch) if self.space.layer is not None else None
        x = self.space.explained(self.batch, captured).detach().clone().requires_grad_(True)
        self._prepared, self._seen = x, None
        return x, tuple(self.batch[name] for name in self.context_names)

    def forward(self, x: torch.Tensor, *context: torch.Tensor) -> torch.Tensor:
        batch = dict(zip(self.context_names, context)) if context else self._tiled(x.shape[0])
        if self.space.layer is None:
            raw = self.model({**batch, self.input_name: x})[self.output]
        else:
            with self._forcing(x):
                raw = self.model(batch)[self.output]
        if x is self._prepared and x.shape[0] == len(next(iter(self.batch.values()))):
            self._seen = raw.detach()  # the examples themselves, unperturbed: see `prepared_scores`
        return self._scores(raw)

    def scores(self, units: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """(n,) the score of each example's target, for inputs in the units of `Explanation.inputs` (rows of
        the bound batch, some units replaced: what deletion and insertion curves ask)."""
        batch, forced = self.space.with_units(self._tiled(units.shape[0]), units)
        with torch.no_grad():
            if forced is None:
                out = self._scores(self.model(batch)[self.output])
            else:
                with self._forcing(forced):
                    out = self._scores(self.model(batch)[self.output])
        return _pick(out, targets)

    def prepared_scores(self, units: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """`scores(units, targets)` where `units` are the prepared examples themselves: taken from the forward
        pass the method already made on them (saliency, input x gradient, guided backprop, Grad-CAM, occlusion's
        first pass) instead of one more pass, which for a sub-millisecond method is a third of its cost."""
        if self._seen is None:
            return self.scores(units, targets)
        with torch.no_grad():
            return _pick(self._scores(self._seen, logits=False), targets)

    @contextmanager
    def on_logits(self) -> Iterator[None]:
        """While inside, `forward` gives the scores before the softmax (a yes/no output: -logit, logit). Grad-CAM
        weighs feature maps by the class score's gradient (Selvaraju et al. use y^c before the softmax): through
        the softmax, evidence shared with other classes cancels and a confident map is almost all zero."""
        self.logits = True
        try:
            yield
        finally:
            self.logits = False

    def _scores(self, raw: torch.Tensor, logits: bool | None = None) -> torch.Tensor:
        """(n, k) the scores of the output `raw` (the model's tensor for `self.output`)."""
        raw, logits = raw.float(), self.logits if logits is None else logits
        if hasattr(self.model.heads[self.output], "num_classes"):
            return raw if logits else raw.softmax(dim=-1)  # (n, C)
        if raw.ndim == 1 and self.classifies:  # a yes/no head's one logit
            if logits:
                return torch.stack([-raw, raw], dim=1)
            yes = raw.sigmoid()
            return torch.stack([1 - yes, yes], dim=1)  # (n, 2): no, yes
        return raw.reshape(raw.shape[0], -1)  # (n, 1) a value, or (n, horizon) a forecast

    def _tiled(self, n: int) -> Batch:
        """The bound batch for `n` rows: itself, or repeated whole when Captum stacks perturbed copies."""
        size = len(next(iter(self.batch.values())))
        if n == size:
            return self.batch
        if n % size:
            raise ValueError(f"{n} rows do not stack copies of the {size} explained examples")
        return {k: v.repeat(n // size, *[1] * (v.ndim - 1)) for k, v in self.batch.items()}

    def _capture(self, batch: Batch) -> torch.Tensor:
        seen: list[torch.Tensor] = []
        handle = self.space.layer.register_forward_hook(lambda module, args, out: seen.append(out))
        try:
            with torch.no_grad():
                self.model(batch)
        finally:
            handle.remove()
        return seen[0]

    @contextmanager
    def _forcing(self, x: torch.Tensor) -> Iterator[None]:
        """While inside, the explained layer outputs `x` instead of what it computes (a forward hook's return
        value replaces the module's output)."""
        handle = self.space.layer.register_forward_hook(lambda module, args, out: x)
        try:
            yield
        finally:
            handle.remove()


def _pick(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(n,) each row's score of its target."""
    return scores.gather(1, targets.reshape(-1, 1).to(scores.device).long()).squeeze(1)


def default_input(inputs: dict[str, Feature]) -> str:
    """The only per-input column (an image, a text, a series, a recording); "*" for a model reading only a table."""
    own = [name for name, f in inputs.items() if f.kind != "tabular"]
    if len(own) == 1 and len(own) == len(inputs):
        return own[0]
    return own[0] if own else TABLE
