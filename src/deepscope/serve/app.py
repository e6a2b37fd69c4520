"""The prediction server of one run: a FastAPI app.

    app = create_app(ServeOptions(run="runs/mnist-..."))      # uvicorn.run(app) serves it

Routes: POST /predict (JSON items, or multipart file uploads for image and audio inputs), POST /explain, GET
/health (alive), /ready (model loaded and warmed up), /metadata (inputs, outputs, versions, test metrics),
/metrics (Prometheus). Every request is validated against types built from the model's features (serve/schema.py),
which are also the OpenAPI schema; a bad one gets a 4xx naming the field and the reason, and the server goes on.
Uploads are decoded and texts tokenised in a thread pool (JSON numbers and pixels are encoded on the loop: cheaper
than the hand-over); batches run on one model thread of their own (serve/batcher.py), and a request alone in the
server, for a quick model, on the loop itself (INLINE_FORWARD_S).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import torch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from deepscope.errors import UserError
from deepscope.serve.backends import Backend
from deepscope.serve.batcher import MicroBatcher
from deepscope.serve.codec import decode, encode, json_columns, parse_json, upload_columns, warmup_batch
from deepscope.serve.guard import Guard
from deepscope.serve.metadata import metadata
from deepscope.serve.metrics import ServerMetrics
from deepscope.serve.openapi import add_openapi
from deepscope.serve.options import ServeOptions
from deepscope.serve.schema import file_inputs, request_adapters, request_model
from deepscope.serve.series import with_forecast_times
from deepscope.serve.threads import batch_threads, spare

INLINE_TYPES = frozenset({"number", "category", "binary", "image"})
# a model whose one-item forward pass takes less than this computes a request that is alone in the server on the
# event loop itself: the hand-over to the model thread and back costs as much as a small model's pass (measured:
# 0.44 ms instead of 0.30 for the MNIST CNN), and nobody is waiting to be read meanwhile. Slower models use the
# model thread, so that /health never waits longer than this for the loop.
INLINE_FORWARD_S = 0.02


def create_app(options: ServeOptions, backend: Backend | None = None) -> Guard:
    """The server for `options.run` (or for `backend`, already loaded), wrapped in its Guard."""
    state = _State(options, backend or options.load_backend())
    api = FastAPI(title=f"deepscope: {state.name}", version=options.version, lifespan=state.lifespan,
                  docs_url="/docs", redoc_url=None)
    api.add_api_route("/predict", state.predict, methods=["POST"], name="predict")
    api.add_api_route("/explain", state.explain, methods=["POST"], name="explain")
    api.add_api_route("/health", state.health, methods=["GET"], name="health")
    api.add_api_route("/ready", state.ready, methods=["GET"], name="ready")
    api.add_api_route("/metadata", state.metadata, methods=["GET"], name="metadata")
    api.add_api_route("/metrics", state.metrics_text, methods=["GET"], name="metrics")
    add_openapi(api, state.backend, state.item)
    guard = Guard(api, metrics=state.metrics, max_body_bytes=options.max_body_bytes, api_key=options.api_key)
    state.guard = guard
    return guard


class _State:
    """What the routes share: the backend, the batcher, the worker thread and the metrics."""

    def __init__(self, options: ServeOptions, backend: Backend):
        self.options, self.backend = options, backend
        self.name = options.name or backend.name
        self.item = request_model(backend.inputs)
        self.adapter = request_adapters(self.item) if self.item is not None else None
        self.files = file_inputs(backend.inputs)
        # JSON numbers and validated pixel arrays are encoded on the event loop: a few microseconds of arithmetic,
        # less than the hand-over to a thread costs; tokenising, and decoding uploaded files, go to the thread pool
        self.inline = all(f.type in INLINE_TYPES for f in backend.inputs.values())
        self.metrics = ServerMetrics()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deepscope-model")
        self.batcher: MicroBatcher | None = None
        self.guard: Guard | None = None
        self.warm = False
        self.quick = False  # the model's one-item forward pass is under INLINE_FORWARD_S (measured at start)
        self.batch_threads = 1  # the intra-op threads of batches on the model thread (measured at start)

    @asynccontextmanager
    async def lifespan(self, app: FastAPI):
        loop = asyncio.get_running_loop()
        torch.set_num_threads(spare(self.options.share))  # this thread's: the loop computes lone requests
        await loop.run_in_executor(self.worker, torch.set_num_threads, spare(self.options.share))
        warmup = warmup_batch(self.backend.inputs)
        await loop.run_in_executor(self.worker, self.backend.predict, warmup)  # first calls allocate
        started = time.perf_counter()
        await loop.run_in_executor(self.worker, self.backend.predict, warmup)
        self.quick = time.perf_counter() - started < INLINE_FORWARD_S
        if self.options.batching:
            full = {name: x.repeat(min(self.options.max_batch, 64), *[1] * (x.dim() - 1)) for name, x in warmup.items()}
            self.batch_threads = await loop.run_in_executor(self.worker, batch_threads, self.backend.predict, full,
                                                            self.options.share)
            self.batcher = MicroBatcher(self._run, max_batch=self.options.max_batch,
                                        max_wait_s=self.options.max_wait_ms / 1000, executor=self.worker,
                                        on_batch=self.metrics.batch_size.observe, in_flight=self._in_flight)
            await self.batcher.start()
        self.warm = True
        try:
            yield
        finally:  # uvicorn gets here once the requests in flight are answered
            self.warm = False
            if self.batcher is not None:
                await self.batcher.stop()
            self.worker.shutdown(wait=True)

    async def _alone_and_quick(self) -> bool:
        """Batching on, a quick model, and this request the only one in the server (see INLINE_FORWARD_S). The
        yield first lets requests that have just arrived start and be counted: a request that has its body at once
        never yields by itself, and under load every one would otherwise find itself alone."""
        if not (self.quick and self.batcher is not None):
            return False
        await asyncio.sleep(0)
        return self._in_flight() <= 1 and self.batcher.depth == 0

    def _in_flight(self) -> int:
        return self.guard.in_flight if self.guard is not None else 1

    def _run(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        return decode(self.backend.outputs, self.backend.predict(batch))

    async def predict(self, request: Request) -> Response:
        try:
            tensors, n, single, columns = await self._encoded(request)
        except _Refused as refused:
            return refused.response
        if await self._alone_and_quick():
            self.metrics.batch_size.observe(n)
            rows = self._run(tensors)
        else:
            try:
                rows = await asyncio.wait_for(self._predicted(tensors, n), self.options.timeout_s)
            except asyncio.TimeoutError:
                return _error(504, f"no answer within the server's {self.options.timeout_s:g} s timeout; try again, "
                                   "or send fewer items per request")
        rows = with_forecast_times(rows, self.backend.inputs, columns)
        return JSONResponse(rows[0] if single else rows)

    def _predicted(self, tensors: dict[str, Any], n: int) -> asyncio.Future:
        if self.batcher is not None:
            self.metrics.queue_depth.set(self.batcher.depth + 1)
            return self.batcher.submit(tensors, n)
        self.metrics.batch_size.observe(n)
        return asyncio.get_running_loop().run_in_executor(self.worker, self._run, tensors)

    async def _encoded(self, request: Request) -> tuple[dict[str, Any], int, bool, dict[str, list[Any]]]:
        """(the request's items validated and encoded (in the thread pool), their number, whether one item came
        rather than a list, the items by input as they came); _Refused with the 4xx answer."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        inline = False
        if kind == "multipart/form-data" and self.files:
            columns, single = await self._uploads(request)
        elif kind in ("application/json", "") and self.adapter is not None:
            body = await request.body()
            try:
                items, single = parse_json(self.adapter, body)
            except ValidationError as error:
                raise _Refused(_invalid(error)) from None
            columns, inline = json_columns(items, self.backend.inputs), self.inline
        else:
            raise _Refused(_error(415, self._media_hint(kind)))
        try:
            if inline:
                tensors, n = encode(self.backend.inputs, columns)
            else:
                tensors, n = await run_in_threadpool(encode, self.backend.inputs, columns)
        except UserError as error:
            raise _Refused(_error(422, str(error))) from None
        return tensors, n, single, columns

    async def _uploads(self, request: Request) -> tuple[dict[str, Any], bool]:
        try:
            form = await request.form(max_files=1024, max_fields=1024)
        except Exception as error:  # noqa: BLE001 (python-multipart's parse errors have no common type)
            raise _Refused(_error(400, f"the multipart body cannot be read: {error}")) from None
        unknown = sorted(set(form) - set(self.files))
        missing = [name for name in self.files if name not in form]
        if unknown or missing:
            raise _Refused(_error(422, f"upload the file(s) as the field(s) {', '.join(self.files)}"
                                       + (f"; unknown field(s) {', '.join(unknown)}" if unknown else "")))
        files = {}
        for name in self.files:
            uploads = form.getlist(name)
            if any(isinstance(u, str) for u in uploads):
                raise _Refused(_error(422, f"{name}: send a file, not a text field"))
            files[name] = [(u.filename or "upload", await u.read()) for u in uploads]
        try:
            columns = await run_in_threadpool(upload_columns, files, self.backend.inputs)
        except UserError as error:
            raise _Refused(_error(422, str(error))) from None
        return columns, sum(len(v) for v in files.values()) == len(files)

    def _media_hint(self, kind: str) -> str:
        ways = (["application/json"] if self.adapter is not None else []) + \
            (["multipart/form-data (files as the field(s) " + ", ".join(self.files) + ")"] if self.files else [])
        return f"content type {kind or 'none'!r} is not taken here; send {' or '.join(ways)}"

    async def explain(self, request: Request) -> Response:
        from deepscope.serve.explaining import explain_request

        try:
            tensors, _, single, _ = await self._encoded(request)
        except _Refused as refused:
            return refused.response
        return await explain_request(self, request, tensors, single)

    async def health(self) -> dict[str, str]:
        return {"status": "alive"}

    async def ready(self) -> Response:
        if not self.warm:
            return _error(503, "the model is still loading")
        return JSONResponse({"ready": True, "backend": self.backend.name, "batching": self.options.batching,
                             "batch_threads": self.batch_threads})

    async def metadata(self) -> dict[str, Any]:
        return metadata(self.options, self.backend)

    async def metrics_text(self) -> Response:
        if self.batcher is not None:
            self.metrics.queue_depth.set(self.batcher.depth)
        return Response(self.metrics.render(), media_type=self.metrics.content_type)


class _Refused(Exception):
    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _invalid(error: ValidationError) -> JSONResponse:
    """422, each wrong field with its place and the reason (pydantic's own words, its input value left out)."""
    problems = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()[:20]]
    return JSONResponse({"detail": problems}, status_code=422)
