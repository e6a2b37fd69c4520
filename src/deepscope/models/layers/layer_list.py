"""The beginner-facing form of a model: a plain list of layers, sized by shape inference.

    layers: [conv2d: {filters: 32, kernel: 3}, relu, maxpool2d: 2, dropout: 0.25, dense: 128, relu]

The input layer's size comes from the data and the output layer from the target, so the list holds only the
hidden layers. `dense` after a convolution flattens first, as in Keras' Sequential models.

How weights start (`models/layers/init.py`): `init` for the whole list (`model.init`), or per layer in its
settings, which wins: `dense: {units: 64, init: {name: normal, std: 1.0}}`, `conv2d: {filters: 8, init: kaiming}`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import nn

from deepscope.config.echo import shown
from deepscope.config.registry import Registry
from deepscope.errors import ConfigError
from deepscope.models.layers.activations import ACTIVATIONS
from deepscope.models.layers.init import initialise

Shape = tuple[int, ...]  # per example: (C, H, W) or (D,)
LayerBuilder = Callable[[Shape, Any, str], tuple[list[nn.Module], Shape]]
LAYERS: Registry[LayerBuilder] = Registry("layer")


def build_layer_list(spec: list[Any], input_shape: Shape, *, where: str = "model.layers",
                     init: Any = None, init_where: str = "model.init") -> tuple[nn.Sequential, Shape]:
    """nn.Sequential for the list, and the per-example output shape (flattened to (D,) at the end). `init` is how
    every layer's weights start, unless the layer's own `init` setting says otherwise."""
    modules: list[nn.Module] = []
    shape = tuple(input_shape)
    for i, item in enumerate(spec):
        name, arg = _parse(item, f"{where}[{i}]")
        place = f"{where}[{i}] ({name})"
        if name in ACTIVATIONS:
            modules.append(ACTIVATIONS.get(name)())
            continue
        own_init = arg.pop("init", None) if isinstance(arg, dict) else None
        new, shape = LAYERS.get(name, where=f"{where}[{i}]")(shape, arg, place)
        _initialise(new, own_init, init, place, init_where)
        modules.extend(new)
    if len(shape) > 1:
        modules.append(nn.Flatten())
        shape = (math.prod(shape),)
    return nn.Sequential(*modules), shape


def _initialise(modules: list[nn.Module], own: Any, default: Any, place: str, default_where: str) -> None:
    layer = nn.Sequential(*modules)
    if own is None:
        initialise(layer, default, where=default_where)
    elif not initialise(layer, own, where=f"{place}.init") and own != "default":
        raise ConfigError(f"{place}.init: this layer has no weights to initialise; give init to a dense or conv2d "
                          "layer")


def _parse(item: Any, where: str) -> tuple[str, Any]:
    if isinstance(item, str):
        return item, None
    if isinstance(item, dict) and len(item) == 1:
        name, arg = next(iter(item.items()))
        return name, dict(arg) if isinstance(arg, dict) else arg  # a copy: the init setting is taken out of it
    raise ConfigError(f"{where}: write a layer as a name (relu) or one key with its settings (dense: 128), "
                      f"got {shown(item)}")


def _options(arg: Any, main: str, allowed: set[str], where: str) -> dict[str, Any]:
    """`dense: 128` -> {units: 128}; a dict is checked against the allowed keys."""
    if isinstance(arg, dict):
        unknown = set(arg) - allowed
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        return dict(arg)
    return {} if arg is None else {main: arg}


def _count(options: dict[str, Any], key: str, default: int, where: str, *, least: int = 1) -> int:
    """A layer's size setting (filters, kernel, stride, units...): a whole number, at least `least`; a planted
    `filters: -5` or `kernel: 0` would otherwise reach torch and end in a traceback."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"{where}: {key} must be a whole number of at least {least}, got {shown(value)}")
    return value


def _need_image(shape: Shape, where: str) -> None:
    if len(shape) != 3:
        raise ConfigError(f"{where}: needs an image-shaped input (channels, height, width), but gets {shape}; "
                          "put it before any dense/flatten layer")


def _out_size(size: int, kernel: int, stride: int, padding: int, where: str) -> int:
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ConfigError(f"{where}: the input ({size} pixels) is too small for kernel {kernel}; "
                          "use a smaller kernel, padding: same, or fewer pooling layers")
    return out


@LAYERS.register("conv2d")
def _conv2d(shape: Shape, arg: Any, where: str) -> tuple[list[nn.Module], Shape]:
    _need_image(shape, where)
    o = _options(arg, "filters", {"filters", "kernel", "stride", "padding"}, where)
    if "filters" not in o:
        raise ConfigError(f"{where}: say how many filters, e.g. conv2d: {{filters: 32, kernel: 3}}")
    filters, kernel = _count(o, "filters", 0, where), _count(o, "kernel", 3, where)
    stride = _count(o, "stride", 1, where)
    padding = kernel // 2 if o.get("padding") == "same" else _count(o, "padding", 0, where, least=0)
    c, h, w = shape
    conv = nn.Conv2d(c, filters, kernel, stride=stride, padding=padding)
    return [conv], (filters, _out_size(h, kernel, stride, padding, where),
                    _out_size(w, kernel, stride, padding, where))


def _pool(kind: type[nn.Module]) -> LayerBuilder:
    def build(shape: Shape, arg: Any, where: str) -> tuple[list[nn.Module], Shape]:
        _need_image(shape, where)
        size = _count(_options(arg, "size", {"size"}, where), "size", 2, where)
        c, h, w = shape
        return [kind(size)], (c, _out_size(h, size, size, 0, where), _out_size(w, size, size, 0, where))

    return build


LAYERS.register("maxpool2d")(_pool(nn.MaxPool2d))
LAYERS.register("avgpool2d")(_pool(nn.AvgPool2d))


@LAYERS.register("global_avgpool")
def _global_avgpool(shape: Shape, arg: Any, where: str) -> tuple[list[nn.Module], Shape]:
    _need_image(shape, where)
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten()], (shape[0],)


@LAYERS.register("flatten")
def _flatten(shape: Shape, arg: Any, where: str) -> tuple[list[nn.Module], Shape]:
    return [nn.Flatten()], (math.prod(shape),)


@LAYERS.register("dense")
def _dense(shape: Shape, arg: Any, where: str) -> tuple[list[nn.Module], Shape]:
    options = _options(arg, "units", {"units"}, where)
    if "units" not in options:
        raise ConfigError(f"{where}: say how many units, e.g. dense: 128")
    units = _count(options, "units", 0, where)
    flatten = [nn.Flatten()] if len(shape) > 1 else []
    return flatten + [nn.Linear(math.prod(shape), units)], (units,)


@LAYERS.register("dropout")
def _dropout(shape: Shape, arg: Any, where: str) -> tuple[list[nn.Module], Shape]:
    rate = _options(arg, "rate", {"rate"}, where).get("rate", 0.5)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:  # NaN fails 0 <= rate
        raise ConfigError(f"{where}: the dropout rate must be a number in [0, 1), got {shown(rate)}")
    return [nn.Dropout(rate)], shape


@LAYERS.register("batchnorm")
def _batchnorm(shape: Shape, arg: Any, where: str) -> tuple[list[nn.Module], Shape]:
    return [nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0])], shape
