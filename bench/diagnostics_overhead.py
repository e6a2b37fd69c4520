"""Claim: diagnostics, on by default, keep training throughput >= 0.9 of training without them.

The same model (the config's, as `deepscope train` builds it) is trained on the same data for the same steps,
with and without the `Diagnostics` callback, alternating so both see the same machine load. The timed span is
the whole `fit`: sampled measurements, judging at every epoch end, and calibration at the end.

    DEEPSCOPE_DATA=../shared/data python bench/diagnostics_overhead.py [--config examples/mnist.yaml --repeats 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, summary  # noqa: E402

from deepscope.config.loading import load_config  # noqa: E402
from deepscope.data.features import describe_features  # noqa: E402
from deepscope.data.prepare import prepare_data  # noqa: E402
from deepscope.diagnose.callback import Diagnostics  # noqa: E402
from deepscope.models.builder import build_model  # noqa: E402
from deepscope.training.trainer import Trainer, seed_everything  # noqa: E402


def examples_per_second(config, data, *, diagnostics: bool) -> tuple[float, int]:
    seed_everything(0)
    model = build_model(config.model.model_dump(mode="json", exclude_none=True), describe_features(data.inputs),
                        describe_features(data.outputs))
    t = config.train
    callback = Diagnostics(console=Console(file=io.StringIO()))  # live, as in `deepscope train`, printing nowhere
    trainer = Trainer(epochs=t.epochs, batch_size=t.batch_size, optimizer=t.optimizer.model_dump(exclude_none=True),
                      schedule=t.schedule.model_dump(exclude_none=True), callbacks=[callback] if diagnostics else [],
                      device="cpu", log_every=t.log_every)
    started = time.perf_counter()
    trainer.fit(model, data.splits["train"], data.splits.get("val"))
    elapsed = time.perf_counter() - started
    return len(data.splits["train"]) * t.epochs / elapsed, len(callback.record.samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="examples/mnist.yaml")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. train.epochs=2")
    args = parser.parse_args()
    config = load_config(args.config, args.overrides)
    data = prepare_data(config.data)
    print(f"machine: {machine()}; {args.config} {' '.join(args.overrides)}: {len(data.splits['train']):,} training "
          f"examples, {config.train.epochs} epoch(s), {args.repeats} alternating repeats")
    examples_per_second(config, data, diagnostics=True)  # warm-up (first-call imports, allocator)
    plain, diagnosed, samples = [], [], 0
    for _ in range(args.repeats):
        plain.append(examples_per_second(config, data, diagnostics=False)[0])
        rate, samples = examples_per_second(config, data, diagnostics=True)
        diagnosed.append(rate)
    ratios = [d / p for d, p in zip(diagnosed, plain)]
    print(f"without diagnostics: {summary(plain, ' examples/s')}")
    print(f"with diagnostics   : {summary(diagnosed, ' examples/s')} ({samples} sampled steps per run)")
    print(f"throughput ratio with / without: {summary(ratios, '', 3)}; ratio of medians "
          f"{statistics.median(diagnosed) / statistics.median(plain):.3f}  (target >= 0.9)")


if __name__ == "__main__":
    main()
