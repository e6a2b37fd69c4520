"""The trainer against a hand-written PyTorch loop, plus its callbacks, checkpoints and failure modes."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from deepscope.callbacks import Callback, EarlyStopping
from deepscope.training.trainer import Trainer, TrainingDiverged


def make_data(n: int = 256, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return x, y


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 3))


def hand_written_loop(model: nn.Module, x, y, *, epochs: int, batch_size: int, lr: float, seed: int) -> nn.Module:
    """What a PyTorch user writes by hand; the trainer must follow exactly the same trajectory."""
    torch.manual_seed(seed)
    shuffle = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=shuffle)
        for start in range(0, len(x), batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[index]), y[index]).backward()
            optimizer.step()
    return model


def test_fit_follows_the_hand_written_loop_exactly():
    x, y = make_data()
    reference = hand_written_loop(make_model(), x, y, epochs=3, batch_size=32, lr=0.05, seed=7)
    model = make_model()
    trainer = Trainer(epochs=3, batch_size=32, optimizer={"name": "sgd", "momentum": 0.9}, lr=0.05,
                      schedule=None, loss="cross_entropy", seed=7, device="cpu")
    history = trainer.fit(model, (x, y))
    assert len(history) == 3
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)


def test_training_reduces_loss_and_evaluate_reports_metrics():
    x, y = make_data(512)
    model = make_model()
    trainer = Trainer(epochs=25, batch_size=64, lr=2e-2, loss="cross_entropy", device="cpu")
    history = trainer.fit(model, (x[:400], y[:400]), (x[400:], y[400:]))
    assert history[-1]["train.loss"] < history[0]["train.loss"]
    results = trainer.evaluate(model, (x[400:], y[400:]))
    assert results["accuracy"] > 0.8
    assert {"loss", "precision_macro", "recall_macro", "f1_macro", "confusion_matrix"} <= set(results)
    assert "val.accuracy" in history[-1]


def test_early_stopping_stops_and_callbacks_see_every_epoch():
    class Count(Callback):
        epochs = 0

        def on_epoch_end(self, trainer, logs):
            Count.epochs += 1

    x, y = make_data()
    # lr 0 cannot improve the validation loss, so patience 2 stops after epoch 3
    trainer = Trainer(epochs=20, lr=1e-12, schedule=None, loss="cross_entropy", device="cpu",
                      callbacks=[EarlyStopping(patience=2), Count()])
    history = trainer.fit(make_model(), (x[:200], y[:200]), (x[200:], y[200:]))
    assert len(history) == 3 and Count.epochs == 3


def test_divergence_stops_with_a_plain_message():
    x, y = make_data()
    x[5, 3] = float("nan")
    trainer = Trainer(epochs=2, batch_size=256, loss="cross_entropy", device="cpu", log_every=1)
    with pytest.raises(TrainingDiverged, match="loss became nan .* check the inputs for NaN"):
        trainer.fit(make_model(), (x, y))


def test_resume_from_a_mid_epoch_checkpoint_matches_an_uninterrupted_run(tmp_path):
    x, y = make_data()

    def trainer() -> Trainer:
        return Trainer(epochs=3, batch_size=32, lr=1e-2, loss="cross_entropy", seed=3, device="cpu")

    full = make_model()
    trainer().fit(full, (x, y))

    class StopAt(Callback):  # simulates a kill right after the checkpoint at step 13 (mid-epoch 2)
        def on_batch_end(self, t):
            if t.global_step == 13:
                t.save_checkpoint(tmp_path / "last.safetensors")
                raise KeyboardInterrupt

    interrupted = trainer()
    interrupted.callbacks.callbacks.append(StopAt())
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(make_model(), (x, y))
    resumed_model = make_model(seed=99)  # different initial weights: everything must come from the checkpoint
    resumed = trainer()
    history = resumed.fit(resumed_model, (x, y), resume_from=tmp_path / "last.safetensors")
    assert len(history) == 3
    for (name, a), b in zip(full.state_dict().items(), resumed_model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_plain_module_without_loss_is_a_clear_error():
    from deepscope.errors import ConfigError

    with pytest.raises(ConfigError, match="pass loss='cross_entropy'"):
        Trainer(device="cpu").fit(make_model(), make_data())


def test_grad_clip_and_bf16_autocast_train():
    x, y = make_data()
    model = make_model()
    before = copy.deepcopy(model.state_dict())
    Trainer(epochs=1, grad_clip=0.5, precision="bf16", loss="cross_entropy", device="cpu").fit(model, (x, y))
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_weight_average_is_validated_kept_and_resumed(tmp_path):
    from deepscope.callbacks import ExponentialMovingAverage

    x, y = make_data()

    def trainer(*extra: Callback) -> Trainer:
        return Trainer(epochs=3, batch_size=32, lr=1e-2, loss="cross_entropy", seed=3, device="cpu",
                       callbacks=[ExponentialMovingAverage(0.9), *extra])

    full_trainer = trainer()
    full = make_model()
    history = full_trainer.fit(full, (x[:200], y[:200]), (x[200:], y[200:]))
    averaged = full_trainer.eval_model
    assert averaged is not full and torch.equal(full[0].weight, averaged[0].weight)  # the final model is the average
    assert history[-1]["val.loss"] == pytest.approx(full_trainer.evaluate(averaged, (x[200:], y[200:]))["loss"])

    class StopAt(Callback):
        def on_batch_end(self, t):
            if t.global_step == 9:
                t.save_checkpoint(tmp_path / "last.safetensors")
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer(StopAt()).fit(make_model(), (x[:200], y[:200]), (x[200:], y[200:]))
    resumed = make_model(seed=99)
    trainer().fit(resumed, (x[:200], y[:200]), (x[200:], y[200:]), resume_from=tmp_path / "last.safetensors")
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


class TinyRecurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn, self.out = nn.GRU(3, 8, batch_first=True), nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.rnn(x)[0][:, -1])  # (B, T, 3) -> (B, 2)


def test_recurrent_models_are_clipped_by_default_and_others_are_not():
    from deepscope.training.trainer import RECURRENT_GRAD_CLIP

    data = (torch.randn(32, 5, 3), torch.randint(0, 2, (32,)))
    recurrent = Trainer(epochs=1, loss="cross_entropy", device="cpu")
    recurrent.fit(TinyRecurrent(), data)
    assert recurrent.grad_clip == RECURRENT_GRAD_CLIP
    off = Trainer(epochs=1, grad_clip=0, loss="cross_entropy", device="cpu")
    off.fit(TinyRecurrent(), data)
    assert off.grad_clip is None
    dense = Trainer(epochs=1, loss="cross_entropy", device="cpu")
    dense.fit(nn.Sequential(nn.Flatten(), nn.Linear(15, 2)), data)
    assert dense.grad_clip is None


def test_predict_calls_a_deepscope_model_with_the_whole_batch_even_with_an_input_column_named_input():
    """The trainer used to guess the batch layout from a key named "input" and passed that tensor alone."""
    from deepscope.models.builder import build_model

    inputs = {"input": {"name": "input", "type": "number", "kind": "tabular"},
              "other": {"name": "other", "type": "number", "kind": "tabular"}}
    model = build_model({}, inputs, {"label": {"name": "label", "type": "category", "kind": "tabular",
                                               "cardinality": 3}})
    x, y = make_data(64)
    data = {"input": x[:, 0], "other": x[:, 1], "label": y}
    trainer = Trainer(epochs=1, device="cpu")
    trainer.fit(model, data)
    (logits,) = trainer.predict(model, data)
    assert logits["label"].shape == (64, 3)
    assert torch.equal(logits["label"], model.eval()({"input": x[:, 0], "other": x[:, 1]})["label"])
    plain = Trainer(device="cpu").predict(make_model(), (x, y))  # a plain module still gets batch["input"]
    assert plain[0].shape == (64, 3)


def test_the_trainer_defaults_are_the_configs_and_from_config_reads_a_train_section():
    import inspect

    from deepscope.config.schema import TrainConfig

    defaults, signature = TrainConfig(), inspect.signature(Trainer).parameters
    for name in ("epochs", "batch_size", "eval_batch_size", "grad_clip", "monitor", "device", "precision", "seed",
                 "deterministic", "log_every"):
        assert signature[name].default == getattr(defaults, name), name
    assert signature["lr"].default == defaults.optimizer.lr
    assert signature["optimizer"].default == defaults.optimizer.name
    assert signature["schedule"].default == defaults.schedule.name
    trainer = Trainer.from_config({"epochs": 3, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
                                   "schedule": "cosine", "grad_clip": 0}, device="cpu")
    assert (trainer.epochs, trainer.optimizer_spec["name"], trainer.optimizer_spec["lr"]) == (3, "sgd", 0.1)
    assert trainer.optimizer_spec["momentum"] == 0.9 and trainer.schedule_spec["name"] == "cosine"
    assert trainer.grad_clip_spec == 0


def test_from_config_names_a_wrong_key_with_its_place():
    from deepscope.errors import ConfigError

    with pytest.raises(ConfigError, match=r"train\.epocs: unknown key 'epocs'; allowed keys here: .*epochs"):
        Trainer.from_config({"epocs": 3})


def test_a_strategy_can_be_given():
    from deepscope.training.distributed import SingleDevice

    class Recording(SingleDevice):
        def setup(self, model: nn.Module) -> nn.Module:
            self.seen = model
            return super().setup(model)

    strategy = Recording(torch.device("cpu"))
    model = make_model()
    trainer = Trainer(epochs=1, loss="cross_entropy", strategy=strategy)
    trainer.fit(model, make_data())
    assert trainer.strategy is strategy and strategy.seen is model


def test_restore_best_puts_the_best_epoch_back_into_the_model(tmp_path):
    """The checkpoint callback's option, which `train.restore_best` sets: the model after fit is the best epoch."""
    from deepscope.callbacks import ModelCheckpoint
    from deepscope.io import load_tensors

    x, y = make_data(512)
    noisy = y[:256].clone()
    noisy[::2] = (noisy[::2] + 1) % 3  # half the validation labels wrong: its loss soon stops improving
    kept = Trainer(epochs=6, lr=0.05, loss="cross_entropy", device="cpu",
                   callbacks=[ModelCheckpoint(tmp_path / "kept", restore_best=True)])
    model = make_model()
    kept.fit(model, (x[256:], y[256:]), (x[:256], noisy))
    losses = [row["val.loss"] for row in kept.history]
    assert losses.index(min(losses)) < len(losses) - 1, "the recipe must make the last epoch not the best"
    best, meta = load_tensors(tmp_path / "kept" / "best.safetensors")
    assert meta["epoch"] == losses.index(min(losses)) + 1
    assert all(torch.equal(best[k], v) for k, v in model.state_dict().items())
    last = Trainer(epochs=6, lr=0.05, loss="cross_entropy", device="cpu",
                   callbacks=[ModelCheckpoint(tmp_path / "last")])
    other = make_model()
    last.fit(other, (x[256:], y[256:]), (x[:256], noisy))
    assert not all(torch.equal(model.state_dict()[k], v) for k, v in other.state_dict().items())
