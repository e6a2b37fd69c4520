"""The measurements bench/suite.py makes, one per process: `python bench/suite_jobs.py JOB --seed S [--quick]`
prints one line `RESULT {json}`. A fresh process per measurement keeps each peer's imports, threads and caches
(Lightning, Keras, torch.compile) from touching the others.

Each job reuses the bench that owns the measurement: mnist_time_to_accuracy.py (the hand-written loop),
trainer_overhead.py, mnist1d.py, gpu.py and the peers under peers/.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).parents[1]
QUICK_MNIST_ROWS = 12_000  # --quick: training images for the MNIST rows (the test set stays whole)
QUICK_KERAS_EPOCHS = 2  # --quick: epochs of the keras.io example (15 as written)


def _mnist(quick: bool):
    from common import mnist_tensors

    x_train, y_train, x_test, y_test = mnist_tensors()
    rows = QUICK_MNIST_ROWS if quick else len(x_train)
    return x_train[:rows], y_train[:rows], x_test, y_test


def _mnist_raw(quick: bool):
    from common import mnist_raw

    raw = mnist_raw()
    if quick:
        raw.splits["train"] = {k: v[:QUICK_MNIST_ROWS] for k, v in raw.splits["train"].items()}
    return raw


def _until_target(train: Callable[[int], dict], quick: bool) -> dict:
    """The recipe's shortest budget of epochs that reaches the MNIST target (bench/common.py's shortest_budget)."""
    from common import MNIST_TARGET, QUICK_MNIST_TARGET, shortest_budget

    return shortest_budget(train, QUICK_MNIST_TARGET if quick else MNIST_TARGET)


def mnist_deepscope(seed: int, quick: bool) -> dict:
    from common import deepscope_points

    def train(epochs: int) -> dict:
        overrides = {"train.seed": seed, "train.epochs": epochs, "run.report": False,
                     "run.root": tempfile.mkdtemp(prefix="deepscope-suite-")}
        if quick:
            overrides["data.limit"] = QUICK_MNIST_ROWS
        return deepscope_points(ROOT / "examples" / "mnist.yaml", overrides)
    return _until_target(train, quick)


def mnist_hand(seed: int, quick: bool) -> dict:
    from mnist_time_to_accuracy import reference_run

    data = _mnist(quick)
    return _until_target(lambda epochs: reference_run(data, seed, epochs), quick)


def mnist_lightning(seed: int, quick: bool) -> dict:
    from peers import lightning_mnist

    data = _mnist(quick)
    return _until_target(lambda epochs: lightning_mnist.run(data, seed, epochs), quick)


def mnist_keras_example(seed: int, quick: bool) -> dict:
    from peers import keras_mnist

    return keras_mnist.example(_mnist_raw(quick), seed, epochs=QUICK_KERAS_EPOCHS if quick else 15)


def mnist_keras_same(seed: int, quick: bool) -> dict:
    from peers import keras_mnist

    raw = _mnist_raw(quick)
    return _until_target(lambda epochs: keras_mnist.same_net(raw, seed, epochs), quick)


def trainer_overhead(seed: int, quick: bool) -> dict:
    """Steps/s of Trainer.fit and of the hand-written loop, alternating, after a warm-up of each."""
    from trainer_overhead import hand_written, with_trainer

    steps, batch, pairs = (20, 256, 1) if quick else (120, 256, 3)
    x, y, _, _ = _mnist(quick=False)
    x, y = x[: steps * batch], y[: steps * batch]
    hand_written(x, y, 5, batch), with_trainer(x[: 5 * batch], y[: 5 * batch], 5, batch)  # warm-up
    hand, trainer = [], []
    for _ in range(pairs):
        hand.append(hand_written(x, y, steps, batch))
        trainer.append(with_trainer(x, y, steps, batch))
    return {"hand": hand, "trainer": trainer, "ratio": sum(trainer) / sum(hand)}


def _mnist1d_paper(name: str) -> Callable[[int, bool], dict]:
    def job(seed: int, quick: bool) -> dict:
        import mnist1d

        return mnist1d.paper_run(name, mnist1d.load_arrays(), seed, mnist1d.QUICK["steps"] if quick else
                                 mnist1d.PAPER_STEPS)
    return job


def mnist1d_deepscope(seed: int, quick: bool) -> dict:
    import mnist1d

    return mnist1d.deepscope_run(seed, Path(tempfile.mkdtemp(prefix="deepscope-suite-")), quick)


def gpu_mnist_deepscope(seed: int, quick: bool) -> dict:
    import gpu

    return _until_target(lambda epochs: gpu.mnist_on_gpu(seed, Path(tempfile.mkdtemp(prefix="deepscope-suite-")),
                                                         epochs), quick=False)


def gpu_mnist_hand(seed: int, quick: bool) -> dict:
    import gpu

    return _until_target(lambda epochs: gpu.hand_loop_on_gpu(seed, epochs), quick=False)


def gpu_resnet(seed: int, quick: bool) -> dict:
    import gpu

    return gpu.resnet_mfu(precision="bf16", steps=5 if quick else 30)


def ddp(seed: int, quick: bool) -> dict:
    import ddp as bench_ddp

    overrides = ("data.limit=6000", "train.epochs=1") if quick else ()
    runs = bench_ddp.compare("examples/mnist.yaml", (f"train.seed={seed}", *overrides))
    return {str(devices): {"throughput": r["throughput"], "accuracy": r["val"]["accuracy"], "seconds": r["seconds"]}
            for devices, r in runs.items()}


def streaming(seed: int, quick: bool) -> dict:
    """bench/streaming.py's two runs on one folder (smaller than its own 200,000-image run, which also shows the
    memory bound): examples per second streamed with 2 workers and in memory."""
    import argparse

    import streaming as bench_streaming

    images, size = (4_000, 28) if quick else (20_000, 56)
    args = argparse.Namespace(images=images, memory_images=images, size=size, batch_size=128, workers=2)
    folder = Path(tempfile.gettempdir()) / f"deepscope-streaming-{images}-{size}"
    bench_streaming.build_folder(folder, images, size)
    runs = {mode: bench_streaming.measure(mode, folder, args) for mode in ("stream", "memory")}
    return {mode: r["examples"] / r["seconds"] for mode, r in runs.items()}


def command(seed: int, quick: bool) -> dict:
    """bench/command_breakdown.py's measurement: the whole `deepscope train examples/mnist.yaml` in a fresh process
    and, beside it, the plain PyTorch script of the same training."""
    import command_breakdown

    overrides = [f"train.seed={seed}", *([f"data.limit={QUICK_MNIST_ROWS}"] if quick else [])]
    run = command_breakdown.run_once(ROOT / "examples" / "mnist.yaml", overrides)
    return {"command": {k: run[k] for k in ("whole", "training")}, "plain": command_breakdown.bare_script()}


JOBS: dict[str, Callable[[int, bool], dict]] = {
    "mnist_deepscope": mnist_deepscope,
    "mnist_hand": mnist_hand,
    "mnist_lightning": mnist_lightning,
    "mnist_keras_example": mnist_keras_example,
    "mnist_keras_same": mnist_keras_same,
    "trainer_overhead": trainer_overhead,
    **{f"mnist1d_{name}": _mnist1d_paper(name) for name in ("logistic", "mlp", "cnn", "gru")},
    "mnist1d_deepscope": mnist1d_deepscope,
    "gpu_mnist_deepscope": gpu_mnist_deepscope,
    "gpu_mnist_hand": gpu_mnist_hand,
    "gpu_resnet": gpu_resnet,
    "ddp": ddp,
    "streaming": streaming,
    "command": command,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job", choices=sorted(JOBS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = JOBS[args.job](args.seed, args.quick)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
