"""The phase marks `bench/command_breakdown.py` reads: written at exit with DEEPSCOPE_PROFILE, nothing without."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CODE = "from deepscope.run.phases import mark\nmark('imports')\nmark('data')\n"


def _run(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", CODE], check=True, env={**os.environ, **env})


def test_marks_are_written_in_order_at_exit(tmp_path):
    path = tmp_path / "phases.json"
    _run({"DEEPSCOPE_PROFILE": str(path)})
    written = json.loads(path.read_text())
    assert [phase for phase, _ in written["marks"]] == ["imports", "data"]
    (_, first), (_, second) = written["marks"]
    assert 0 <= second - first < 60 and written["pid"] > 0


def test_nothing_is_written_without_the_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DEEPSCOPE_PROFILE"}
    subprocess.run([sys.executable, "-c", CODE], check=True, env=env, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []
