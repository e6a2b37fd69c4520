"""`deepscope export`: an image, a table and a text model in each format, each checked against the torch model on
held-out inputs; the metadata inside the file read back without running it; the ONNX and TorchScript backends
predicting what the model predicts (the text model at other lengths and batch sizes than it was exported with);
the fallback exporter; and the user's mistakes (exit 2, one message)."""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile

import numpy as np
import pytest
import torch

import deepscope as ds
from deepscope.errors import DamagedFileError, UserError
from deepscope.models.saving import load_model, model_folder
from deepscope.run.explain import split_sample
from deepscope.serve import export_formats
from deepscope.serve.export import PARITY_TOLERANCE, default_export_path, export_run
from deepscope.serve.export_metadata import export_features, load_export_metadata
from deepscope.serve.onnx_backend import OnnxBackend, TorchScriptBackend, exported_backend
from tests.conftest import write_reviews

FORMATS = ["onnx", "torchscript", "pt2"]
KINDS = ["image", "table", "text"]


def _train(config: dict, tmp_path_factory) -> str:
    config = {**config, "run": {"root": str(tmp_path_factory.mktemp("runs"))}}
    return str(ds.train(config, progress=False).dir)


def _table_csv(folder, rows: int = 300):
    """Two numbers and a category decide the label."""
    rng = np.random.default_rng(0)
    path = folder / "rows.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["size", "weight", "colour", "label"])
        for _ in range(rows):
            size, weight, colour = rng.normal(), rng.normal(), ["red", "green", "blue"][rng.integers(3)]
            writer.writerow([f"{size:.3f}", f"{weight:.3f}", colour, int(size + weight + (colour == "red") > 0.5)])
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("data")
    write_reviews(folder, 12)
    return {
        "image": _train({"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}},
                         "model": {"encoder": {"name": "cnn", "filters": [8], "dense": 32}}, "train": {"epochs": 1}},
                        tmp_path_factory),
        "table": _train({"data": {"source": str(_table_csv(folder)),
                                  "inputs": {"size": "number", "weight": "number", "colour": "category"},
                                  "outputs": {"label": "category"}},
                         "model": {"encoder": {"name": "mlp", "hidden": [16]}}, "train": {"epochs": 2}},
                        tmp_path_factory),
        "text": _train({"data": {"source": str(folder / "reviews.csv"), "inputs": {"review": "text"},
                                 "outputs": {"sentiment": "category"}, "split": {"val": 0.1, "test": 0.25}},
                        "model": {"encoder": {"name": "transformer", "d_model": 16, "heads": 2, "layers": 1}},
                        "train": {"epochs": 3, "batch_size": 16}}, tmp_path_factory),
    }


