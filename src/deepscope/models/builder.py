"""Build the model a config describes: inputs -> encoder per input group -> combiner -> head per output.

Inputs are grouped by kind: each image, sequence (text, series) or audio input gets its own encoder, and all
tabular columns (numbers, categories, binaries) share one. The builder sees only feature *descriptions* (plain
dicts), so a saved model is rebuilt from `model.json` without touching the data.

    model = build_model({"encoder": {"name": "cnn"}}, inputs, outputs)
    outputs = model(batch)            # {"label": logits (B, 10)}
    loss = model.loss(outputs, batch)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from deepscope.data.weights import EXAMPLE_WEIGHT
from deepscope.errors import ConfigError
from deepscope.metrics import Metric
from deepscope.models.encoders import DEFAULT_ENCODER, ENCODERS, PER_INPUT_KINDS
from deepscope.models.heads import HEADS
from deepscope.models.layers.activations import activation
from deepscope.models.layers.by_name import ModulesByName
from deepscope.models.layers.init import initialise
from deepscope.models.layers.window_level import WindowLevel

Batch = dict[str, torch.Tensor]


class Combiner(nn.Module):
    """Concatenate the encoders' outputs, then optional dense layers: (B, sum D_i) -> (B, output_size)."""

    def __init__(self, sizes: list[int], *, hidden: list[int] = (), dropout: float = 0.0,
                 activation_name: str = "relu"):
        super().__init__()
        layers: list[nn.Module] = []
        width = sum(sizes)
        for units in hidden:
            layers += [nn.Linear(width, units), activation(activation_name, where="model.combiner.activation")]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = units
        self.layers = nn.Sequential(*layers)
        self.output_size = width

    def forward(self, encoded: list[torch.Tensor]) -> torch.Tensor:
        h = encoded[0] if len(encoded) == 1 else torch.cat(encoded, dim=1)
        return self.layers(h)


class DeepscopeModel(nn.Module):
    """A plain `nn.Module`: `model(batch)` maps a dict of input tensors to a dict of raw outputs per head."""

    def __init__(self, encoders: dict[str, nn.Module], groups: dict[str, list[str]], combiner: Combiner,
                 heads: dict[str, nn.Module], level: WindowLevel | None = None):
        super().__init__()
        self.encoders = ModulesByName(encoders)  # keyed by column names, which may hold "." (pm2.5)
        self.groups = groups  # encoder name -> the input columns it reads
        self.combiner = combiner
        self.heads = ModulesByName(heads)
        self.level = level  # forecasting relative to each window's last value

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        if self.level is not None:
            batch, last = self.level.remove(batch)
        encoded = [encoder(batch) for encoder in self.encoders.values()]
        h = self.combiner(encoded)
        outputs = {name: head(h) for name, head in self.heads.items()}
        return self.level.restore(outputs, last) if self.level is not None else outputs

    def loss(self, outputs: dict[str, torch.Tensor], batch: Batch) -> torch.Tensor:
        weights = batch.get(EXAMPLE_WEIGHT)  # data.weights: in training batches only (data/weights.py)
        losses = [head.loss(outputs[name], batch[name], weights) for name, head in self.heads.items()]
        return losses[0] if len(losses) == 1 else torch.stack(losses).sum()

    def metrics(self) -> dict[str, Metric]:
        return {name: head.metrics() for name, head in self.heads.items()}

    def update_metrics(self, metrics: dict[str, Metric], outputs: dict[str, torch.Tensor], batch: Batch) -> None:
        for name, head in self.heads.items():
            head.update_metrics(metrics[name], outputs[name], batch[name])

    def predict(self, batch: Batch) -> dict[str, dict[str, torch.Tensor]]:
        outputs = self(batch)
        return {name: head.predict(outputs[name]) for name, head in self.heads.items()}


def load_pretrained(model: nn.Module) -> None:
    """Fill layers that start from files (e.g. GloVe vectors) before training. Only training calls this: a
    saved model's weights already hold them, so `deepscope.load` never needs the files."""
    for module in model.modules():
        if hasattr(module, "load_pretrained"):
            module.load_pretrained()


