"""Tar shards (data/stream/shards.py) and `deepscope shard`: a round trip, the same batches, clear refusals."""

from __future__ import annotations

import json
import tarfile

import numpy as np
import pytest
import torch

from deepscope.config.schema import DataConfig
from deepscope.data.prepare import prepare_data
from deepscope.data.stream import StreamData
from deepscope.data.stream.sharding import shard_source
from deepscope.errors import ConfigError, DataError, UserError
from tests.cli.conftest import run_deepscope
from tests.data.test_stream import image_folder


def test_shards_round_trip_to_the_same_batches(tmp_path):
    folder = image_folder(tmp_path / "images", per_class=20)
    index = shard_source(folder, tmp_path / "shards", per_shard=25)
    assert index["splits"]["train"] == {"shards": ["train-000000.tar", "train-000001.tar", "train-000002.tar"],
                                        "examples": 60}
    with tarfile.open(tmp_path / "shards" / "train-000000.tar") as tar:  # WebDataset's layout: KEY.png, KEY.label
        names = tar.getnames()
        assert names[:2] == ["00000000.png", "00000000.label"] and len(names) == 50
        assert tar.extractfile("00000000.label").read() == b"c0"
        assert tar.extractfile("00000000.png").read() == (folder / "c0" / "000.png").read_bytes()  # as it was
    sharded = prepare_data(DataConfig(source=str(tmp_path / "shards")))  # auto: shards always stream
    plain = prepare_data(DataConfig(source=str(folder), stream=False))
    assert isinstance(sharded.splits["train"], StreamData) and sharded.sizes() == plain.sizes()
    assert sharded.inputs["image"].fitted == plain.inputs["image"].fitted
    for split in sharded.splits:
        for a, b in zip(sharded.splits[split].batches(8, shuffle=True, generator=torch.Generator().manual_seed(2)),
                        plain.splits[split].batches(8, shuffle=True, generator=torch.Generator().manual_seed(2))):
            assert all(torch.equal(a[k], b[k]) for k in a)


def test_given_splits_become_split_shards_and_stay_splits(tmp_path):
    image_folder(tmp_path / "images" / "train", per_class=8)
    image_folder(tmp_path / "images" / "test", per_class=3)
    index = shard_source(tmp_path / "images", tmp_path / "shards")
    assert {s: e["examples"] for s, e in index["splits"].items()} == {"train": 24, "test": 9}
    assert json.loads((tmp_path / "shards" / "shards.json").read_text())["kind"] == "image"
    data = prepare_data(DataConfig(source=str(tmp_path / "shards")))
    assert data.sizes()["test"] == 9 and data.sizes()["train"] + data.sizes()["val"] == 24


def test_shards_without_an_index_are_read_by_their_names(tmp_path):
    shard_source(image_folder(tmp_path / "images", per_class=5), tmp_path / "shards")
    (tmp_path / "shards" / "shards.json").unlink()  # e.g. tars written by another tool
    data = prepare_data(DataConfig(source=str(tmp_path / "shards"), split={"val": 0, "test": 0}))
    assert data.sizes() == {"train": 15}


def test_damaged_shards_are_clear_errors(tmp_path):
    shard_source(image_folder(tmp_path / "images", per_class=4), tmp_path / "shards")
    tar = tmp_path / "shards" / "train-000000.tar"
    with pytest.raises(ConfigError, match="folder of shards, which is streamed"):
        prepare_data(DataConfig(source=str(tmp_path / "shards"), stream=False))
    data = prepare_data(DataConfig(source=str(tmp_path / "shards"), split={"val": 0, "test": 0}))
    tar.write_bytes(tar.read_bytes()[:1500])  # cut short after listing
    with pytest.raises(DataError, match="train-000000.tar"):
        list(data.splits["train"].batches(4))
    with pytest.raises(DataError, match="train-000000.tar: 1 example.* without a .label member"):
        prepare_data(DataConfig(source=str(tmp_path / "shards")))  # the cut fell in the second member's header
    tar.write_bytes(tar.read_bytes()[:600])
    with pytest.raises(DataError, match="train-000000.tar: not a readable tar shard .cut short in 00000000.png"):
        prepare_data(DataConfig(source=str(tmp_path / "shards")))


def test_an_example_without_a_label_is_named(tmp_path):
    out = tmp_path / "shards"
    out.mkdir()
    with tarfile.open(out / "train-000000.tar", "w") as tar:
        tar.add(image_folder(tmp_path / "images", classes=1, per_class=1) / "c0" / "000.png", arcname="a/x.png")
    with pytest.raises(DataError, match=r"1 example\(s\) without a \.label member, e\.g\. a/x"):
        prepare_data(DataConfig(source=str(out)))


@pytest.mark.parametrize("case, message", [
    ("missing", "no such folder"), ("table", "not a folder of class sub-folders"),
    ("not_empty", "exists and is not an empty folder"), ("inside", "inside"), ("shards", "already a folder of shards"),
])
def test_shard_refuses_bad_input(tmp_path, case, message):
    folder = image_folder(tmp_path / "images", classes=2, per_class=2)
    source, out = folder, tmp_path / "out"
    if case == "missing":
        source = tmp_path / "nowhere"
    elif case == "table":
        source = tmp_path / "flat"
        source.mkdir()
        (source / "a.csv").write_text("x\n1\n")
        source = source / "a.csv"
        message = "is a file, not a folder"
    elif case == "not_empty":
        out.mkdir()
        (out / "x").write_text("x")
    elif case == "inside":
        out = folder / "shards"
    elif case == "shards":
        shard_source(folder, tmp_path / "made")
        source = tmp_path / "made"
    with pytest.raises(UserError, match=message):
        shard_source(source, out)


def test_shard_size_must_be_positive(tmp_path):
    with pytest.raises(UserError, match="--per-shard 0: a shard holds at least 1 example"):
        shard_source(image_folder(tmp_path / "images", classes=1, per_class=1), tmp_path / "out", per_shard=0)


def test_shard_cli(tmp_path):
    image_folder(tmp_path / "images", classes=2, per_class=3)
    done = run_deepscope("shard", "images", "shards", "--per-shard", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "train: 6 image examples in 2 shard(s)" in done.stdout
    again = run_deepscope("shard", "images", "shards", cwd=tmp_path)
    assert again.returncode == 2 and "exists and is not an empty folder" in again.stderr
    assert "Traceback" not in again.stderr
    assert np.array_equal(sorted(p.name for p in (tmp_path / "shards").iterdir()),
                          ["shards.json", "train-000000.tar", "train-000001.tar"])
