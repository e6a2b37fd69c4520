"""`deepscope lr-find` as typed in a shell: the suggestion, the override to use it, the plot, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFIG = "data: {source: digits}\nmodel: {encoder: mlp}\ntrain: {batch_size: 64}\n"


@pytest.fixture
def digits_config(tmp_path: Path) -> Path:
    path = tmp_path / "digits.yaml"
    path.write_text(CONFIG)
    return path


def test_lr_find_prints_a_suggestion_and_writes_the_plot(deepscope, digits_config: Path, tmp_path: Path) -> None:
    result = deepscope("lr-find", digits_config.name, "run.root=out", "--start", "1e-4", "--end", "1",
                       "--steps", "30", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "suggested learning rate" in result.stdout
    saved = json.loads((tmp_path / "out" / "lr-find-digits.json").read_text())
    suggestion = f"{saved['suggestion']:.1e}"
    assert f"deepscope train digits.yaml run.root=out train.optimizer.lr={suggestion}" in result.stdout
    assert (tmp_path / "out" / "lr-find-digits.png").read_bytes()[:4] == b"\x89PNG"
    # a throwaway model: no run directory, only the plot and its numbers
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["lr-find-digits.json", "lr-find-digits.png"]


def test_start_above_end_exits_2_with_one_line(deepscope, digits_config: Path, tmp_path: Path) -> None:
    # the other option checks are the same function's, tested without a subprocess in tests/diagnose
    result = deepscope("lr-find", digits_config.name, "--start", "1", "--end", "0.1", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "must be below the end" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
