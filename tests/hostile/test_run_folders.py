"""Hostile input, surface "run-folder readers": one table of damaged and planted run folders, each driven through
`runs list`, `runs show`, `runs reindex` and `report` over a run root that holds it beside one good run.

Every case must end the same way: each command exits 0 (no traceback), the good run is listed `finished`, the
planted one with the status and the reason the table gives, no file outside the run root is touched, and a secret
that a planted link points at never reaches any output or any file written. For the cases that could exhaust
memory (a YAML alias bomb, a 2 GB metrics.jsonl), `runs list` (the command that reads every folder, and that the
bomb took down) runs in a fresh process under an address-space limit (`run_bounded`); the others run in-process
(a fresh interpreter costs seconds per command).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile.harness import run_bounded, snapshot, succeeded, untouched

SECRET = "TOP-SECRET-api-key-5f3c9b"
WEIGHTS, MODEL_JSON, METRICS = Path("model/weights.safetensors"), Path("model/model.json"), Path("metrics.jsonl")
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small real run (the bundled digits, one epoch): what training leaves in a run folder."""
    import deepscope as ds

    root = tmp_path_factory.mktemp("good")
    run = ds.train({"data": {"source": "digits"}, "model": {"encoder": "cnn"}, "train": {"epochs": 1}},
                   {"run.root": str(root), "run.name": "good"}, progress=False)
    (run.dir / "report.html").unlink(missing_ok=True)  # written at the end of training; each case writes its own
    return run.dir


