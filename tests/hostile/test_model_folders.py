"""Hostile-input suite, model folders: a run whose model/ was damaged, truncated or forged, given to `predict` and
to `evaluate`. Every case ends in exit code 2 with one message naming the damaged file and what is wrong with it,
no traceback, before anything big is built or allocated (the memory bombs run under an address-space limit)."""

from __future__ import annotations

import json
import pickle
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load, save_file

from tests.hostile.harness import refused, run_bounded, snapshot, untouched
from tests.hostile.trained_runs import table_run

WEIGHTS, SPEC = "weights.safetensors", "model.json"


def header(path: Path) -> tuple[dict, bytes]:
    """(the safetensors header as JSON, the tensor bytes after it)."""
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def with_header(path: Path, change: Callable[[dict], object]) -> None:
    """Rewrite the header of the weights file as `change` returns it, the tensor bytes left as they are."""
    found, body = header(path)
    text = json.dumps(change(found)).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)


def first_tensor(found: dict) -> str:
    return next(name for name in found if name != "__metadata__")


def edit_spec(path: Path, change: Callable[[dict], object]) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def without(key: str) -> Callable[[dict], dict]:
    return lambda spec: {k: v for k, v in spec.items() if k != key}


def change_tensor(found: dict, **entry: object) -> dict:
    found[first_tensor(found)].update(entry)
    return found


def state_dict(model: Path) -> dict[str, torch.Tensor]:
    """The tensors, read from bytes: a memory map of the file would break when the file is rewritten."""
    return load((model / WEIGHTS).read_bytes())


def resave(model: Path, change: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]) -> None:
    save_file(change(state_dict(model)), str(model / WEIGHTS))