def build_model(config: dict[str, Any], inputs: dict[str, dict[str, Any]],
                outputs: dict[str, dict[str, Any]]) -> DeepscopeModel | Any:
    """`config` is the `model:` section as a dict; `inputs`/`outputs` map names to feature descriptions
    (outputs also carry `head` options: loss settings such as label smoothing). A language model's data
    (next-token outputs) gets its own kind of model (models/next_token.py)."""
    if any(d["type"] == "next_token" for d in outputs.values()):
        from deepscope.models.next_token import build_language_model

        return build_language_model(config, inputs, outputs)
    if any(d["type"] == "sequence" for d in outputs.values()):
        from deepscope.models.translation import build_seq2seq_model

        return build_seq2seq_model(config, inputs, outputs)
    groups = _group_inputs(inputs)
    encoders = {key: _encoder(key, names, inputs, config) for key, names in groups.items()}
    combiner_config = config.get("combiner") or {}
    combiner = Combiner(
        [e.output_size for e in encoders.values()],
        hidden=combiner_config.get("hidden", []),
        dropout=combiner_config.get("dropout", 0.0),
        activation_name=combiner_config.get("activation", "relu"),
    )
    initialise(combiner, config.get("init"), where="model.init")
    heads = {}
    for name, description in outputs.items():
        head = HEADS.get(description["type"], where=f"data.outputs.{name}.type")
        heads[name] = head(combiner.output_size, description, **description.get("head", {}))
    return DeepscopeModel(encoders, groups, combiner, heads, _window_level(inputs, outputs))


def _window_level(inputs: dict[str, dict[str, Any]], outputs: dict[str, dict[str, Any]]) -> WindowLevel | None:
    relative = [name for name, d in inputs.items() if d["type"] == "timeseries" and d.get("relative")]
    if not relative:
        return None
    description = inputs[relative[0]]
    forecasts = [name for name, d in outputs.items() if d["type"] == "forecast"]
    return WindowLevel(relative[0], value_channels=description["value_channels"],
                       target_channel=description["target_channel"], outputs=forecasts)


def _group_inputs(inputs: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name, description in inputs.items():
        key = name if description["kind"] in PER_INPUT_KINDS else "tabular"
        groups.setdefault(key, []).append(name)
    if not groups:
        raise ConfigError("data.inputs: the model needs at least one input column")
    return groups


def _encoder(key: str, names: list[str], inputs: dict[str, dict[str, Any]], config: dict[str, Any]) -> nn.Module:
    descriptions = [inputs[name] for name in names]
    if config.get("layers") is not None:
        if len(_group_inputs(inputs)) > 1:
            raise ConfigError("model.layers: a layer list reads one input; with several, use model.encoders")
        return ENCODERS.get("layers")(descriptions, layers=config["layers"], init=config.get("init"))
    spec, where = _encoder_spec(key, names, inputs, config)
    encoder = ENCODERS.get(spec["name"], where=f"{where}.name")
    options = {k: v for k, v in spec.items() if k != "name"}
    if config.get("init") is not None:  # model.init is every encoder's default; an encoder's own init wins
        options.setdefault("init", config["init"])
    return encoder(descriptions, where=where, **options)


def resolved_encoders(config: dict[str, Any], inputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The encoder each input group gets, `{group: {name: ..., options...}}` (group: an image, sequence or audio
    input's name, or `tabular`), with defaults filled in; {} for a layer list. What a saved config writes down."""
    if config.get("layers") is not None:
        return {}
    return {key: _encoder_spec(key, names, inputs, config)[0] for key, names in _group_inputs(inputs).items()}


def _encoder_spec(key: str, names: list[str], inputs: dict[str, dict[str, Any]],
                  config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The spec (with its registered name) of group `key`'s encoder, and the config path it comes from."""
    spec, where = (config.get("encoders") or {}).get(key), f"model.encoders.{key}"
    if spec is None:
        spec, where = config.get("encoder") or {}, "model.encoder"
    kind = inputs[names[0]]["kind"]
    name = spec.get("name") or DEFAULT_ENCODER[kind]
    shared = where == "model.encoder" and len(_group_inputs(inputs)) > 1
    if shared and kind not in ENCODERS.get(name, where=f"{where}.name").accepts:
        # one `encoder:` for a model with image and table inputs applies where it can; the rest get defaults
        return {"name": DEFAULT_ENCODER[kind]}, where
    return {**spec, "name": name}, where
