"""The server's front door, one pure-ASGI middleware (no per-request task or body copy, as Starlette's
BaseHTTPMiddleware would add): the API key, the body size limit, the count of requests in flight, and each
answer's status and latency in the metrics.

- API key: with one set, every route but /health needs `X-API-Key: KEY` (or `Authorization: Bearer KEY`):
  401 when none is given, 403 when it is wrong; compared in constant time.
- Size: a body over the limit is refused with 413, from its Content-Length before a byte is read, or while it
  streams in when it has none (chunked).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from deepscope.serve.metrics import ServerMetrics

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
OPEN_ROUTES = frozenset({"/health"})  # answered without the key: a load balancer's liveness probe
ROUTES = frozenset({"/predict", "/explain", "/health", "/ready", "/metadata", "/metrics", "/docs", "/openapi.json"})


class BodyTooLarge(Exception):
    pass


class Guard:
    def __init__(self, app: Callable, *, metrics: ServerMetrics, max_body_bytes: int, api_key: str | None):
        self.app, self.metrics, self.max_body_bytes = app, metrics, max_body_bytes
        self.api_key = api_key.encode() if api_key else None
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in ROUTES else "other"
        started, status = time.perf_counter(), [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        self.in_flight += 1
        self.metrics.in_flight.inc()
        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _answer(sending, *refusal)
            else:
                try:
                    await self.app(scope, self._limited(receive), sending)
                except BodyTooLarge:
                    await _answer(sending, 413, self._too_large())
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.dec()
            self.metrics.requests.labels(route, str(status[0])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = dict(scope["headers"])
        if self.api_key is not None and scope["path"] not in OPEN_ROUTES:
            given = _key(headers)
            if given is None:
                return 401, "an API key is required: send it in the X-API-Key header"
            if not hmac.compare_digest(given, self.api_key):
                return 403, "the API key is wrong"
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "the Content-Length header is not a number"
            if int(length) > self.max_body_bytes:
                return 413, self._too_large()
        return None

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def receiving() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        return receiving

    def _too_large(self) -> str:
        return (f"the request body is larger than the server's limit of {self.max_body_bytes:,} bytes; send fewer "
                "items per request (the server batches them anyway), or start it with a larger --max-body-mb")


def _key(headers: dict[bytes, bytes]) -> bytes | None:
    if b"x-api-key" in headers:
        return headers[b"x-api-key"]
    authorization = headers.get(b"authorization", b"")
    return authorization[7:] if authorization.lower().startswith(b"bearer ") else None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
