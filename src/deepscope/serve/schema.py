"""The request and answer types of a served model, built from its fitted features: the OpenAPI schema a client
reads and the validator every request goes through are the same pydantic models, so they cannot disagree.

    body = request_model(inputs)          # pydantic model: one field per input column
    body.model_json_schema()              # {"properties": {"age": {"type": "number"}, "job": {"enum": [...]}}}
    items = parse_json(adapter, raw)      # one item or a list -> list of row dicts; ValidationError names fields

Per feature type:
- number: a finite float, or null for a missing value (filled as in training);
- category: one of the training vocabulary (an unknown one is refused: the model would read it as <unknown>
  without saying so), or null for missing;
- binary: one of the two training values, or null for missing;
- text: a non-empty string;
- image: a JSON array of pixels, flat (H*W*C numbers) or nested (H x W, or H x W x C), in the units of the training
  images (0-255 for 8-bit files); files go as multipart uploads instead;
- audio: multipart uploads of WAV files only;
- timeseries (a forecaster's history): an object of columns, as the training CSV had them: the time column(s)
  (ISO 8601 texts or whole step numbers) and each value column, at least `lookback` rows, oldest first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, TypeAdapter, WithJsonSchema, create_model

from deepscope.data.features import Feature
from deepscope.data.features.category import UNKNOWN

MAX_TEXT = 100_000  # characters per text: a long article; a larger field is refused before tokenising
MAX_ITEMS = 1_024  # items per request: the server batches across requests, a client need not send more
# the largest number a field takes: beyond it float32 (what the model computes in) overflows to infinity once a
# value is standardised; a pixel or a measurement this size is a mistake, said as such by the validator
LARGEST = 1e30
FILE_KINDS = frozenset({"image", "audio"})  # inputs that may come as multipart file uploads


def request_model(inputs: dict[str, Feature]) -> type[BaseModel] | None:
    """A pydantic model with one required field per input column (closed: an unknown field is an error); None
    when an input can only come as a file (audio)."""
    if any(feature.kind == "audio" for feature in inputs.values()):
        return None
    fields = {name: (_field_type(feature), Field(..., description=_description(feature)))
              for name, feature in inputs.items()}
    return create_model("Item", __config__=ConfigDict(extra="forbid", allow_inf_nan=False), **fields)


def request_adapters(item: type[BaseModel]) -> tuple[TypeAdapter, TypeAdapter]:
    """(one item, a list of 1 to MAX_ITEMS of them): the body's first character says which it is."""
    return TypeAdapter(item), TypeAdapter(_batch(item))


def request_schema(item: type[BaseModel], ref_template: str) -> dict[str, Any]:
    """The JSON schema of a body: one item or a list of them."""
    return TypeAdapter(Union[item, _batch(item)]).json_schema(ref_template=ref_template)  # noqa: UP007


def _batch(item: type[BaseModel]) -> Any:
    return Annotated[list[item], Field(min_length=1, max_length=MAX_ITEMS)]


def prediction_model(outputs: dict[str, Feature]) -> type[BaseModel]:
    """The decoded prediction of one item: each output's value, and its class probabilities where it has them."""
    fields: dict[str, Any] = {}
    for name, feature in outputs.items():
        fields[name] = (Any, Field(..., description=f"the predicted {feature.type} of {name!r}"))
        if feature.type == "category":
            fields["probabilities"] = (dict[str, float], Field(..., description="probability of each class"))
        elif feature.type == "binary":
            fields["probability"] = (float, Field(..., description="probability of the positive value"))
    return create_model("Prediction", __config__=ConfigDict(extra="allow"), **fields)


def file_inputs(inputs: dict[str, Feature]) -> list[str]:
    return [name for name, feature in inputs.items() if feature.kind in FILE_KINDS]


def _field_type(feature: Feature) -> Any:
    if feature.type == "number":
        return Annotated[float, Field(ge=-LARGEST, le=LARGEST)] | None
    if feature.type == "category":
        known = [v for v in feature.fitted["vocabulary"] if v != UNKNOWN]
        values = [int(v) for v in known] if feature.fitted.get("numeric") else known
        return Literal[tuple(values)] | None
    if feature.type == "binary":
        return Literal[tuple(_binary_values(feature))] | None
    if feature.type == "text":
        return Annotated[str, Field(min_length=1, max_length=MAX_TEXT, pattern=r"\S")]
    if feature.type == "image":
        return _pixels(feature)
    if feature.type == "timeseries":
        from deepscope.serve.series import series_field

        return series_field(feature)
    raise UnservableInput(feature)


def check_servable(inputs: dict[str, Feature]) -> None:
    """An UnservableInput for a model the server cannot take requests for (a forecaster reads a series window)."""
    for feature in inputs.values():
        if feature.type not in ("number", "category", "binary", "text", "image", "audio", "timeseries"):
            raise UnservableInput(feature)


def _pixels(feature: Feature) -> Any:
    """Pixels as a flat array or nested (H x W, or H x W x C), checked in one pass (numpy) with one message that
    says the shape expected and the shape sent; the schema shows both forms."""
    height, width, channels = feature.fitted["height"], feature.fitted["width"], feature.fitted["channels"]
    shape, size = (height, width, channels), height * width * channels
    forms = [(size,), (height, width, channels)] + ([(height, width)] if channels == 1 else [])

    def check(value: Any) -> np.ndarray:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"expected {size} numbers ({height} x {width} x {channels}), flat or nested; got a "
                             "ragged array or one holding something else") from None
        if array.shape not in forms:
            raise ValueError(f"expected {height} x {width} x {channels} pixels, flat ({size} numbers) or nested; "
                             f"got shape {array.shape}")
        if not (np.abs(array) <= LARGEST).all():  # NaN fails this too
            raise ValueError(f"the pixels must be numbers from -{LARGEST:g} to {LARGEST:g}")
        return array.reshape(shape).astype(np.float32)

    number = {"type": "number", "minimum": -LARGEST, "maximum": LARGEST}
    flat = {"type": "array", "items": number, "minItems": size, "maxItems": size}
    rows = {"type": "array", "minItems": height, "maxItems": height, "items": {
        "type": "array", "minItems": width, "maxItems": width,
        "items": number if channels == 1 else {"type": "array", "items": number, "minItems": channels,
                                               "maxItems": channels}}}
    return Annotated[Any, PlainValidator(check), WithJsonSchema({"anyOf": [flat, rows]})]


def _binary_values(feature: Feature) -> list[Any]:
    return [v for v in (feature.fitted.get("negative"), feature.fitted.get("positive")) if isinstance(v, (str, int))]


def _description(feature: Feature) -> str:
    if feature.type == "image":
        f = feature.fitted
        return (f"{f['height']}x{f['width']} pixels, {f['channels']} channel(s), as a flat or nested array of numbers "
                "(0-255 for 8-bit images); or upload the file as multipart/form-data")
    if feature.type == "number":
        return "a number, or null for a missing value"
    if feature.type == "category":
        return "one of the categories seen in training, or null for a missing value"
    if feature.type == "timeseries":
        return (f"the series' last {feature.options.lookback} or more rows, as columns (the time column(s) and each "
                "value column, oldest first); the answer forecasts the steps after its end")
    return f"a {feature.type}"


class UnservableInput(Exception):
    """An input no request can carry yet (a series window: forecasters are predicted from a CSV)."""

    def __init__(self, feature: Feature):
        super().__init__(feature.name)
        self.feature = feature
