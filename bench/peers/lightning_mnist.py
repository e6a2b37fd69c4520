"""PyTorch Lightning on MNIST: the reference net and recipe of bench/mnist_time_to_accuracy.py (conv 24@5x5 ->
pool -> conv 32@3x3 -> pool -> dense 256; Adam lr 1e-2, betas (0.7, 0.9); one-cycle stepped every batch; batch
256; 1 epoch, or as many as bench/suite.py asks for), with the data served by a `DataLoader` over a
`TensorDataset`, as Lightning's docs do.

Lightning is given its fastest settings (no logger, checkpoint, progress bar or model summary); the time is that
of its training epochs (a Callback's epoch start to end), as for the other peers, and `fit` as a whole apart.

    pip install -e ".[bench]"; python bench/suite.py --only lightning
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F


def run(data, seed: int, epochs: int = 1) -> dict:
    """{points: [(training seconds, test accuracy) per epoch], seconds: whole fit()}."""
    try:
        import lightning as L
    except ImportError as error:
        raise SystemExit(f"Lightning is not installed ({error}); pip install -e \".[bench]\"") from None
    from mnist_time_to_accuracy import reference_net, test_accuracy

    x_train, y_train, x_test, y_test = data
    L.seed_everything(seed, verbose=False)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train), batch_size=256,
                                         shuffle=True)

    class Classifier(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = reference_net()

        def training_step(self, batch, batch_index):
            x, y = batch
            return F.cross_entropy(self.net(x), y)

        def configure_optimizers(self):
            optimizer = torch.optim.Adam(self.parameters(), lr=1e-2, betas=(0.7, 0.9))
            schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=epochs * len(loader))
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    class TestEachEpoch(L.Callback):
        """Times each training epoch, then measures test accuracy outside the clock."""

        def __init__(self):
            self.points, self.elapsed = [], 0.0

        def on_train_epoch_start(self, trainer, module):
            self.started = time.perf_counter()

        def on_train_epoch_end(self, trainer, module):
            self.elapsed += time.perf_counter() - self.started
            self.points.append((self.elapsed, test_accuracy(module.net, x_test, y_test)))

    timer = TestEachEpoch()
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[timer])
    started = time.perf_counter()
    trainer.fit(Classifier(), loader)
    return {"points": timer.points, "seconds": time.perf_counter() - started}

