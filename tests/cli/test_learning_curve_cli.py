"""`deepscope learning-curve CONFIG`: a table, a judgement, a plot and its numbers; bad fractions exit 2."""

from __future__ import annotations

import json


def test_learning_curve_writes_the_plot_and_numbers(tmp_path, deepscope_in_process):
    config = tmp_path / "digits.yaml"
    config.write_text("data: {source: digits}\nmodel: {encoder: mlp}\ntrain: {epochs: 3, batch_size: 64}\n")
    result = deepscope_in_process("learning-curve", str(config), f"run.root={tmp_path / 'runs'}",
                                  "--fractions", "0.25,0.5,1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "learning curve (accuracy on val)" in result.stdout and "10x (projected)" in result.stdout
    plot = tmp_path / "runs" / "learning-curve-digits.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    numbers = json.loads(plot.with_suffix(".json").read_text())
    assert numbers["fractions"] == [0.25, 0.5, 1.0] and len(numbers["scores"]) == 3
    assert numbers["epochs"] == [3, 3, 3]  # as configured, unless --match-steps


def test_bad_fractions_exit_2(tmp_path, deepscope_in_process):
    for fractions in ("0.5,0.25,1", "a,b,c"):
        result = deepscope_in_process("learning-curve", "any.yaml", "--fractions", fractions, cwd=tmp_path)
        assert result.returncode == 2 and "--fractions" in result.stderr and "Traceback" not in result.stderr
