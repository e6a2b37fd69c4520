"""run.name becomes a folder under run.root, so a name holding a path is refused before anything is written."""

from __future__ import annotations

import subprocess
import sys

import pytest

from deepscope.config.loading import load_config
from deepscope.errors import ConfigError

BASE = {"data": {"source": "digits"}}


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "a/b", "a\\b", "..", ".", ".hidden", "  ", "c:x"])
def test_a_name_that_is_a_path_is_refused_naming_the_key(name: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config({**BASE, "run": {"name": name}})
    assert "run.name" in str(error.value) and "run.root" in str(error.value)


@pytest.mark.parametrize("name", ["mnist-baseline", "lr_0.003", "pm2.5 run"])
def test_plain_names_are_kept(name: str) -> None:
    assert load_config({**BASE, "run": {"name": name}}).run.name == name


def test_the_cli_refuses_it_with_exit_code_2_and_writes_nothing(tmp_path) -> None:
    work = tmp_path / "project"
    work.mkdir()
    result = subprocess.run([sys.executable, "-m", "deepscope.cli", "train", "digits", "run.name=../escape"],
                            cwd=work, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "run.name" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"] and not (work / "runs").exists()
