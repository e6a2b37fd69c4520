"""The prediction server in process (FastAPI's TestClient runs its lifespan): answers equal `ds.load(run).predict`,
for JSON and for file uploads; concurrent requests share forward passes and get the same answers; a lone request
does not wait for company; the metrics, metadata and OpenAPI schema say what the model takes."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sklearn.datasets import load_digits

import deepscope as ds
from deepscope.serve import ServeOptions, create_app
from tests.serve.conftest import COLOURS, listening

DIGITS = load_digits().images[:40]  # (40, 8, 8), values 0-16 as the bundled source reads them


def client(run: str, **options) -> TestClient:
    return TestClient(create_app(ServeOptions(run=run, **options)))


def close(answer: dict, expected: dict) -> None:
    assert {k: v for k, v in answer.items() if k != "probabilities"} == \
        {k: v for k, v in expected.items() if k != "probabilities"}
    for label, p in expected.get("probabilities", {}).items():
        assert answer["probabilities"][label] == pytest.approx(p, abs=1e-5)


def test_json_images_get_the_predictions_of_ds_load(image_run):
    expected = ds.load(image_run).predict({"image": DIGITS[:5]})
    with client(image_run) as c:
        one = c.post("/predict", json={"image": DIGITS[0].tolist()})  # nested 8 x 8
        many = c.post("/predict", json=[{"image": d.reshape(-1).tolist()} for d in DIGITS[:5]])  # flat
    assert one.status_code == 200 and many.status_code == 200
    close(one.json(), expected[0])
    assert len(many.json()) == 5
    for answer, wanted in zip(many.json(), expected):
        close(answer, wanted)


def test_uploaded_image_files_get_the_predictions_of_the_same_files(image_run, tmp_path):
    paths = []
    for i, digit in enumerate(DIGITS[:3]):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray((digit * 255 / 16).astype(np.uint8)).save(paths[-1])
    expected = ds.load(image_run).predict({"image": paths})
    with client(image_run) as c:
        answer = c.post("/predict", files=[("image", (p.name, p.read_bytes(), "image/png")) for p in paths])
        alone = c.post("/predict", files={"image": (paths[0].name, paths[0].read_bytes(), "image/png")})
    assert answer.status_code == 200, answer.text
    for got, wanted in zip(answer.json(), expected):
        close(got, wanted)
    close(alone.json(), expected[0])  # one file: one answer, not a list


def test_table_and_text_rows(table_run, text_run):
    rows = [{"size": 1.5, "colour": "red"}, {"size": -2.0, "colour": None}, {"size": None, "colour": "blue"}]
    with client(table_run) as c:
        answer = c.post("/predict", json=rows)
    for got, wanted in zip(answer.json(), ds.load(table_run).predict(rows)):
        close(got, wanted)
    with client(text_run) as c:
        answer = c.post("/predict", json={"review": "warm and funny"})
    close(answer.json(), ds.load(text_run).predict({"review": ["warm and funny"]})[0])


def test_concurrent_requests_share_forward_passes_and_get_their_own_answers(image_run):
    expected = ds.load(image_run).predict({"image": DIGITS})
    with client(image_run, max_batch=16, max_wait_ms=50) as c:
        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(lambda d: c.post("/predict", json={"image": d.tolist()}).json(), DIGITS))
        metrics = c.get("/metrics").text
    for got, wanted in zip(answers, expected):  # each request its own answer, in any batch
        close(got, wanted)
    passes = _metric(metrics, "deepscope_batch_size_count")
    rows = _metric(metrics, "deepscope_batch_size_sum")
    assert rows == 40 and passes < 40 / 2, f"{passes} forward passes for 40 concurrent requests"
    assert 'deepscope_requests_total{route="/predict",status="200"} 40.0' in metrics


def test_a_lone_request_does_not_wait_for_company(image_run):
    with client(image_run, max_wait_ms=3000) as c:
        started = time.perf_counter()
        assert c.post("/predict", json={"image": DIGITS[0].tolist()}).status_code == 200
        assert time.perf_counter() - started < 1.5  # the batch's wait would be 3 s


def test_batching_off_answers_the_same(image_run):
    with client(image_run, batching=False) as c:
        answer = c.post("/predict", json={"image": DIGITS[0].tolist()})
        assert c.get("/ready").json() == {"ready": True, "backend": "torch", "batching": False, "batch_threads": 1}
    close(answer.json(), ds.load(image_run).predict({"image": DIGITS[:1]})[0])


def test_metadata_and_openapi_name_the_real_fields_and_categories(table_run):
    with client(table_run) as c:
        meta = c.get("/metadata").json()
        schema = c.get("/openapi.json").json()
        assert c.get("/health").json() == {"status": "alive"}
    assert meta["inputs"]["colour"]["type"] == "category" and set(meta["inputs"]["colour"]["categories"]) == \
        set(COLOURS)  # most frequent first, without the <unknown> slot
    assert meta["outputs"]["label"]["categories"] == ["big", "small"]
    assert {"accuracy", "loss"} <= set(meta["test_metrics"]) and meta["versions"]["deepscope"] == ds.__version__
    item = schema["components"]["schemas"]["Item"]
    assert set(item["properties"]) == {"size", "colour"} and set(item["required"]) == {"size", "colour"}
    colour = item["properties"]["colour"]["anyOf"]
    assert sorted(next(a for a in colour if "enum" in a)["enum"]) == sorted(COLOURS)


def test_explain_returns_attributions_for_each_item(image_run):
    with client(image_run) as c:
        answer = c.post("/explain?method=saliency", json=[{"image": d.tolist()} for d in DIGITS[:2]])
        unknown = c.post("/explain?method=lime", json={"image": DIGITS[0].tolist()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["method"] == "saliency" and np.asarray(body["attributions"]).shape == (2, 1, 8, 8)
    assert unknown.status_code == 422 and "unknown attribution method 'lime'" in unknown.json()["detail"]


def _metric(text: str, name: str) -> float:
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")))



def test_predict_remote_sends_csv_rows_and_texts(table_run, text_run, tmp_path):
    """`predict --server` for a CSV file and for a text: rows as a local prediction gives them."""
    from deepscope.run.remote import predict_remote

    table = tmp_path / "rows.csv"
    table.write_text("size,colour\n1.5,red\n-2.0,\n,blue\n")
    for run, source in ((table_run, str(table)), (text_run, "warm and funny")):
        with listening(create_app(ServeOptions(run=run))) as url:
            remote = predict_remote(run, source, url)
        local = ds.predict(run, source)
        assert [r["input"] for r in remote] == [r["input"] for r in local]
        for got, wanted in zip(remote, local):
            close(got, wanted)


def test_a_request_past_its_timeout_gets_504_and_the_server_goes_on(image_run):
    """A forward pass that takes 1 s (a stalled model, planted: 50 ms at its warm-up, so it is computed on the model
    thread) with a 0.2 s timeout: 504; the next request, once the model is free again, gets its answer."""
    from deepscope.serve.backends import TorchBackend

    class StallsOnce(TorchBackend):
        stall = False

        def predict(self, batch):
            time.sleep(1.0 if StallsOnce.stall else 0.05)  # 50 ms at the warm-up, then the one stall
            StallsOnce.stall = False
            return super().predict(batch)

    options = ServeOptions(run=image_run, timeout_s=0.2)
    with TestClient(create_app(options, StallsOnce(image_run))) as c:
        StallsOnce.stall = True
        late = c.post("/predict", json={"image": DIGITS[0].tolist()})
        assert late.status_code == 504 and "0.2 s timeout" in late.json()["detail"]
        time.sleep(1.0)
        assert c.post("/predict", json={"image": DIGITS[0].tolist()}).status_code == 200
        assert c.get("/health").status_code == 200


def test_the_onnx_backend_serves_the_exported_model_with_the_same_answers(image_run):
    """`deepscope export RUN --format onnx`, then `deepscope serve RUN --backend onnx`: onnxruntime's answers
    equal the torch model's; /explain says it needs the torch backend."""
    from deepscope.serve.export import export_run

    export_run(image_run, "onnx", check_n=16)
    expected = ds.load(image_run).predict({"image": DIGITS[:4]})
    with client(image_run, backend="onnx") as c:
        assert c.get("/ready").json()["backend"] == "onnx"
        answers = c.post("/predict", json=[{"image": d.tolist()} for d in DIGITS[:4]]).json()
        refused = c.post("/explain", json={"image": DIGITS[0].tolist()})
    for got, wanted in zip(answers, expected):
        close(got, wanted)
    assert refused.status_code == 501 and "--backend torch" in refused.json()["detail"]


def test_serving_onnx_without_an_export_names_the_command(tmp_path, image_run):
    import shutil

    from deepscope.errors import UserError

    bare = tmp_path / "bare-run"
    shutil.copytree(image_run, bare, ignore=shutil.ignore_patterns("export"))
    with pytest.raises(UserError, match="deepscope export .* --format onnx"):
        ServeOptions(run=str(bare), backend="onnx").load_backend()
