"""The TensorBoard callback writes event files that TensorBoard's own reader reads back."""

import pytest

import deepscope as ds

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read_events(folder):
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    return accumulator


def test_a_config_run_writes_loss_lr_and_epoch_metrics(tmp_path):
    run = ds.train({"data": {"source": "digits"}, "model": {"encoder": {"name": "mlp", "hidden": [32]}},
                    "train": {"epochs": 2, "batch_size": 64, "log_every": 5}, "diagnose": False,
                    "run": {"root": str(tmp_path), "tensorboard": True}}, progress=False)
    events = read_events(run.dir / "tensorboard")
    tags = events.Tags()["scalars"]
    assert {"train.loss", "lr", "epoch/train.loss", "epoch/val.loss", "epoch/val.accuracy"} <= set(tags)
    epoch_accuracy = [e.value for e in events.Scalars("epoch/val.accuracy")]
    assert epoch_accuracy == pytest.approx([row["val.accuracy"] for row in run.history])
    steps = [e.step for e in events.Scalars("train.loss")]
    assert steps == sorted(steps) and steps[0] == 5 and len(steps) >= 4


def test_histograms_of_weights_each_epoch(tmp_path):
    import torch

    x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    trainer = ds.Trainer(epochs=3, batch_size=16, loss="cross_entropy",
                         callbacks=[ds.callbacks.TensorBoard(tmp_path / "tb", histograms=True)])
    trainer.fit(module, (x, y))
    histograms = read_events(tmp_path / "tb").Histograms("weights/0.weight")
    assert [h.step for h in histograms] == [4, 8, 12]
