"""Streaming (data/stream): the batches TensorData gives, decoded lazily in workers, chosen when data won't fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deepscope.config.schema import DataConfig
from deepscope.data.dataset import TensorData
from deepscope.data.features import FEATURES
from deepscope.data.prepare import load_splits, prepare_data
from deepscope.data.stream import StreamData, bounded
from deepscope.data.stream.dataset import BatchDecoder
from deepscope.data.stream.memory import parse_bytes
from deepscope.data.stream.sampler import batch_rows
from deepscope.diagnose.profile import profile_data
from deepscope.errors import ConfigError, DataError


def image_folder(root: Path, classes: int = 3, per_class: int = 30, size: tuple[int, int] = (12, 10)) -> Path:
    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"c{c}").mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.integers(0, 256, size) // (c + 1)).astype(np.uint8)
            Image.fromarray(pixels).save(root / f"c{c}" / f"{i:03d}.png")
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return image_folder(tmp_path / "images")


def both(folder: Path, **options) -> tuple:
    streamed = prepare_data(DataConfig(source=str(folder), stream=True, **options))
    in_memory = prepare_data(DataConfig(source=str(folder), stream=False, **options))
    return streamed, in_memory


ARGUMENTS = [
    dict(shuffle=False), dict(shuffle=True), dict(shuffle=True, skip=2), dict(shuffle=True, drop_last=True),
    dict(shuffle=True, shard=(0, 2)), dict(shuffle=True, skip=1, shard=(1, 3)), dict(shuffle=False, shard=(1, 2)),
]


@pytest.mark.parametrize("n, batch_size", [(10, 3), (11, 4), (64, 16), (13, 6), (7, 8)])
@pytest.mark.parametrize("arguments", ARGUMENTS)
def test_batch_rows_are_the_rows_tensor_data_takes(n, batch_size, arguments):
    reference = TensorData({"row": torch.arange(n)})
    expected = [b["row"] for b in reference.batches(batch_size, generator=torch.Generator().manual_seed(5),
                                                    **arguments)]
    got = batch_rows(n, batch_size, generator=torch.Generator().manual_seed(5), **arguments)
    assert [r.tolist() for r in got] == [e.tolist() for e in expected]
    if arguments["shuffle"]:  # training's count (in order, evaluation keeps every row, a rank's part may be empty)
        epoch = reference.num_batches(batch_size, arguments.get("drop_last", False), arguments.get("shard", (0, 1))[1])
        assert len(got) == max(epoch - arguments.get("skip", 0), 0)


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_batches_equal_the_in_memory_batches(folder, workers):
    streamed, in_memory = both(folder)
    assert isinstance(streamed.splits["train"], StreamData) and not isinstance(in_memory.splits["train"], StreamData)
    assert streamed.sizes() == in_memory.sizes()
    assert streamed.inputs["image"].fitted == in_memory.inputs["image"].fitted  # fitted on all 63: sample >= N
    assert streamed.outputs["label"].fitted == in_memory.outputs["label"].fitted
    for split in ("train", "val", "test"):
        stream = streamed.splits[split]
        stream.workers = workers
        for arguments in ARGUMENTS[:3] + ARGUMENTS[4:6]:
            got = list(stream.batches(4, generator=torch.Generator().manual_seed(1), **arguments))
            expected = list(in_memory.splits[split].batches(4, generator=torch.Generator().manual_seed(1), **arguments))
            assert len(got) == len(expected) > 0
            for a, b in zip(got, expected):
                assert list(a) == list(b)
                for name in a:
                    assert torch.equal(a[name], b[name]), (split, arguments, name)


def test_the_generator_advances_as_tensor_data_advances_it(folder):
    """A resumed run restores the generator's state: streamed and in-memory runs must draw alike, epoch by epoch."""
    streamed, in_memory = both(folder)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    for _ in range(2):
        a = [b["label"] for b in streamed.splits["train"].batches(16, shuffle=True, generator=g1)]
        b = [b["label"] for b in in_memory.splits["train"].batches(16, shuffle=True, generator=g2)]
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert torch.equal(g1.get_state(), g2.get_state())


