"""deepscope.io: atomic writes honour the umask, links out of a folder are seen, damaged tensors are refused."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

from deepscope.errors import DamagedFileError
from deepscope.io import load_tensors, resolves_inside, save_tensors, write_json, write_text


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_take_the_umask_like_any_other_program(tmp_path: Path, umask: int, mode: int) -> None:
    """mkstemp makes 0600 whatever the umask: a runs folder shared with colleagues would be unreadable to them."""
    previous = os.umask(umask)
    try:
        written = [write_text(tmp_path / "a.txt", "x"), write_json(tmp_path / "b.json", {}),
                   save_tensors(tmp_path / "c.safetensors", {"w": torch.ones(2)})]
    finally:
        os.umask(previous)
    assert {oct(path.stat().st_mode & 0o777) for path in written} == {oct(mode)}


def test_a_link_leading_out_of_the_folder_is_not_inside(tmp_path: Path) -> None:
    run, outside = tmp_path / "run", tmp_path / "secret.txt"
    (run / "model").mkdir(parents=True)
    outside.write_text("token")
    (run / "config.yaml").write_text("data: {}")
    (run / "leak.yaml").symlink_to(outside)
    (run / "alias.yaml").symlink_to(run / "config.yaml")
    (run / "loop").symlink_to(run / "loop")
    assert resolves_inside(run / "config.yaml", run)
    assert resolves_inside(run / "alias.yaml", run)  # a link that stays inside is the run's own file
    assert not resolves_inside(run / "leak.yaml", run)
    assert not resolves_inside(run / "model" / ".." / ".." / "secret.txt", run)
    assert not resolves_inside(run / "loop", run)
    assert not resolves_inside(run / "missing", run)


def test_a_pickle_named_safetensors_is_refused_before_anything_is_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "weights.safetensors"
    path.write_bytes(pickle.dumps({"w": torch.ones(2)}))
    with pytest.raises(DamagedFileError, match="weights.safetensors is damaged"):
        load_tensors(path)


def test_a_missing_tensor_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DamagedFileError, match="missing"):
        load_tensors(tmp_path / "last.safetensors")
