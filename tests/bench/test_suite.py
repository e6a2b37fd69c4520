"""bench/suite.py: every row of the table prints (dry run, and from made-up results), the MNIST-1D reader reads
the shared data, and the GPU section's FLOP counting and peak table work on the CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import gpu  # noqa: E402
import suite  # noqa: E402
from common import shortest_budget, time_to_accuracy  # noqa: E402


def test_the_dry_run_prints_every_row():
    done = subprocess.run([sys.executable, str(BENCH / "suite.py"), "--quick", "--dry-run"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for row in suite.rows(quick=True):
        assert row.what in done.stdout, row.key


def fake_results() -> dict[str, list[dict]]:
    """Two seeds of made-up measurements, shaped as bench/suite_jobs.py prints them."""
    def curve(*points):
        return {"points": [list(p) for p in points], "seconds": points[-1][0] + 1}
    return {
        "mnist.deepscope": [curve((3.0, 0.991)), curve((3.2, 0.990))],
        "mnist.hand": [curve((5.0, 0.990)), curve((5.4, 0.991))],
        "mnist.lightning": [curve((6.0, 0.989)), curve((6.5, 0.992))],  # one seed short of 99 %
        "mnist.keras_example": [curve((20.0, 0.985), (40.0, 0.989)), curve((21.0, 0.986), (41.0, 0.989))],
        "mnist.keras_same": [curve((9.0, 0.990)), curve((9.5, 0.990))],
        "overhead": [{"hand": [40.0], "trainer": [39.6], "ratio": 0.99}] * 2,
        **{f"mnist1d.{name}": [{"accuracy": acc, "seconds": 1.0}] * 2
           for name, acc in (("logistic", 0.31), ("mlp", 0.70), ("cnn", 0.93), ("gru", 0.90))},
        "mnist1d.deepscope": [curve((0.5, 0.60), (1.0, 0.92), (2.0, 0.95), (4.0, 0.965))] * 2,
        "streaming": [{"stream": 800.0, "memory": 1000.0}],
        "command": [{"command": {"whole": 11.0, "training": 4.4}, "plain": {"whole": 12.0, "training": 6.0}}] * 2,
        "ddp": [{"1": {"throughput": 9000.0, "accuracy": 0.99, "seconds": 9.0},
                 "2": {"throughput": 6000.0, "accuracy": 0.989, "seconds": 12.0}}] * 2,
    }


def test_the_table_judges_made_up_results():
    table = suite.rows(quick=False)
    lines = suite.render(table, fake_results(), quick=False, dry_run=False, cuda=False).splitlines()
    row = {line.split(" | ")[0].strip(): [cell.strip() for cell in line.split(" | ")] for line in lines[2:]}
    deepscope, hand = row["MNIST 99%: deepscope default (examples/mnist.yaml)"], row[table[1].what]
    assert deepscope[1] == "3.10s" and hand[1] == "5.20s"
    assert hand[3] == f"{3.1 / 5.2:.3f}" and hand[5] == "yes"  # 0.596 <= 0.6
    assert row[table[2].what][1] == "not reached (1/2 seeds)"  # Lightning: a seed never got there, said so
    keras = row[table[3].what]
    assert keras[1] == "not reached (0/2 seeds)" and keras[3] == f"< {3.1 / 40.5:.3f}" and keras[5] == "yes"
    assert row[table[5].what][3] == "0.990" and row[table[5].what][5] == "yes"
    cnn = row["MNIST-1D CNN, paper's model & loop (paper 94%)"]
    assert cnn[3].startswith("beaten in 2.00s") and cnn[5] == "yes"  # 95 % is the first point above 94 %
    assert row["MNIST-1D: deepscope default (examples/mnist1d.yaml)"][1:3] == ["4.00s", "0.9650"]
    assert all("skipped: no CUDA GPU" in row[r.what][1] for r in table if r.gpu)
    ddp = row[next(r.what for r in table if r.key == "ddp")]
    assert ddp[1:4] == ["6,000 vs 9,000 ex/s", "0.9900/0.9890", "0.67"]
    streaming = row[next(r.what for r in table if r.key == "streaming")]
    assert streaming[1] == "800 vs 1,000 ex/s" and streaming[3:6] == ["0.80", ">= 0.7", "yes"]
    command = row[next(r.what for r in table if r.key == "command")]
    assert command[1] == "11.00s for 4.40s (a plain torch script: 2.00x)" and command[3:6] == ["2.50", "<= 2.0", "no"]


def test_a_failed_measurement_is_shown_not_hidden():
    results = fake_results()
    results["mnist.deepscope"] = "mnist_deepscope (seed 0) failed: boom"
    text = suite.render(suite.rows(quick=False), results, quick=False, dry_run=False, cuda=False)
    assert "failed: mnist_deepscope (seed 0) failed: boom" in text
    assert "needs mnist.deepscope" in text


def test_time_to_accuracy_is_the_first_epoch_that_gets_there():
    assert time_to_accuracy([(1.0, 0.97), (2.0, 0.991), (3.0, 0.989)], 0.99) == 2.0
    assert time_to_accuracy([(1.0, 0.97)], 0.99) is None


def test_a_recipe_short_of_the_target_trains_longer_until_it_gets_there():
    budgets = []

    def train(epochs):  # reaches 99 % only with a 3-epoch schedule
        budgets.append(epochs)
        curve = [0.98, 0.991, 0.993] if epochs == 3 else [0.97, 0.985][-epochs:]
        return {"points": [(2.0 * (e + 1), accuracy) for e, accuracy in enumerate(curve)]}

    result = shortest_budget(train, 0.99)
    assert budgets == [1, 2, 3] and result["epochs"] == 3
    assert time_to_accuracy(result["points"], 0.99) == 4.0  # the 3-epoch run's second epoch gets there
    assert result["tried"] == [(1, 0.985, 2.0), (2, 0.985, 4.0), (3, 0.993, 6.0)]
    never = shortest_budget(lambda epochs: {"points": [(1.0 * epochs, 0.9)]}, 0.99, max_epochs=2)
    assert never["epochs"] == 2 and time_to_accuracy(never["points"], 0.99) is None  # stops at the cap, says short


def test_the_table_names_the_epochs_a_searched_recipe_took():
    results = fake_results()
    results["mnist.hand"] = [{**r, "epochs": e} for r, e in zip(results["mnist.hand"], (1, 2))]
    table = suite.rows(quick=False)
    text = suite.render(table, results, quick=False, dry_run=False, cuda=False)
    assert "5.20s, 1-2 epochs" in text


def test_the_hand_loop_runs_several_epochs_with_a_point_each():
    from mnist_time_to_accuracy import reference_run

    torch.manual_seed(0)
    x, y = torch.randn(512, 1, 28, 28), torch.randint(0, 10, (512,))
    result = reference_run((x, y, x[:64], y[:64]), seed=0, epochs=2)
    (t1, a1), (t2, a2) = result["points"]
    assert 0 < t1 < t2 == result["seconds"] and 0.0 <= a1 <= 1.0 and 0.0 <= a2 <= 1.0


def test_the_mnist1d_reader_reads_the_shared_data(data_dir):
    import mnist1d

    x, y, x_test, y_test = mnist1d.load_arrays()
    assert x.shape == (4000, 40) and x_test.shape == (1000, 40) and x.dtype == torch.float32
    assert torch.bincount(y).tolist() == [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]  # its README's counts
    assert torch.bincount(y_test, minlength=10).tolist()[:3] == [102, 104, 89]
    result = mnist1d.paper_run("cnn", (x, y, x_test, y_test), seed=0, steps=5)
    assert 0.0 <= result["accuracy"] <= 1.0 and result["seconds"] > 0


def test_the_resnet_step_flops_are_counted_on_the_cpu():
    model = gpu.ResnetClassifier(image=(3, 8, 8), widths=[4, 8], blocks=1)
    x, y = torch.randn(2, 3, 8, 8), torch.tensor([0, 1])
    flops = gpu.step_flops(model, x, y)
    stem = 2 * 2 * (3 * 9) * 4 * 8 * 8  # the stem conv alone: 2 FLOPs per multiply-add, forward only
    assert flops > 3 * stem  # forward and backward of every conv are counted, not only the first
    assert all(p.grad is None for p in model.parameters())  # the counting step leaves no gradients behind


def test_the_mfu_measurement_runs_on_the_cpu():
    result = gpu.resnet_mfu(device="cpu", precision="fp32", steps=1, batch=2, widths=[4, 8], blocks=1)
    assert result["flops_per_step"] > 0 and result["steps_per_s"] > 0
    assert result["peak"] is None and result["mfu"] is None  # the CPU has no bf16 tensor-core peak in the table


@pytest.mark.parametrize("name,peak", [("NVIDIA H100 80GB HBM3", 989.4e12), ("NVIDIA H100 PCIe", 756e12),
                                       ("NVIDIA H200", 989.4e12), ("NVIDIA A100-SXM4-80GB", 312e12),
                                       ("NVIDIA L4", 121e12), ("NVIDIA L40S", 362.05e12), ("Tesla T4", None)])
def test_peak_bf16_by_gpu_name(name, peak):
    assert gpu.peak_bf16(name) == peak


def test_the_keras_one_cycle_schedule_is_torchs(monkeypatch):
    """The Keras peer's learning rate follows torch's OneCycleLR step by step (its 'same recipe' rests on it)."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from peers.keras_mnist import one_cycle

    steps = 50
    schedule = one_cycle(keras, 1e-2, steps)
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1e-2)
    reference = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=steps)
    for step in range(steps):
        assert float(schedule(step)) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-5, abs=1e-9), step
        optimizer.step()
        reference.step()
