"""The model: a layer table (what each layer outputs for one example, and how many parameters it holds) and the
floating-point operations one example costs.

Shapes come from forward hooks on one real example of the evaluation split (a blank one when the data are gone);
FLOPs from `torch.utils.flop_counter.FlopCounterMode`, which counts matrix multiplications and convolutions
(2 per multiply-add) by module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence
from torch.utils.flop_counter import FlopCounterMode

from deepscope.formats import count_in_words
from deepscope.models.layers.by_name import readable_path
from deepscope.report.context import ReportContext
from deepscope.report.html import cards, note, paragraph, table

MAX_ROWS = 80  # layers listed; a transformer has hundreds, and the rest are summed in one row


@dataclass
class LayerRow:
    name: str
    kind: str
    shape: str
    parameters: int
    flops: int = 0


def render(context: ReportContext) -> str:
    model = context.model
    if model is None:
        return note(f"The model is not available: {context.missing.get('model', 'not loaded')}. "
                    "Its architecture is in the config below.")
    example, real = context.example_input(), True
    if example is None:
        example, real = blank_example(context), False
    rows, flops = layer_table(model, example)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    parts = [cards([("parameters", total), ("trainable", trainable), ("FLOPs per example", count_in_words(flops)),
                    ("weights", f"{size / 1e6:.3g} MB")])]
    source = ("one example of the evaluation data" if real else
              f"a blank example of the right shape ({context.missing.get('data', 'no data')})")
    parts.append(paragraph(f"Output shapes of each layer for {source} (batch of 1). FLOPs count the "
                           "multiply-adds of matrix products and convolutions twice; other operations are not counted.",
                           "muted"))
    shown = rows[:MAX_ROWS]
    body = [[readable_path(r.name), r.kind, r.shape, r.parameters, r.flops] for r in shown]
    if len(rows) > MAX_ROWS:
        rest = rows[MAX_ROWS:]
        body.append([f"... {len(rest)} more layers", "", "", sum(r.parameters for r in rest),
                     sum(r.flops for r in rest)])
    parts.append(table(["layer", "type", "output shape", "parameters", "FLOPs"], body,
                       numeric=[False, False, False, True, True]))
    return "\n".join(parts)


def layer_table(model: nn.Module, example: dict[str, torch.Tensor]) -> tuple[list[LayerRow], int]:
    """One row per leaf module (and per module holding parameters of its own), in the order they run."""
    device = next(model.parameters()).device
    example = {k: v.to(device) for k, v in example.items()}
    rows: dict[str, LayerRow] = {}
    handles = []
    for name, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if name and (not list(module.children()) or own):
            handles.append(module.register_forward_hook(_recorder(rows, name, own)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            with FlopCounterMode(display=False) as counter:
                model(example)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    root = type(model).__name__
    counts = counter.get_flop_counts()
    for name, row in rows.items():
        row.flops = int(sum(counts.get(f"{root}.{name}", {}).values()))
    called = list(rows.values())
    # layers that never ran for this example (an unused branch) still hold parameters: list them last
    for name, module in model.named_modules():
        if name and name not in rows and not list(module.children()):
            own = sum(p.numel() for p in module.parameters(recurse=False))
            if own:
                called.append(LayerRow(name, _kind(module), "not run", own))
    return called, int(counter.get_total_flops())


def _recorder(rows: dict[str, LayerRow], name: str, parameters: int) -> Any:
    def hook(module: nn.Module, args: Any, output: Any) -> None:
        if name not in rows:  # a module called twice (shared weights) is listed at its first call
            rows[name] = LayerRow(name, _kind(module), shape_of(output), parameters)
    return hook


def _kind(module: nn.Module) -> str:
    extra = module.extra_repr()
    extra = extra if len(extra) <= 60 else extra[:57] + "..."
    return f"{type(module).__name__}({extra})"


def shape_of(value: Any) -> str:
    """(1, 24, 12, 12) for a tensor; several for tuples and dicts (an LSTM's output and state)."""
    if isinstance(value, torch.Tensor):
        return "(" + ", ".join(str(d) for d in value.shape) + ")"
    if isinstance(value, PackedSequence):  # a named tuple: shown as the packed steps, not its four fields
        return f"packed {shape_of(value.data)}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shape_of(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        shapes = [shape_of(v) for v in value if v is not None]
        return "[" + ", ".join(s for s in shapes if s) + "]"
    return ""


def blank_example(context: ReportContext) -> dict[str, torch.Tensor]:
    """An input of the right shape and type for each feature, when no real example is at hand."""
    example = {}
    for name, feature in context.inputs.items():
        described = feature.describe()
        if feature.type == "image":
            example[name] = torch.zeros(1, *described["shape"])
        elif feature.type == "text":
            example[name] = torch.ones(1, described["max_length"], dtype=torch.long)  # <unk> tokens
        elif feature.type == "audio":
            example[name] = torch.zeros(1, feature.fitted["n_samples"])
        elif feature.type == "timeseries":
            example[name] = torch.zeros(1, feature.fitted["length"], feature.fitted["channels"])
        elif feature.type in ("category", "tokens"):
            shape = (1, feature.fitted["context"]) if feature.type == "tokens" else (1,)
            example[name] = torch.zeros(shape, dtype=torch.long)
        else:
            example[name] = torch.zeros(1)
    return example

