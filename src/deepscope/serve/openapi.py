"""The OpenAPI schema of a served model: /predict and /explain take the request types of serve/schema.py (the
same ones every body is validated with) as JSON, and file uploads as multipart/form-data for image and audio
inputs; every answer the server can give is listed, so a client (or schemathesis) can hold it to the schema."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from deepscope.serve.backends import Backend
from deepscope.serve.schema import file_inputs, prediction_model, request_schema

REF = "#/components/schemas/{model}"
ERROR = {"type": "object", "properties": {"detail": {}}, "required": ["detail"]}
REFUSALS = {
    "400": "the body cannot be read", "401": "no API key given", "403": "the API key is wrong",
    "413": "the body is larger than the server's limit", "415": "a content type the model cannot take",
    "422": "a field is missing, of the wrong type or out of range (each named in `detail`)",
    "501": "explanations need the torch backend",
    "504": "no answer within the server's timeout",
}


def add_openapi(api: FastAPI, backend: Backend, item: type[BaseModel] | None) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = build(api, backend, item)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def build(api: FastAPI, backend: Backend, item: type[BaseModel] | None) -> dict[str, Any]:
    schema = get_openapi(title=api.title, version=api.version, routes=api.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    content: dict[str, Any] = {}
    if item is not None:
        body = request_schema(item, REF)
        components.update(body.pop("$defs", {}))
        content["application/json"] = {"schema": body}
    files = file_inputs(backend.inputs)
    if files:
        upload = {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1}
        content["multipart/form-data"] = {"schema": {"type": "object", "required": files,
                                                     "properties": {name: upload for name in files}}}
    prediction = prediction_model(backend.outputs).model_json_schema(ref_template=REF)
    components.update(prediction.pop("$defs", {}))
    components["Prediction"] = prediction
    one = {"$ref": REF.format(model="Prediction")}
    answers = {"200": {"description": "the decoded prediction of each item (one item sent: one answer)",
                       "content": {"application/json": {"schema": {"anyOf": [one, {"type": "array", "items": one}]}}}},
               **_refusals()}
    for path in ("/predict", "/explain"):
        operation = schema["paths"][path]["post"]
        operation["requestBody"] = {"required": True, "content": content}
        operation["responses"] = answers if path == "/predict" else {
            "200": {"description": "attributions of each item", "content": {"application/json": {"schema": {}}}},
            **_refusals()}
    for path, answer in schema["paths"].items():
        if path not in ("/predict", "/explain"):
            for operation in answer.values():
                operation["responses"].update({k: v for k, v in _refusals().items() if k in ("401", "403")})
    schema["paths"]["/metrics"]["get"]["responses"]["200"] = {
        "description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}
    schema["paths"]["/ready"]["get"]["responses"]["503"] = {"description": "the model is still loading",
                                                             "content": {"application/json": {"schema": ERROR}}}
    return schema


def _refusals() -> dict[str, Any]:
    return {code: {"description": why, "content": {"application/json": {"schema": ERROR}}}
            for code, why in REFUSALS.items()}
