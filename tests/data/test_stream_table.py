"""A streamed CSV/TSV table (data/stream/table.py): the in-memory batches, one pass, a bounded fitting sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deepscope.config.schema import DataConfig
from deepscope.data.prepare import prepare_data
from deepscope.data.stream import StreamData
from deepscope.errors import DataError


def write_table(path: Path, rows: int = 300, delimiter: str = ",") -> Path:
    rng = np.random.default_rng(0)
    lines = [delimiter.join(["age", "job", "score", "label"])]
    for i in range(rows):
        age = "NA" if i % 17 == 0 else str(int(rng.integers(18, 80)))
        fields = [age, f" {'abc'[i % 3]} ", f"{rng.normal():.3f}", "yes" if rng.random() > 0.5 else "no"]
        lines.append(delimiter.join(fields))
        if i % 50 == 0:
            lines.append("")  # blank lines are not rows
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("workers, suffix", [(0, ".csv"), (2, ".tsv")])
def test_a_streamed_table_gives_the_in_memory_batches(tmp_path, workers, suffix):
    table = write_table(tmp_path / f"t{suffix}", delimiter="\t" if suffix == ".tsv" else ",")
    config = dict(source=str(table), outputs={"label": "category"})
    streamed, in_memory = prepare_data(DataConfig(stream=True, **config)), prepare_data(DataConfig(**config))
    assert isinstance(streamed.splits["train"], StreamData) and streamed.sizes() == in_memory.sizes()
    assert {n: f.type for n, f in streamed.features.items()} == {n: f.type for n, f in in_memory.features.items()}
    assert all(streamed.features[n].fitted == in_memory.features[n].fitted for n in streamed.features)
    for split, data in streamed.splits.items():
        data.workers = workers
        a = list(data.batches(32, shuffle=True, generator=torch.Generator().manual_seed(1), shard=(1, 2)))
        b = list(in_memory.splits[split].batches(32, shuffle=True, generator=torch.Generator().manual_seed(1),
                                                 shard=(1, 2)))
        assert len(a) == len(b) > 0 and all(torch.equal(x[k], y[k]) for x, y in zip(a, b) for k in x)
    assert streamed.raw.splits["test"]["job"][0] in ("a", "b", "c")  # raw values, stripped, not row numbers


def test_inputs_are_fitted_on_a_bounded_sample_of_training_rows(tmp_path, monkeypatch):
    monkeypatch.setattr("deepscope.data.stream.table.FIT_ROWS", 40)
    table = write_table(tmp_path / "t.csv", rows=400)
    data = prepare_data(DataConfig(source=str(table), stream=True, outputs={"label": "category"}))
    assert data.outputs["label"].fitted["vocabulary"] == ["no", "yes"]  # outputs: every training row
    full = prepare_data(DataConfig(source=str(table), outputs={"label": "category"}))
    assert data.inputs["score"].fitted["mean"] != full.inputs["score"].fitted["mean"]  # from <= 40 rows, not 280
    assert data.sizes() == full.sizes()


def test_auto_streams_a_table_too_large_for_the_budget(tmp_path, monkeypatch):
    table = write_table(tmp_path / "t.csv")
    monkeypatch.setenv("DEEPSCOPE_MEMORY_LIMIT", "1G")
    assert not isinstance(prepare_data(DataConfig(source=str(table), outputs={"label": "category"})).splits["train"],
                          StreamData)
    monkeypatch.setenv("DEEPSCOPE_MEMORY_LIMIT", "10K")
    assert isinstance(prepare_data(DataConfig(source=str(table), outputs={"label": "category"})).splits["train"],
                      StreamData)


def test_a_row_that_is_not_one_line_is_refused_with_the_fix(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text('text,label\n"one line",a\n"two\nlines",b\n')
    with pytest.raises(DataError, match=r"t.csv, line 3: .*read a table whose quoted values run over lines with "
                                         "data.stream: false"):
        prepare_data(DataConfig(source=str(table), stream=True, outputs={"label": "category"}))
    with pytest.raises(DataError, match="data.outputs: say which column to predict"):
        prepare_data(DataConfig(source=str(table), stream=True))