def wrong_shape(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    name = next(n for n, t in tensors.items() if t.dim() == 2)
    return {**tensors, name: torch.zeros(tensors[name].shape[0] + 1, tensors[name].shape[1])}


def one_fewer(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return dict(list(tensors.items())[1:])


def one_more(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {**tensors, "planted.weight": torch.zeros(3)}


def pickled(model: Path) -> None:
    torch.save(state_dict(model), model / WEIGHTS)  # a zip of pickles, under the safetensors name


def raw_pickle(model: Path) -> None:
    (model / WEIGHTS).write_bytes(pickle.dumps({"weight": [1.0, 2.0]}))


def truncated(model: Path) -> None:
    data = (model / WEIGHTS).read_bytes()
    (model / WEIGHTS).write_bytes(data[: len(data) // 2])


def huge_header_length(model: Path) -> None:
    data = (model / WEIGHTS).read_bytes()
    (model / WEIGHTS).write_bytes(struct.pack("<Q", 2**60) + data[8:])


def spec_link_outside(model: Path) -> None:
    secret = model.parent.parent / "secret.json"  # outside the model folder
    secret.write_text((model / SPEC).read_text())
    (model / SPEC).unlink()
    (model / SPEC).symlink_to(secret)


@dataclass(frozen=True)
class Case:
    name: str
    plant: Callable[[Path], None]  # damages the model folder it is given
    file: str  # the file the message must name
    says: str  # and what it must say about it
    bomb: bool = False  # could exhaust memory: run in a fresh process under a memory limit


def on_weights(change: Callable[[dict], object]) -> Callable[[Path], None]:
    return lambda model: with_header(model / WEIGHTS, change)


def on_spec(change: Callable[[dict], object]) -> Callable[[Path], None]:
    return lambda model: edit_spec(model / SPEC, change)


def write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda model: (model / name).write_bytes(data)


CASES = [
    # the weights file
    Case("weights-truncated", truncated, WEIGHTS, "cut short"),
    Case("weights-empty", write(WEIGHTS, b""), WEIGHTS, "empty or cut short"),
    Case("weights-8-bytes", write(WEIGHTS, b"\x10" + b"\0" * 7), WEIGHTS, "cut short"),
    Case("weights-junk", write(WEIGHTS, bytes(range(256)) * 4), WEIGHTS, "not a safetensors file"),
    Case("weights-torch-pickle", pickled, WEIGHTS, "a pickle renamed"),
    Case("weights-raw-pickle", raw_pickle, WEIGHTS, "damaged"),
    Case("weights-missing", lambda model: (model / WEIGHTS).unlink(), WEIGHTS, "missing"),
    Case("weights-a-folder", lambda model: (model / WEIGHTS).unlink() or (model / WEIGHTS).mkdir(), WEIGHTS,
         "not a file"),
    Case("weights-header-a-list", on_weights(lambda found: list(found)), WEIGHTS, "not a JSON object"),
    Case("weights-header-a-number", on_weights(lambda found: 7), WEIGHTS, "not a JSON object"),
    Case("weights-offsets-strings", on_weights(lambda found: change_tensor(found, data_offsets=["0", "8"])),
         WEIGHTS, "data_offsets are not two whole numbers"),
    Case("weights-offsets-past-the-end", on_weights(lambda found: change_tensor(found, data_offsets=[0, 10**9])),
         WEIGHTS, "past the end of the file"),
    Case("weights-shape-strings", on_weights(lambda found: change_tensor(found, shape=["4", "3"])),
         WEIGHTS, "shape is not a list of whole numbers"),
    Case("weights-unknown-dtype", on_weights(lambda found: change_tensor(found, dtype="Q7")),
         WEIGHTS, "unknown dtype"),
    Case("weights-huge-shape", on_weights(lambda found: change_tensor(found, shape=[10**6, 10**6])),
         WEIGHTS, "do not match its shape", bomb=True),
    Case("weights-huge-header-length", huge_header_length, WEIGHTS, "cut short inside its header", bomb=True),
    Case("weights-wrong-shape", lambda model: resave(model, wrong_shape), WEIGHTS, "has the shape"),
    Case("weights-a-tensor-missing", lambda model: resave(model, one_fewer), WEIGHTS, "lacks 1 of the model's"),
    Case("weights-a-tensor-too-many", lambda model: resave(model, one_more), WEIGHTS, "planted.weight"),
    # model.json
    Case("spec-empty", write(SPEC, b""), SPEC, "not JSON"),
    Case("spec-junk", write(SPEC, b"\x00\xff{{ not json"), SPEC, "not JSON"),
    Case("spec-a-list", write(SPEC, b"[1, 2, 3]"), SPEC, "not a JSON object"),
    Case("spec-a-folder", lambda model: (model / SPEC).unlink() or (model / SPEC).mkdir(), SPEC, "not a file"),
    Case("spec-a-string", write(SPEC, b'"model"'), SPEC, "not a JSON object"),
    Case("spec-nested-3000-deep", write(SPEC, b"[" * 3000 + b"]" * 3000), SPEC, "not JSON"),
    Case("spec-without-format", on_spec(without("format")), SPEC, "`format` is missing"),
    Case("spec-without-model", on_spec(without("model")), SPEC, "`model` is missing"),
    Case("spec-without-inputs", on_spec(without("inputs")), SPEC, "`inputs` is missing"),
    Case("spec-without-outputs", on_spec(without("outputs")), SPEC, "`outputs` is missing"),
    Case("spec-inputs-a-list", on_spec(lambda spec: {**spec, "inputs": ["age", "job"]}), SPEC,
         "`inputs` is a list, not a dict"),
    Case("spec-no-outputs", on_spec(lambda spec: {**spec, "outputs": {}}), SPEC, "names no output"),
    Case("spec-feature-without-fitted", on_spec(lambda spec: {**spec, "inputs": {
        **spec["inputs"], "age": {k: v for k, v in spec["inputs"]["age"].items() if k != "fitted"}}}),
        SPEC, "`inputs.age.fitted` is missing"),
    Case("spec-feature-a-number", on_spec(lambda spec: {**spec, "inputs": {**spec["inputs"], "age": 3}}), SPEC,
         "`inputs.age` is not a JSON object"),
    Case("spec-unknown-feature-type", on_spec(lambda spec: {**spec, "inputs": {
        **spec["inputs"], "age": {**spec["inputs"]["age"], "type": "bogus"}}}), SPEC, "inputs.age"),
    Case("spec-fitted-state-emptied", on_spec(lambda spec: {**spec, "inputs": {
        **spec["inputs"], "job": {**spec["inputs"]["job"], "fitted": {}}}}), SPEC, "deepscope can build"),
    Case("spec-unknown-encoder", on_spec(lambda spec: {**spec, "model": {"encoder": {"name": "bogus"}}}), SPEC,
         "deepscope can build"),
    Case("spec-newer-format", on_spec(lambda spec: {**spec, "format": 99}), SPEC, "newer deepscope"),
    Case("spec-a-billion-unit-layer", on_spec(lambda spec: {**spec, "model": {
        **spec["model"], "combiner": {"hidden": [10**9]}}}), WEIGHTS, "lacks 2 of the model's", bomb=True),
    Case("spec-link-out-of-the-folder", spec_link_outside, SPEC, "outside"),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    return table_run(tmp_path_factory.mktemp("table"))


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_damaged_model_folder_is_refused_naming_the_file(case, command, trained, tmp_path, deepscope_in_process):
    run = tmp_path / "runs" / trained.name
    shutil.copytree(trained, run)
    case.plant(run / "model")
    (tmp_path / "input.csv").write_text("age,job\n41,nurse\n")
    before = snapshot(tmp_path, skip=tmp_path / "runs")
    args = [command, str(run), str(tmp_path / "input.csv")] if command == "predict" else [command, str(run)]
    result = run_bounded(*args, cwd=tmp_path) if case.bomb else deepscope_in_process(*args)
    refused(result, f"model/{case.file}", case.says)
    untouched(before, snapshot(tmp_path, skip=tmp_path / "runs"))


def test_the_undamaged_run_predicts_and_evaluates(trained, deepscope_in_process, tmp_path):
    """The control: the folder every case damages works as it is."""
    (tmp_path / "input.csv").write_text("age,job\n41,nurse\n")
    assert deepscope_in_process("predict", str(trained), str(tmp_path / "input.csv"),
                                "-o", str(tmp_path / "p.csv")).returncode == 0
    assert deepscope_in_process("evaluate", str(trained)).returncode == 0