# --- how each case damages a copy of the good run ----------------------------------------------------------------
def safetensors_with_header(header: object, body: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def append(name: Path, text: str) -> Callable[[Path, Path], None]:
    def plant(run: Path, secret: Path) -> None:
        with open(run / name, "a") as handle:
            handle.write(text)
    return plant


def write(name: Path, content: bytes | str) -> Callable[[Path, Path], None]:
    def plant(run: Path, secret: Path) -> None:
        data = content.encode() if isinstance(content, str) else content
        (run / name).write_bytes(data)
    return plant


def cut_weights(run: Path, secret: Path) -> None:
    data = (run / WEIGHTS).read_bytes()
    (run / WEIGHTS).write_bytes(data[: len(data) // 2])


def model_json_without_inputs(run: Path, secret: Path) -> None:
    spec = json.loads((run / MODEL_JSON).read_text())
    del spec["inputs"], spec["model"]
    (run / MODEL_JSON).write_text(json.dumps(spec))


def link_config_to_secret(run: Path, secret: Path) -> None:
    (run / "config.yaml").unlink()
    (run / "config.yaml").symlink_to(secret)


def without_final_evaluation(run: Path, secret: Path) -> None:
    lines = (run / METRICS).read_text().splitlines(keepends=True)
    (run / METRICS).write_text("".join(line for line in lines if '"split"' not in line))


def file_named_in_bytes(run: Path, secret: Path) -> None:
    with open(os.fsencode(run) + b"/notes-\xff\xfe.txt", "wb") as handle:  # not UTF-8: not text either
        handle.write(b"a file whose name is not text")


def huge_metrics(run: Path, secret: Path) -> None:
    with open(run / METRICS, "r+b") as handle:  # a sparse 2 GB file: nothing written but its length
        handle.truncate(2 * 2**30)


@dataclass
class Case:
    id: str
    plant: Callable[[Path, Path], None]  # (a copy of the good run, the secret file outside the run root)
    reason: str | None  # a text of the planted run's problems (None: no problem)
    status: str = "incomplete"
    bounded: bool = False  # a memory bomb: `runs list` in a fresh process under an address-space limit


CASES = [
    Case("metrics-3000-brackets", append(METRICS, "[" * 3000 + "\n"), "metrics.jsonl line 4 is not JSON"),
    Case("weights-header-a-list", write(WEIGHTS, safetensors_with_header([1, 2])),
         "model/weights.safetensors is damaged (its header is not a JSON object)"),
    Case("weights-offsets-strings", write(WEIGHTS, safetensors_with_header(
        {"w": {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]}}, b"\0" * 4)),
         "w: its data_offsets are not two whole numbers"),
    Case("weights-cut-short", cut_weights, "model/weights.safetensors is damaged"),
    Case("weights-empty", write(WEIGHTS, b""), "model/weights.safetensors is damaged (shorter than its 8-byte"),
    Case("model-json-empty", write(MODEL_JSON, ""), "model/model.json cannot be read (JSONDecodeError"),
    Case("model-json-junk", write(MODEL_JSON, b"\x00\xffjunk{{"), "model/model.json cannot be read (not UTF-8"),
    Case("model-json-a-list", write(MODEL_JSON, "[1, 2]"), "model/model.json does not hold a mapping"),
    Case("model-json-missing-keys", model_json_without_inputs,
         "model/model.json does not hold model and inputs: the model cannot be loaded from it"),
    Case("config-alias-bomb", write(Path("config.yaml"), ALIAS_BOMB), "config.yaml cannot be read", bounded=True),
    Case("config-binary-junk", write(Path("config.yaml"), bytes(range(256)) * 8),
         "config.yaml cannot be read (not UTF-8 text"),
    Case("config-linked-to-a-secret", link_config_to_secret, "config.yaml is a link out of the run folder"),
    Case("epoch-logged-twice", append(METRICS, json.dumps({"epoch": 1, "train.loss": 0.125}) + "\n"), None,
         status="finished"),
    Case("killed-before-the-final-evaluation", without_final_evaluation,
         "stopped before the final evaluation: the model was saved, but metrics.jsonl has no test or val result"),
    Case("epoch-number-past-any-integer", append(METRICS, json.dumps({"epoch": 10**30, "train.loss": 1.0}) + "\n"),
         "metrics.jsonl has epoch rows without an epoch number (not read)"),
    Case("a-400-digit-metric", append(METRICS, '{"split": "val", "accuracy": 1' + "0" * 400 + "}\n"), None,
         status="finished"),
    Case("lone-surrogates-in-metrics", append(METRICS, '{"epoch": 1, "train.loss": 1.0, "\\ud800": 2.0}\n'
                                                       '{"split": "\\udc00", "accuracy": 0.5}\n'), None,
         status="finished"),
    Case("a-file-named-in-bytes", file_named_in_bytes, None, status="finished"),
    Case("metrics-2-gb", huge_metrics, "metrics.jsonl is 2,048 MB, more than a run writes (64 MB)", bounded=True),
]


# --- the harness -------------------------------------------------------------------------------------------------
def planted_root(sandbox: Path, good_run: Path, case: Case) -> tuple[Path, Path]:
    """sandbox/runs holding the good run and the planted one (written an hour ago: not a run still training), and
    sandbox/secret.yaml, the file a planted link may point at."""
    secret = sandbox / "secret.yaml"
    secret.write_text(f"api_key: {SECRET}\n")
    root = sandbox / "runs"
    shutil.copytree(good_run, root / "good")
    planted = root / "planted"
    shutil.copytree(good_run, planted)
    case.plant(planted, secret)
    then = time.time() - 3600
    for path in [planted, *planted.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)
    return root, planted


def assert_no_secret(sandbox: Path, outputs: list[str]) -> None:
    for text in outputs:
        assert SECRET not in text
    for path in sandbox.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.name != "secret.yaml" and path.stat().st_size < 2**30:
            assert SECRET.encode() not in path.read_bytes(), f"the secret was copied into {path}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_planted_run_folder_is_listed_with_its_reason_and_breaks_nothing(case, good_run, tmp_path,
                                                                           deepscope_in_process, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    root, planted = planted_root(tmp_path, good_run, case)
    before = snapshot(tmp_path, skip=root)

    def deepscope(*args: str) -> subprocess.CompletedProcess:
        return deepscope_in_process(*args, cwd=tmp_path)

    if case.bounded:  # the command the bomb took down, under a memory limit
        listing = run_bounded("runs", "list", "--root", str(root), "--json", cwd=tmp_path)
    else:
        listing = deepscope("runs", "list", "--root", str(root), "--json")
    succeeded(listing)
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["good"]["status"] == "finished" and rows["good"]["problems"] == []
    assert rows["planted"]["status"] == case.status, rows["planted"]
    if case.reason is None:
        assert rows["planted"]["problems"] == []
    else:
        assert any(case.reason in problem for problem in rows["planted"]["problems"]), rows["planted"]["problems"]
    table = succeeded(deepscope("runs", "list", "--root", str(root)))
    shown = succeeded(deepscope("runs", "show", "planted", "--root", str(root)))
    assert case.status in shown and (case.reason is None or case.reason[:60] in " ".join(shown.split()))
    reindexed = succeeded(deepscope("runs", "reindex", "--root", str(root)))
    assert "reindexed 2 runs" in reindexed
    reported = succeeded(deepscope("report", str(planted)))
    html = (planted / "report.html").read_text()
    assert ("This run is incomplete" in html) == (case.status == "incomplete")
    if case.id == "epoch-logged-twice":  # the last line of an epoch wins, and it is counted once
        series = json.loads(deepscope("runs", "show", "planted", "--root", str(root), "--json").stdout)["series"]
        assert series["train.loss"] == [[1, 0.125]]
        assert "<th>epochs trained</th><td class=\"num\">1</td>" in html
    assert_no_secret(tmp_path, [listing.stdout, table, shown, reindexed, reported])
    untouched(before, snapshot(tmp_path, skip=root))