def test_augmentation_applies_to_shuffled_batches_only(folder):
    streamed = prepare_data(DataConfig(source=str(folder), stream=True, augment={"shift": 2}))
    data = streamed.splits["train"]
    assert data.transform is not None
    in_memory = prepare_data(DataConfig(source=str(folder), stream=False, augment={"shift": 2})).splits["train"]
    assert torch.equal(next(data.batches(8))["image"], next(in_memory.batches(8))["image"])  # in order: no transform
    torch.manual_seed(0)
    shuffled = next(data.batches(len(data), shuffle=True, generator=torch.Generator().manual_seed(0)))
    rows = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    unshifted = next(data.batches(len(data)))["image"][rows]
    assert shuffled["image"].shape == unshifted.shape and not torch.equal(shuffled["image"], unshifted)


def test_nothing_is_read_until_batches_are_asked_for(tmp_path, monkeypatch):
    """Lazy: a split is built over files not yet written; with workers, the main process decodes nothing."""
    feature = FEATURES.get("image")("image", {}, where="data.inputs")
    feature.fit(np.zeros((2, 4, 4), np.uint8) + np.array([0, 255], np.uint8).reshape(2, 1, 1))
    paths = np.array([str(tmp_path / f"{i}.png") for i in range(12)], dtype=object)
    data = StreamData(BatchDecoder({"image": (feature, "image", paths)}, {"label": torch.arange(12)}), workers=2)
    for i, path in enumerate(paths):  # the files come after the split was made
        Image.fromarray(np.full((4, 4), i * 20, np.uint8)).save(path)
    import deepscope.data.stream.reading as reading

    reads = []
    original = reading.read_image
    monkeypatch.setattr(reading, "read_image", lambda ref: reads.append(ref) or original(ref))
    batches = list(data.batches(4, shuffle=True, generator=torch.Generator().manual_seed(0)))
    assert sorted(torch.cat([b["label"] for b in batches]).tolist()) == list(range(12))
    assert reads == []  # every file was read in a worker process
    data.workers = 0
    first = next(data.batches(4))
    assert len(reads) == 4 and torch.equal(first["label"], torch.arange(4))
    expected = (torch.arange(4).float() * 20 / 255 - feature.fitted["mean"][0]) / feature.fitted["std"][0]
    assert torch.allclose(first["image"][:, 0, 0, 0], expected)


def test_auto_streams_only_when_the_data_would_not_fit(folder, monkeypatch, caplog):
    monkeypatch.setenv("DEEPSCOPE_MEMORY_LIMIT", "1G")
    assert not isinstance(prepare_data(DataConfig(source=str(folder))).splits["train"], StreamData)
    monkeypatch.setenv("DEEPSCOPE_MEMORY_LIMIT", "20K")  # 90 images of 12x10 take ~60 KB raw and encoded
    with caplog.at_level("INFO", logger="deepscope"):
        data = prepare_data(DataConfig(source=str(folder)))
    assert isinstance(data.splits["train"], StreamData)
    assert "more than the budget of 20.0 KB" in caplog.text
    monkeypatch.setenv("DEEPSCOPE_MEMORY_LIMIT", "a lot")
    with pytest.raises(ConfigError, match="DEEPSCOPE_MEMORY_LIMIT: 'a lot' is not an amount of memory"):
        prepare_data(DataConfig(source=str(folder)))


def test_parse_bytes():
    assert parse_bytes("2G", "x") == 2 * 2**30 and parse_bytes("512m", "x") == 512 * 2**20
    assert parse_bytes("1000", "x") == 1000 and parse_bytes("1.5KiB", "x") == 1536


def test_stream_true_is_refused_where_data_is_read_in_memory(tmp_path):
    with pytest.raises(ConfigError, match="the builtin dataset 'digits' is read in memory"):
        prepare_data(DataConfig(source="digits", stream=True))
    arrays = tmp_path / "a.npz"
    np.savez(arrays, train_images=np.zeros((4, 2, 2), np.uint8), train_labels=np.arange(4))
    with pytest.raises(ConfigError, match="cannot be streamed; streaming reads folders"):
        prepare_data(DataConfig(source=str(arrays), stream=True))


def test_a_corrupt_image_is_an_error_naming_the_file(folder):
    bad = folder / "c1" / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataError, match=f"{bad}: not a readable image"):
        prepare_data(DataConfig(source=str(folder), stream=True))  # the fitting sample reads it
    bad.unlink()
    data = prepare_data(DataConfig(source=str(folder), stream=True))
    victim = Path(data.splits["train"].decoder.lazy["image"][2][5].decode())
    victim.write_bytes(victim.read_bytes()[:40])  # cut short after training began
    with pytest.raises(DataError, match=f"{victim}: not a readable image .*remove or replace the file"):
        list(data.splits["train"].batches(8))  # decoded in a worker, raised here with the user's message


