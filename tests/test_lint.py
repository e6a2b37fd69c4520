"""`ruff check` is clean on src/, tests/ and bench/ with the rules in pyproject.toml ([tool.ruff])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_is_clean():
    pytest.importorskip("ruff", reason="ruff is not installed (pip install -e '.[test]')")
    command = [sys.executable, "-m", "ruff", "check", str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "bench")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"
