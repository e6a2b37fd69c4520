"""POST /explain: the attributions of deepscope's explain layer for the items of a request, computed on the
model's worker thread (one call per request: an attribution method makes its own passes, it is not batched with
predictions). `?method=NAME` picks the method (default: the input's modality's), `?target=CLASS` the class.

    {"method": "integrated_gradients", "input": "image", "targets": [7], "scores": [0.98],
     "attributions": [[[...28 x 28...]]], "tokens": null}
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from deepscope.errors import UserError


async def explain_request(state: Any, request: Request, tensors: dict[str, Any], single: bool) -> Response:
    model = getattr(state.backend, "model", None)
    if model is None:
        return JSONResponse({"detail": f"explanations need the model itself; this server runs the "
                                       f"{state.backend.name} backend: serve the run with --backend torch"},
                            status_code=501)
    method, target = request.query_params.get("method"), request.query_params.get("target")
    loop = asyncio.get_running_loop()
    try:
        answer = await asyncio.wait_for(
            loop.run_in_executor(state.worker, _explained, state.backend, model, tensors, method, target),
            state.options.timeout_s)
    except UserError as error:
        return JSONResponse({"detail": str(error)}, status_code=422)
    except asyncio.TimeoutError:
        return JSONResponse({"detail": f"no explanation within {state.options.timeout_s:g} s"}, status_code=504)
    return JSONResponse(answer)


def _explained(backend: Any, model: Any, tensors: dict[str, Any], method: str | None, target: str | None
               ) -> dict[str, Any]:
    from deepscope.explain.api import explain

    output = next(iter(backend.outputs))
    e = explain(model, backend.inputs, output, tensors, method, target, outputs=backend.outputs)
    return {"method": e.method, "input": e.input, "targets": e.targets.tolist(), "scores": e.scores.tolist(),
            "attributions": e.attributions.tolist(), "tokens": e.tokens}
