"""Every kind of bad request gets its 4xx with a reason naming the field, and the server goes on serving:
/health and a good prediction still answer after each one."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from deepscope.serve import ServeOptions, create_app

GOOD_IMAGE = {"image": np.zeros((8, 8)).tolist()}
KEY = "s3cret-key"


@pytest.fixture(scope="module")
def servers(image_run, table_run, text_run):
    """One server per model, the image one with a small body limit and an API key."""
    apps = {"image": create_app(ServeOptions(run=image_run, max_body_bytes=20_000, api_key=KEY)),
            "table": create_app(ServeOptions(run=table_run)), "text": create_app(ServeOptions(run=text_run))}
    clients = {name: TestClient(app) for name, app in apps.items()}
    for c in clients.values():
        c.__enter__()
    yield clients
    for c in clients.values():
        c.__exit__(None, None, None)


def png() -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


CASES = {  # name: (server, request keyword arguments, status, words the answer must hold)
    "wrong shape": ("image", {"json": {"image": np.zeros((7, 8)).tolist()}}, 422, ["image", "8 x 8 x 1", "(7, 8)"]),
    "ragged pixels": ("image", {"json": {"image": [[0.0] * 8] * 7 + [[0.0]]}}, 422, ["image", "ragged"]),
    "wrong type": ("table", {"json": {"size": "large", "colour": "red"}}, 422, ["size", "valid number"]),
    "missing field": ("table", {"json": {"size": 1.0}}, 422, ["colour", "Field required"]),
    "unknown field": ("table", {"json": {"size": 1.0, "colour": "red", "weight": 3}}, 422, ["weight"]),
    "unknown category": ("table", {"json": {"size": 1.0, "colour": "purple"}}, 422, ["colour", "red", "green"]),
    "infinite number": ("table", {"content": b'{"size": 1e999, "colour": "red"}',
                                  "headers": {"content-type": "application/json"}}, 422, ["size"]),
    "not json": ("table", {"content": b"{size: 1", "headers": {"content-type": "application/json"}}, 422,
                 ["json"]),
    "empty list": ("table", {"json": []}, 422, ["at least 1"]),
    "oversized body": ("image", {"json": {"image": np.zeros(20_000).tolist()}}, 413, ["20,000 bytes"]),
    "not an image": ("image", {"files": {"image": ("cat.png", b"GIF89a nonsense", "image/png")}}, 422,
                     ["cat.png", "not a readable image"]),
    "empty file": ("image", {"files": {"image": ("blank.png", b"", "image/png")}}, 422, ["blank.png", "empty"]),
    "wrong upload field": ("image", {"files": {"picture": ("a.png", png(), "image/png")}}, 422, ["image",
                                                                                                  "picture"]),
    "text for a table model": ("table", {"content": b"size=1", "headers": {"content-type": "text/plain"}}, 415,
                               ["application/json"]),
    "upload to a table model": ("table", {"files": {"size": ("a.png", png(), "image/png")}}, 415,
                                ["application/json"]),
    "empty text": ("text", {"json": {"review": ""}}, 422, ["review", "at least 1 character"]),
    "blank text": ("text", {"json": {"review": "   "}}, 422, ["review", "pattern"]),
    "text of unseen characters": ("text", {"json": {"review": "0"}}, 422, ["review", "training texts"]),
    "huge pixel": ("image", {"json": {"image": [1e300] * 64}}, 422, ["image", "from -1e+30 to 1e+30"]),
    "missing API key": ("image", {"json": GOOD_IMAGE, "headers": {}}, 401, ["API key"]),
    "wrong API key": ("image", {"json": GOOD_IMAGE, "headers": {"X-API-Key": "guess"}}, 403, ["wrong"]),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_request_gets_its_4xx_with_a_reason_and_the_server_goes_on(case, servers):
    server, request, status, words = CASES[case]
    c = servers[server]
    signed = {"X-API-Key": KEY} if server == "image" else {}  # the image server requires the key
    answer = c.post("/predict", **{"headers": signed, **request})
    assert answer.status_code == status, answer.text
    text = answer.text
    assert all(word in text for word in words), (case, text)
    assert "Traceback" not in text
    assert c.get("/health").status_code == 200
    good = {"image": GOOD_IMAGE, "table": {"size": 0.0, "colour": "red"}, "text": {"review": "warm and funny"}}
    assert c.post("/predict", json=good[server], headers=signed).status_code == 200


def test_health_needs_no_key_and_every_other_route_does(servers):
    c = servers["image"]
    for route in ("/ready", "/metadata", "/metrics", "/openapi.json"):
        assert c.get(route, headers={"X-API-Key": KEY}).status_code == 200
        assert c.get(route, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        assert c.get(route).status_code == 401
        assert c.get(route, headers={"X-API-Key": "guess"}).status_code == 403
    assert c.get("/health").status_code == 200 and c.get("/health", headers={"X-API-Key": "guess"}).status_code == 200