@pytest.fixture(scope="module")
def exported(runs):
    """Every (kind, format) exported once, with its result: the tests below read the files."""
    return {(kind, fmt): export_run(runs[kind], fmt, check_n=1000) for kind in KINDS for fmt in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_format_exports_and_matches_torch_on_the_test_split(exported, runs, kind, fmt):
    result = exported[kind, fmt]
    saved = load_model(runs[kind])
    test_rows = len(next(iter(split_sample(runs[kind], saved, "test", 10**6, 0).values())))
    assert result.path == default_export_path(runs[kind], fmt) and result.path.is_file()
    assert result.split == "test" and result.n_checked == min(test_rows, 1000) > 0
    assert result.passes and result.max_abs_diff <= PARITY_TOLERANCE
    output = next(iter(saved.outputs))
    assert set(result.diffs) == {f"{output}.probabilities", f"{output}.class"}
    assert result.exporter == {"onnx": "dynamo", "torchscript": "torch.jit.trace", "pt2": "torch.export"}[fmt]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_metadata_reads_back_as_the_runs_features(exported, runs, kind, fmt):
    path = exported[kind, fmt].path
    metadata = load_export_metadata(path)
    spec = json.loads((model_folder(runs[kind]) / "model.json").read_text())
    assert metadata["inputs"] == spec["inputs"] and metadata["outputs"] == spec["outputs"]
    assert metadata["export"] == fmt and metadata["deepscope"] == ds.__version__
    assert metadata["run"] == runs[kind].rsplit("/", 1)[-1]
    output = next(iter(spec["outputs"]))
    assert metadata["output_keys"] == [[output, "probabilities"], [output, "class"]]
    assert metadata["input_names"] == list(spec["inputs"])
    inputs, outputs = export_features(metadata, path)
    saved = load_model(runs[kind])
    assert {n: f.state() for n, f in inputs.items()} == {n: f.state() for n, f in saved.inputs.items()}
    assert {n: f.state() for n, f in outputs.items()} == {n: f.state() for n, f in saved.outputs.items()}


def _same_predictions(got: dict, expected: dict) -> None:
    assert {o: list(k) for o, k in got.items()} == {o: list(k) for o, k in expected.items()}
    for output, tensors in expected.items():
        for key, tensor in tensors.items():
            assert got[output][key].dtype == tensor.dtype and got[output][key].shape == tensor.shape
            torch.testing.assert_close(got[output][key], tensor, atol=PARITY_TOLERANCE, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_each_backend_predicts_what_the_model_predicts(exported, runs, kind):
    saved = load_model(runs[kind])
    batch = split_sample(runs[kind], saved, "train", 37, 1)  # other rows, another batch size than the export's
    with torch.no_grad():
        expected = saved.model.predict(batch)
    backends = [OnnxBackend(exported[kind, "onnx"].path), TorchScriptBackend(exported[kind, "torchscript"].path),
                exported_backend(exported[kind, "pt2"].path)]
    assert [backend.name for backend in backends] == FORMATS
    for backend in backends:
        assert {n: f.state() for n, f in backend.inputs.items()} == {n: f.state() for n, f in saved.inputs.items()}
        _same_predictions(backend.predict(batch), expected)
        name = next(iter(saved.outputs))  # decoded as the server answers: the same classes
        assert [row[name] for row in backend.outputs[name].decode(backend.predict(batch)[name])] == \
            [row[name] for row in saved.outputs[name].decode(expected[name])]


def test_the_onnx_text_model_reads_other_lengths_and_batch_sizes(exported, runs):
    saved = load_model(runs["text"])
    backend = OnnxBackend(exported["text", "onnx"].path)
    ids = split_sample(runs["text"], saved, "train", 50, 2)["review"]  # (50, max_length)
    assert backend.metadata["dynamic_axes"]["review"] == {"0": "batch", "1": "length"}
    assert backend.session.get_inputs()[0].shape == ["batch", "length"] and backend.lengths == {}
    for rows, length in [(1, ids.shape[1]), (3, 2), (50, 1), (17, ids.shape[1] - 1)]:
        batch = {"review": ids[:rows, :length].contiguous()}
        with torch.no_grad():
            expected = saved.model.predict(batch)
        _same_predictions(backend.predict(batch), expected)


def test_the_fallback_exporter_serves_a_text_model_at_any_length(runs, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("the dynamo exporter cannot export this graph\n(details)")

    monkeypatch.setattr(export_formats, "_dynamo_onnx", refuse)
    result = export_run(runs["text"], "onnx", tmp_path / "fallback.onnx", check_n=50)
    assert result.exporter == "torchscript" and result.passes
    assert result.fallback_reason == "RuntimeError: the dynamo exporter cannot export this graph"
    metadata = load_export_metadata(result.path)
    # that exporter bakes the length into the attention's reshapes: the file says so, the backend pads to it
    assert metadata["exporter"] == "torchscript" and metadata["dynamic_axes"]["review"] == {"0": "batch"}
    saved, backend = load_model(runs["text"]), OnnxBackend(result.path)
    assert backend.lengths == {"review": saved.inputs["review"].fitted["max_length"]}
    batch = {"review": split_sample(runs["text"], saved, "train", 9, 0)["review"][:, :3].contiguous()}
    with torch.no_grad():
        _same_predictions(backend.predict(batch), saved.model.predict(batch))


def test_a_model_an_exporter_cannot_export_is_a_message_naming_the_other_formats(runs, monkeypatch,
                                                                                  deepscope_in_process):
    def refuse(*args, **kwargs):
        raise TypeError("zeros(): argument 'size' failed to unpack the object")  # torch.export on packed LSTMs

    monkeypatch.setattr(torch.export, "export", refuse)
    result = deepscope_in_process("export", runs["table"], "--format", "pt2")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--format pt2: torch.export cannot export this model (TypeError: zeros(): argument 'size'" in result.stderr
    assert "try --format onnx or torchscript" in result.stderr


def test_the_archives_hold_no_held_out_rows(exported):
    for fmt in ("torchscript", "pt2"):
        names = zipfile.ZipFile(exported["table", fmt].path).namelist()
        assert not [n for n in names if "traced_inputs" in n], names  # torch.jit.trace's stored example inputs
        assert [n for n in names if n.endswith("/extra/deepscope.json")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the legacy exporter makes a plain ONNX file quickly
def test_files_without_deepscope_metadata_are_refused(tmp_path):
    import onnx

    plain = tmp_path / "plain.onnx"
    buffer = io.BytesIO()
    torch.onnx.export(torch.nn.Linear(3, 2), (torch.zeros(2, 3),), buffer, dynamo=False)
    plain.write_bytes(buffer.getvalue())
    onnx.load(str(plain))  # a real ONNX model, only without our metadata
    with pytest.raises(UserError, match="without deepscope metadata"):
        load_export_metadata(plain)
    archive = tmp_path / "other.pt2"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("archive/extra/other.json", "{}")
    with pytest.raises(UserError, match="without deepscope metadata"):
        load_export_metadata(archive)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(DamagedFileError, match="neither an ONNX model"):
        load_export_metadata(junk)
    damaged = tmp_path / "damaged.ts"
    with zipfile.ZipFile(damaged, "w") as handle:
        handle.writestr("archive/extra/deepscope.json", json.dumps({"format": 1, "inputs": []}))
    with pytest.raises(DamagedFileError, match="metadata's `deepscope` is missing"):
        load_export_metadata(damaged)


def test_a_backend_refuses_a_file_of_another_format(exported):
    with pytest.raises(UserError, match="a torchscript export, not onnx"):
        OnnxBackend(exported["table", "torchscript"].path)


def test_the_command_prints_the_parity(runs, tmp_path, deepscope_in_process):
    out = tmp_path / "table.onnx"
    result = deepscope_in_process("export", runs["table"], "--format", "onnx", "--out", str(out), "--check", "20")
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (onnx, exporter: dynamo)" in result.stdout
    assert "parity on 20 test inputs: max |onnx - torch| = " in result.stdout and "(label." in result.stdout
    assert "warning" not in result.stderr and out.is_file()


@pytest.mark.parametrize("args, message", [
    (["--format", "pdf"], "--format pdf: not an export format; choose one of onnx, torchscript, pt2"),
    (["--check", "-1"], "--check -1: give a number of examples"),
])
def test_the_commands_mistakes_exit_2(runs, deepscope_in_process, args, message):
    result = deepscope_in_process("export", runs["table"], *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_an_unfinished_run_exits_2(tmp_path, deepscope_in_process):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("data: {source: digits}\n")
    result = deepscope_in_process("export", str(tmp_path / "run"), "--format", "torchscript")
    assert result.returncode == 2 and "no trained model here" in result.stderr


def test_missing_onnx_packages_name_the_extra(runs, deepscope_in_process, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now raises ImportError
    result = deepscope_in_process("export", runs["table"], "--format", "onnx")
    assert result.returncode == 2
    assert 'need the `onnxruntime` package, which is not installed: pip install "deepscope[onnx]"' in result.stderr
