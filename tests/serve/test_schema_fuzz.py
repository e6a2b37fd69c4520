"""schemathesis against the server's own OpenAPI schema: requests generated from it (valid ones and deliberately
invalid ones) get no 5xx, and every answer matches what the schema says (status codes, content types, bodies).
The server runs in process, lifespan included (FastAPI's TestClient).

Every check runs, with one exception: "schema-valid data is accepted" is not asked where no schema can say what
is valid: file uploads (which bytes are an image), texts (a text none of whose characters or words occur in
the training texts is refused with a 422 saying so, as `ds.load(run).predict` refuses it) and a forecaster's
history (its times must be dates that increase). These refusals are checked in test_bad_requests.py and
test_forecast.py. For the other JSON bodies it is asked: the schema says exactly what is taken."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from deepscope.serve import ServeOptions, create_app

EXAMPLES = 25  # per operation and phase: seconds, not minutes


@pytest.fixture(scope="module", params=["image_run", "table_run", "text_run", "forecast_run"])
def served(request):
    app = create_app(ServeOptions(run=request.getfixturevalue(request.param), max_body_bytes=2**20))
    with TestClient(app):  # runs the lifespan: model loaded and warmed up, batcher started
        yield app


def test_no_5xx_and_no_schema_violation_for_any_generated_request(served):
    schema = schemathesis.openapi.from_asgi("/openapi.json", served)
    fields = schema.raw_schema["components"]["schemas"].get("Item", {}).get("properties", {})
    unchecked = "review" in fields or "history" in fields  # see the docstring
    failures = []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def check(case, op=op):
            try:
                unschematic = case.media_type == "multipart/form-data" or unchecked
                case.call_and_validate(excluded_checks=[positive_data_acceptance] if unschematic else [])
            except Exception as error:  # noqa: BLE001 (collect every failure with its case)
                failures.append(f"{op.label}: {error}"[:2000])
                raise

        try:
            check()
        except Exception:  # noqa: BLE001
            pass
    assert not failures, "\n\n".join(failures[:3])
