"""`cnn` on a signal (kind "sequence", floats (B, T[, C])): the MNIST net's stages carried over to 1-D, and the
`signal` feature and `mnist1d` builtin that feed it (examples/mnist1d.yaml)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepscope.data.features import FEATURES
from deepscope.errors import ConfigError, DataError
from deepscope.models.encoders import ENCODERS

SIGNAL = {"name": "signal", "type": "signal", "kind": "sequence", "channels": 1, "length": 40}
TEXT = {"name": "review", "type": "text", "kind": "sequence", "vocab_size": 30, "max_length": 12}


def test_cnn_convolves_a_signal_in_1d_with_the_mnist_stages():
    encoder = ENCODERS.get("cnn")([SIGNAL], batchnorm=True)
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [(c.out_channels, c.kernel_size[0]) for c in convs] == [(24, 5), (32, 3), (64, 3)]  # 40 steps: 3 stages
    x = torch.randn(6, 40)
    out = encoder({"signal": x})
    assert out.shape == (6, encoder.output_size) == (6, 256)
    out.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in encoder.parameters())
    encoder.eval()
    assert torch.allclose(encoder({"signal": x}), encoder({"signal": x.unsqueeze(-1)}), atol=1e-6)  # (B, T, 1) too


def test_cnn_reads_a_series_window_with_channels():
    encoder = ENCODERS.get("cnn")([{"name": "s", "type": "timeseries", "kind": "sequence", "channels": 3,
                                    "length": 10}], dense=0)
    assert encoder({"s": torch.randn(4, 10, 3)}).shape == (4, encoder.output_size)


def test_cnn_refuses_token_ids_and_names_the_text_encoder():
    with pytest.raises(ConfigError, match="cnn1d"):
        ENCODERS.get("cnn")([TEXT])


def test_the_signal_feature_standardises_and_checks_the_length():
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, size=(200, 40))
    feature = FEATURES.get("signal")("signal", {}, where="data.inputs").fit(train)
    encoded = feature.encode(train)
    assert encoded.shape == (200, 40, 1) and encoded.dtype == torch.float32
    assert abs(encoded.mean().item()) < 1e-5 and abs(encoded.std().item() - 1) < 1e-2
    assert feature.describe()["length"] == 40 and feature.describe()["channels"] == 1
    with pytest.raises(DataError, match="length 39"):
        feature.encode(train[:, :39])
    with pytest.raises(DataError, match="NaN"):
        feature.encode(np.full((1, 40), np.nan))


@pytest.mark.slow  # ~5 s on a quiet machine, mostly the run's diagnostics and evaluation
def test_the_mnist1d_example_trains_end_to_end(data_dir, tmp_path):
    import deepscope as ds

    run = ds.train("examples/mnist1d.yaml", {"train.epochs": 1, "data.limit": 500, "run.root": str(tmp_path),
                                             "run.report": False}, progress=False)
    assert run.data.splits["test"].tensors["signal"].shape == (1000, 40, 1)  # the paper's test split, whole
    assert 0.1 < run.metrics["test"]["accuracy"] <= 1.0


def test_the_mnist1d_builtin_reads_its_npz_and_names_a_wrong_one(tmp_path, monkeypatch):
    from deepscope.data.sources import load_source

    folder = tmp_path / "mnist1d"
    folder.mkdir()
    monkeypatch.setenv("DEEPSCOPE_DATA", str(tmp_path))
    rng = np.random.default_rng(0)
    np.savez(folder / "mnist1d_data.npz", x=rng.normal(size=(8, 40)), y=np.arange(8) % 10,
             x_test=rng.normal(size=(3, 40)), y_test=np.arange(3), t=np.arange(40))
    raw = load_source("mnist1d")
    assert raw.splits["train"]["signal"].shape == (8, 40) and raw.splits["test"]["label"].tolist() == [0, 1, 2]
    assert raw.inputs == {"signal": "signal"} and raw.outputs == {"label": "category"}
    np.savez(folder / "mnist1d_data.npz", images=np.zeros((2, 40)))
    with pytest.raises(DataError, match="not the MNIST-1D npz"):
        load_source("mnist1d")
