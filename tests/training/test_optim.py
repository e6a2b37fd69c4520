"""Optimizers and schedules: training works, no decay on 1-D parameters, schedules against torch's own,
JSON state that resumes on exactly the same learning rates, and plain errors for unknown options."""

import doctest
import json

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler

import deepscope.training.optim as optim_module
from deepscope.errors import ConfigError
from deepscope.training.optim import OPTIMIZERS, SCHEDULES, Schedule, build_optimizer, build_schedule

LR = {"sgd": 0.05, "adam": 0.1, "adamw": 0.1, "rmsprop": 0.02}


def tiny_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 1))


# --- optimizers ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_fits_a_tiny_regression(name):
    torch.manual_seed(0)
    model = nn.Linear(4, 1)  # one layer: a few ops per step keeps this fast on a busy 2-core machine
    x = torch.randn(32, 4, generator=torch.Generator().manual_seed(1))
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + 0.3
    optimizer = build_optimizer(model, name, lr=LR[name], weight_decay=1e-4)
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0], (name, losses[0], losses[-1])


def test_no_weight_decay_on_biases_and_norms():
    model = tiny_model()
    optimizer = build_optimizer(model, "adamw", lr=1e-3, weight_decay=0.05)
    decayed, undecayed = optimizer.param_groups
    assert decayed["weight_decay"] == 0.05 and undecayed["weight_decay"] == 0.0
    assert {id(p) for p in decayed["params"]} == {id(model[0].weight), id(model[3].weight)}
    assert {id(p) for p in undecayed["params"]} == {id(model[0].bias), id(model[1].weight), id(model[1].bias),
                                                    id(model[3].bias)}


def test_accepts_parameters_and_skips_frozen_ones():
    model = tiny_model()
    model[0].requires_grad_(False)
    optimizer = build_optimizer(model.parameters(), "sgd", lr=0.1, nesterov=True)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    assert len(params) == 4 and all(p.requires_grad for p in params)
    assert all(group["momentum"] == 0.9 and group["nesterov"] for group in optimizer.param_groups)
    assert not any(group.get("fused") for group in optimizer.param_groups)  # CPU: torch's defaults


def test_unknown_optimizer_option_and_name_are_config_errors():
    with pytest.raises(ConfigError, match=r"train\.optimizer\.betas.*momentum"):
        build_optimizer(tiny_model(), "sgd", lr=0.1, betas=(0.9, 0.99))
    with pytest.raises(ConfigError, match=r"train\.optimizer\.name.*adamw"):
        build_optimizer(tiny_model(), "adamm", lr=0.1)
    with pytest.raises(ConfigError, match=r"train\.optimizer\.lr"):
        build_optimizer(tiny_model(), "adam", lr=0.0)


# --- schedules -----------------------------------------------------------------------------------------------
def optimizer_for(name="sgd", lr=0.1):
    return build_optimizer(nn.Linear(2, 1), name, lr=lr)


def run(schedule: Schedule, steps: int, steps_per_epoch: int = 10, metrics=None):
    """Learning rates (and momenta) seen by each optimizer step, with an epoch end every steps_per_epoch."""
    seen = []
    for step in range(steps):
        group = schedule.optimizer.param_groups[0]
        seen.append((group["lr"], group["betas"][0] if "betas" in group else group.get("momentum")))
        schedule.step_batch()
        if (step + 1) % steps_per_epoch == 0:
            epoch = (step + 1) // steps_per_epoch - 1
            schedule.step_epoch(metrics[epoch] if metrics else None)
    return seen


