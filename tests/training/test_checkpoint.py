"""Every optimizer's state survives the safetensors + JSON checkpoint and continues on the same trajectory."""

import errno
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from deepscope.training.checkpoint import load_optimizer_state, optimizer_state
from deepscope.training.optim import OPTIMIZERS, build_optimizer


def steps(model: nn.Module, optimizer: torch.optim.Optimizer, n: int) -> None:
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(2))
    for _ in range(n):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_optimizer_state_round_trip(name):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    reference = build_optimizer(model, name, lr=0.01, weight_decay=0.01)
    steps(model, reference, 3)
    tensors, plain = optimizer_state(reference)
    plain = json.loads(json.dumps(plain))  # what the checkpoint header stores
    copy = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    copy.load_state_dict(model.state_dict())
    restored = build_optimizer(copy, name, lr=0.01, weight_decay=0.01)
    load_optimizer_state(restored, {k: v.clone() for k, v in tensors.items()}, plain)
    steps(model, reference, 2)
    steps(copy, restored, 2)
    for a, b in zip(model.parameters(), copy.parameters()):
        assert torch.equal(a, b)


# --- a full disk while checkpointing ----------------------------------------------------------------------------
def no_space_from_safetensors(tensors, path, metadata=None):
    """How safetensors reports a full disk: its own error type, the OS error in the text, part of the file written."""
    from safetensors import SafetensorError

    Path(path).write_bytes(b"\0" * 64)
    raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")


def no_space_from_the_os(tensors, path, metadata=None):
    Path(path).write_bytes(b"\0" * 64)
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


@pytest.mark.parametrize("full", [no_space_from_safetensors, no_space_from_the_os], ids=["safetensors", "os"])
def test_a_full_disk_while_checkpointing_keeps_the_last_good_checkpoint_and_says_so(full, tmp_path, monkeypatch):
    from deepscope.io import load_tensors
    from deepscope.training.callbacks import Callback, ModelCheckpoint
    from deepscope.training.checkpoint import DiskFullError
    from deepscope.training.trainer import Trainer

    class DiskFillsAfterEpoch1(Callback):
        def on_epoch_end(self, trainer, logs):
            if logs["epoch"] == 1:
                good.update({name: (folder / f"{name}.safetensors").read_bytes() for name in ("last", "best")})
                monkeypatch.setattr("deepscope.io.save_file", full)

    folder, good = tmp_path / "checkpoints", {}
    x, y = torch.randn(64, 4, generator=torch.Generator().manual_seed(0)), torch.randint(0, 2, (64,))
    trainer = Trainer(epochs=3, batch_size=16, loss="cross_entropy", device="cpu",
                      callbacks=[ModelCheckpoint(folder), DiskFillsAfterEpoch1()])
    with pytest.raises(DiskFullError) as raised:
        trainer.fit(nn.Linear(4, 2), (x, y))
    message = str(raised.value)
    assert message.startswith(f"no space left on device while writing {folder}")
    assert "the last good checkpoint is kept" in message and "--resume" in message
    assert (folder / "last.safetensors").read_bytes() == good["last"]  # whole, and the one of epoch 1
    assert (folder / "best.safetensors").read_bytes() == good["best"]
    assert load_tensors(folder / "last.safetensors")[1]["epoch"] == 1
    assert sorted(p.name for p in folder.iterdir()) == ["best.safetensors", "last.safetensors"]  # no .tmp left


def test_an_error_that_is_not_a_full_disk_keeps_its_type(tmp_path, monkeypatch):
    from safetensors import SafetensorError

    from deepscope.training.checkpoint import writing_checkpoint

    with pytest.raises(SafetensorError, match="invalid"):  # a bug keeps its traceback
        with writing_checkpoint(tmp_path / "last.safetensors"):
            raise SafetensorError("invalid tensor")
    with pytest.raises(PermissionError):
        with writing_checkpoint(tmp_path / "last.safetensors"):
            raise PermissionError(errno.EACCES, "Permission denied")