def test_the_raw_sample_and_profile_are_bounded(folder, monkeypatch):
    monkeypatch.setattr("deepscope.data.stream.dataset.SAMPLE_ROWS", 10)
    monkeypatch.setattr("deepscope.data.stream.prepare.SAMPLE_ROWS", 10)
    data = prepare_data(DataConfig(source=str(folder), stream=True))
    assert {s: len(c["image"]) for s, c in data.raw.splits.items()} == {"train": 10, "val": 9, "test": 10}
    assert data.raw.splits["train"]["image"].shape == (10, 12, 10)
    sampled = bounded(data)
    assert all(type(s) is TensorData for s in sampled.splits.values())
    image = data.inputs["image"].encode(data.raw.splits["train"]["image"])
    assert torch.equal(sampled.splits["train"].tensors["image"], image)  # the sample is the raw rows, encoded
    profile = profile_data(data)
    assert profile["sizes"] == data.sizes() == {"train": 63, "val": 9, "test": 18}
    assert sum(profile["classes"]["label"]["counts"]["train"]) == 10
    raw, _, _ = load_splits(DataConfig(source=str(folder), stream=True))  # a finished run's reader: the same rows
    assert np.array_equal(raw.splits["test"]["image"], data.raw.splits["test"]["image"])


def test_subset_keeps_the_chosen_rows(folder):
    streamed, in_memory = both(folder)
    rows = torch.tensor([5, 0, 7, 3])
    a = next(streamed.splits["train"].subset(rows).batches(4))
    b = next(in_memory.splits["train"].subset(rows).batches(4))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_audio_and_text_folders_stream_to_the_in_memory_batches(tmp_path):
    from tests.data.test_audio import class_folders

    speech = class_folders(tmp_path / "speech", per_class=6)
    reviews = tmp_path / "reviews"
    for label, words in (("pos", "good fine great"), ("neg", "bad poor awful")):
        (reviews / label).mkdir(parents=True)
        for i in range(8):
            (reviews / label / f"{i}.txt").write_text(f"  {words.split()[i % 3]} film number {i} {words}\n")
    for folder, column in ((speech, "audio"), (reviews, "text")):
        streamed, in_memory = both(folder)
        assert isinstance(streamed.splits["train"], StreamData)
        assert streamed.inputs[column].fitted == in_memory.inputs[column].fitted
        for split in streamed.splits:
            a = list(streamed.splits[split].batches(3, shuffle=True, generator=torch.Generator().manual_seed(4)))
            b = list(in_memory.splits[split].batches(3, shuffle=True, generator=torch.Generator().manual_seed(4)))
            assert len(a) == len(b) and all(torch.equal(x[k], y[k]) for x, y in zip(a, b) for k in x)
        assert len(streamed.raw.splits["train"][column]) == streamed.sizes()["train"]  # all: fewer than the cap


def test_text_files_of_one_example_per_line_are_read_in_memory(tmp_path):
    (tmp_path / "lines").mkdir()
    (tmp_path / "lines" / "pos.txt").write_text("good\nfine\n")
    (tmp_path / "lines" / "neg.txt").write_text("bad\npoor\n")
    with pytest.raises(ConfigError, match="one example per line, which are read in memory"):
        prepare_data(DataConfig(source=str(tmp_path / "lines"), stream=True))
    assert prepare_data(DataConfig(source=str(tmp_path / "lines"), split={"val": 0, "test": 0})).sizes() == {"train": 4}


def test_workers_started_as_on_a_gpu_get_the_decoder_pickled(folder):
    """On CUDA the workers are spawned, not forked: the decoder (features, references) must survive pickling."""
    data = prepare_data(DataConfig(source=str(folder), stream=True)).splits["train"]
    assert data.to("cuda").start_method == "spawn" and data.start_method is None
    data.workers, data.start_method = 1, "spawn"  # the GPU's way of starting workers, on the CPU
    expected = list(prepare_data(DataConfig(source=str(folder), stream=False)).splits["train"].batches(16))
    got = list(data.batches(16))
    assert len(got) == len(expected) and all(torch.equal(a[k], b[k]) for a, b in zip(got, expected) for k in a)


def test_a_pass_overtaken_by_another_is_an_error_not_wrong_rows(folder):
    data = prepare_data(DataConfig(source=str(folder), stream=True)).splits["train"]
    data.workers = 1
    first = data.batches(8)
    next(first)
    assert len(list(data.batches(8))) == 8  # a new pass resets the workers
    with pytest.raises(RuntimeError, match="read by two passes at once"):
        next(first)