@pytest.mark.parametrize("name", ["sgd", "adamw"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_onecycle_matches_torch(name, three_phase):
    total = 57  # pct_start * total is not a whole number
    ours = build_schedule(optimizer_for(name), {"name": "onecycle", "warmup": 0.3, "three_phase": three_phase},
                          total_steps=total, steps_per_epoch=total)
    reference_optimizer = optimizer_for(name)
    reference = lr_scheduler.OneCycleLR(reference_optimizer, max_lr=0.1, total_steps=total, pct_start=0.3,
                                        div_factor=25, final_div_factor=1e4, three_phase=three_phase)
    expected = []
    for _ in range(total):
        group = reference_optimizer.param_groups[0]
        expected.append((group["lr"], group["betas"][0] if "betas" in group else group["momentum"]))
        reference_optimizer.step()
        reference.step()
    flat = lambda pairs: [value for pair in pairs for value in pair]  # noqa: E731
    assert flat(run(ours, total, steps_per_epoch=total)) == pytest.approx(flat(expected), rel=1e-12)


def test_onecycle_rises_to_lr_then_falls():
    schedule = build_schedule(optimizer_for(lr=0.2), {"name": "onecycle"}, total_steps=100, steps_per_epoch=10)
    lrs = [lr for lr, _ in run(schedule, 100)]
    peak = lrs.index(max(lrs))
    assert peak == 24 and max(lrs) == pytest.approx(0.2)
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a > b for a, b in zip(lrs[peak:], lrs[peak + 1:]))
    assert lrs[0] == pytest.approx(0.2 / 25) and lrs[-1] < 1e-4


def test_onecycle_leaves_momentum_alone_without_one():
    optimizer = build_optimizer(nn.Linear(2, 1), "rmsprop", lr=0.1)
    build_schedule(optimizer, "onecycle", total_steps=10, steps_per_epoch=5)
    assert optimizer.param_groups[0]["momentum"] == 0


def test_cosine_matches_torch_and_ends_at_min_lr():
    ours = build_schedule(optimizer_for(), {"name": "cosine", "min_lr": 1e-3}, total_steps=50, steps_per_epoch=10)
    reference_optimizer = optimizer_for()
    reference = lr_scheduler.CosineAnnealingLR(reference_optimizer, T_max=50, eta_min=1e-3)
    expected = []
    for _ in range(50):
        expected.append(reference_optimizer.param_groups[0]["lr"])
        reference_optimizer.step()
        reference.step()
    assert [lr for lr, _ in run(ours, 50)] == pytest.approx(expected, rel=1e-9)
    assert ours.current_lr() == pytest.approx(1e-3)


@pytest.mark.parametrize("warmup, steps", [(10, 10), (0.2, 10)])
@pytest.mark.parametrize("name", ["constant", "cosine", "step", "plateau"])
def test_warmup_starts_low_and_reaches_lr(name, warmup, steps):
    schedule = build_schedule(optimizer_for(lr=0.1), {"name": name, "warmup": warmup}, total_steps=50,
                              steps_per_epoch=50)
    lrs = [lr for lr, _ in run(schedule, steps + 1, steps_per_epoch=50)]
    assert lrs[0] == pytest.approx(0.1 / (steps + 1))
    assert all(a < b for a, b in zip(lrs[:steps], lrs[1:]))
    assert lrs[steps] == pytest.approx(0.1)


def test_step_matches_torch_per_epoch():
    ours = build_schedule(optimizer_for(), {"name": "step", "step_size": 2, "gamma": 0.5}, total_steps=60,
                          steps_per_epoch=10)
    reference_optimizer = optimizer_for()
    reference = lr_scheduler.StepLR(reference_optimizer, step_size=2, gamma=0.5)
    expected = []
    for _ in range(6):
        expected += [reference_optimizer.param_groups[0]["lr"]] * 10
        reference_optimizer.step()
        reference.step()
    assert [lr for lr, _ in run(ours, 60)] == pytest.approx(expected, rel=1e-12)
    default = build_schedule(optimizer_for(), "step", total_steps=90, steps_per_epoch=10)
    assert default.step_size == 3  # a third of the 9 epochs


def test_plateau_matches_torch_and_halves_after_patience():
    metrics = [1.0, 0.9, 0.9, 0.95, 0.91, 0.89, 0.9, 0.9, 0.9, 0.9, 0.2, 0.3]
    ours = build_schedule(optimizer_for(), {"name": "plateau", "patience": 2}, total_steps=120, steps_per_epoch=10)
    reference_optimizer = optimizer_for()
    reference = lr_scheduler.ReduceLROnPlateau(reference_optimizer, factor=0.5, patience=2)
    expected = []
    for metric in metrics:
        expected += [reference_optimizer.param_groups[0]["lr"]] * 10
        reference.step(metric)
    lrs = [lr for lr, _ in run(ours, 120, metrics=metrics)]
    assert lrs == pytest.approx(expected, rel=1e-12)
    assert lrs[40] == 0.1 and lrs[50] == 0.05  # 3 epochs (patience + 1) without improvement after epoch 2


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_state_is_json_and_resumes_on_the_same_learning_rates(name):
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 0.5, 0.6, 0.7]
    spec = {"name": name, "warmup": 5} if name != "onecycle" else {"name": name}
    build = lambda: build_schedule(optimizer_for("adamw"), spec, total_steps=100, steps_per_epoch=10)  # noqa: E731
    uninterrupted = run(build(), 100, metrics=metrics)
    first = build()
    resumed = run(first, 47, metrics=metrics)
    text = json.dumps(first.state_dict(), allow_nan=False)
    second = build()
    second.optimizer.param_groups[0]["lr"] = 123.0  # whatever the optimizer holds, loading the schedule sets it
    second.load_state_dict(json.loads(text))
    # continue mid-epoch 4: steps 47..99, epoch ends after steps 49, 59, ...
    for step in range(47, 100):
        group = second.optimizer.param_groups[0]
        resumed.append((group["lr"], group["betas"][0]))
        second.step_batch()
        if (step + 1) % 10 == 0:
            second.step_epoch(metrics[(step + 1) // 10 - 1])
    assert resumed == uninterrupted  # exactly


def test_loading_another_schedules_state_fails_plainly():
    state = build_schedule(optimizer_for(), "cosine", total_steps=10, steps_per_epoch=5).state_dict()
    with pytest.raises(ConfigError, match="cosine"):
        build_schedule(optimizer_for(), "onecycle", total_steps=10, steps_per_epoch=5).load_state_dict(state)


@pytest.mark.parametrize("spec, key", [
    ({"name": "cosine", "gamma": 0.1}, "gamma"),
    ({"name": "onecycle", "min_lr": 0.0}, "min_lr"),
    ({"name": "plateau", "mode": "lowest"}, "mode"),
    ({"name": "constant", "warmup": -1}, "warmup"),
    ({"name": "step", "warmup": 2.5}, "warmup"),
    ({"name": "cosine", "min_lr": 0.0, "warmup": "10%"}, "warmup"),
])
def test_bad_schedule_options_are_config_errors(spec, key):
    with pytest.raises(ConfigError, match=rf"train\.schedule\.{key}"):
        build_schedule(optimizer_for(), spec, total_steps=100, steps_per_epoch=10)


def test_unknown_schedule_name_lists_the_choices():
    with pytest.raises(ConfigError, match=r"train\.schedule\.name.*onecycle"):
        build_schedule(optimizer_for(), {"name": "linear"}, total_steps=10, steps_per_epoch=5)


def test_docstring_examples_run():
    assert doctest.testmod(optim_module).failed == 0
