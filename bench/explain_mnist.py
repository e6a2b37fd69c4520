"""Claim (issue 14): deepscope's image explanations check their own faithfulness, at no real cost over bare Captum.

Over --n MNIST test images of the CNN of examples/mnist.yaml, for each image attribution method, each image
explained for the class the model predicts:
- deletion and insertion areas (Petsiuk et al. 2018) next to the same curves in a random order: every gradient
  method's deletion area should be clearly below random's;
- the completeness error of integrated gradients (|sum of attributions - (f(x) - f(baseline))|, relative);
- the model-randomisation sanity check (Adebayo et al. 2018): the rank correlation of the map (signs included,
  as deepscope ranks and draws it) between the trained model and the model with every layer re-drawn, top down,
  and beside it the same for |map|; saliency and integrated gradients should pass;
- milliseconds per explained example (batched) through deepscope next to the same Captum call on the same model
  and inputs, with the overhead ratio (target <= 1.10).

    DEEPSCOPE_DATA=../shared/data python bench/explain_mnist.py [--run RUN] [--n 500] [--quick]

Without deepscope's method registry (`deepscope.explain.methods`), every row is bare Captum and the overhead
column is empty.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, summary  # noqa: E402

from deepscope.explain.faithfulness import (  # noqa: E402
    completeness_error,
    faithfulness_findings,
    measure_faithfulness,
    randomisation_check,
)

ROOT = Path(__file__).parents[1]
QUICK = {"data.limit": 6000}  # --quick: one epoch on the first 6,000 training images (~95 % accuracy, seconds)


class Probabilities(nn.Module):
    """What a Captum user writes by hand for a deepscope model: the image in, class probabilities out."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model({"image": x})["label"].softmax(dim=-1)


def last_conv(model: nn.Module) -> nn.Module:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d)][-1]


def captum_calls() -> dict[str, Callable]:
    """Bare Captum, with the settings of deepscope's methods (their `options` defaults)."""
    from captum.attr import (
        GradientShap,
        GuidedBackprop,
        InputXGradient,
        IntegratedGradients,
        LayerAttribution,
        LayerGradCam,
        NoiseTunnel,
        Saliency,
    )

    def grad_cam(f, x, t, b):
        maps = LayerGradCam(f, last_conv(f)).attribute(x, target=t, relu_attributions=True)
        return LayerAttribution.interpolate(maps, tuple(x.shape[-2:]), interpolate_mode="bilinear")

    def gradient_shap(f, x, t, b):
        references = torch.cat([b.expand(1, *x.shape[1:]), x])
        return GradientShap(f).attribute(x, baselines=references, n_samples=16, stdevs=0.09, target=t)

    def smoothgrad(f, x, t, b):
        spread = float(0.15 * (x.max() - x.min()).clamp(min=1e-6))
        return NoiseTunnel(Saliency(f)).attribute(x, nt_type="smoothgrad", nt_samples=16, stdevs=spread, target=t)

    return {
        "saliency": lambda f, x, t, b: Saliency(f).attribute(x, target=t, abs=True),
        "input_x_gradient": lambda f, x, t, b: InputXGradient(f).attribute(x, target=t),
        "integrated_gradients": lambda f, x, t, b: IntegratedGradients(f).attribute(
            x, baselines=b.expand_as(x), target=t, n_steps=32),
        "guided_backprop": lambda f, x, t, b: GuidedBackprop(f).attribute(x, target=t),
        "gradient_shap": gradient_shap,
        "smoothgrad": smoothgrad,
        "grad_cam": grad_cam,
    }


def deepscope_methods(model: nn.Module, inputs: dict) -> dict[str, object] | None:
    """The registered image methods, or None while the registry cannot be imported."""
    try:
        from deepscope.explain.methods import METHODS
        from deepscope.explain.view import ScoreView
    except ImportError as error:
        print(f"deepscope.explain.methods not importable ({error}): bare Captum only")
        return None
    view = ScoreView(model, inputs, "label")
    return {name: method for name, method in METHODS.items() if method.applies(view, "image") is None}


def trained_run(args: argparse.Namespace) -> Path:
    if args.run:
        return args.run
    import deepscope as ds

    overrides = {"run.root": str(args.root), **(QUICK if args.quick else {})}
    run = ds.train(ROOT / "examples" / "mnist.yaml", overrides, progress=False)
    print(f"trained {run.dir} ({'quick: ' + str(QUICK) if args.quick else 'examples/mnist.yaml'}), "
          f"test accuracy {run.metrics['test']['accuracy']:.4f}")
    return Path(run.dir)


def test_images(run: Path, n: int):
    from deepscope.data.sources.builtin import BUILTIN_DATASETS
    from deepscope.models.saving import load_model

    saved = load_model(run)
    model = saved.model.eval()
    images = BUILTIN_DATASETS.get("mnist").load().splits["test"]["image"][:n]
    x = saved.inputs["image"].encode(images).float()  # (n, 1, 28, 28), normalised as in training
    return model, saved.inputs, x


def in_chunks(explain: Callable, x: torch.Tensor, targets: torch.Tensor, size: int) -> torch.Tensor:
    """One call per chunk of `size` examples (each call batched), the maps put back together."""
    return torch.cat([explain(x[i : i + size], targets[i : i + size]).detach() for i in range(0, len(x), size)])


def timed(explain: Callable, x, targets, size: int) -> tuple[torch.Tensor, float]:
    started = time.perf_counter()
    maps = in_chunks(explain, x, targets, size)
    return maps, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", type=Path, help="a finished MNIST run folder (default: train one)")
    parser.add_argument("--quick", action="store_true", help=f"train on a subset ({QUICK}) for a quick check")
    parser.add_argument("--n", type=int, default=500, help="test images explained")
    parser.add_argument("--batch", type=int, default=100, help="images per attribution call")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per method (median)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/deepscope-bench"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)  # Captum's notes on hooks and requires_grad, per call
    print(f"machine: {machine()}")
    model, inputs, x = test_images(trained_run(args), args.n)
    bare = Probabilities(model).eval()
    with torch.no_grad():
        targets = bare(x).argmax(dim=1)  # each image explained for the class the model predicts
    zeros = torch.zeros_like(x[:1])
    registered = deepscope_methods(model, inputs)
    calls = captum_calls()
    names = [n for n in calls if registered is None or n in registered]
    names += [n for n in (registered or {}) if n not in calls]  # deepscope methods with no bare twin here
    print(f"{len(x)} test images, {args.batch} per call, timing median of {args.repeats}; "
          f"methods: {', '.join(names)}")
    rows = [measure(name, model, inputs, x, targets, zeros, registered, calls, args) for name in names]
    print_table(rows)


def measure(name, model, inputs, x, targets, zeros, registered, calls, args) -> dict:
    """One method's row: faithfulness on deepscope's maps (bare Captum's without the registry), and timings."""
    explain_with, scores, baseline = explainer(name, model, inputs, x, targets, zeros, registered, calls)
    timers = {"deepscope": explain_with(model)}
    if registered is not None and name in registered and name in calls:
        forward = Probabilities(model).eval()
        timers["captum"] = lambda xs, ts: calls[name](forward, xs, ts, zeros)
    maps, times = timings(timers, x, targets, args)
    completeness = None
    if name == "integrated_gradients":
        completeness = completeness_error(maps, scores(x), scores(baseline.expand_as(x)))
    sanity = randomisation_check(model, lambda m: in_chunks(explain_with(m), x, targets, args.batch))
    result = measure_faithfulness(name, scores, x, maps, baseline, completeness=completeness, randomisation=sanity)
    ms = {key: [1000 * s / len(x) for s in seconds] for key, seconds in times.items()}
    print(f"{name}: " + ", ".join(f"{key} {summary(values, ' ms/example', 3)}" for key, values in ms.items())
          + f"; randomisation by stage {dict(zip(sanity.layers, np.round(sanity.correlations, 3).tolist()))}",
          flush=True)
    bare = statistics.median(ms["captum"]) if "captum" in ms else None
    return {"result": result, "ms": statistics.median(ms["deepscope"]), "bare_ms": bare}


def explainer(name, model, inputs, x, targets, zeros, registered, calls):
    """(model -> batched explain function, the scores function of the sample, the baseline): deepscope's method
    where it is registered, else the bare Captum call."""
    if registered is not None and name in registered:
        from deepscope.explain.view import ScoreView

        method = registered[name]
        def explain_with(m: nn.Module) -> Callable:
            view = ScoreView(m, inputs, "label")
            return lambda xs, ts: method.attribute(view, {"image": xs}, ts).attributions
        baseline = method.attribute(ScoreView(model, inputs, "label"), {"image": x[:1]}, targets[:1]).baseline
        view = ScoreView(model, inputs, "label").bind({"image": x})  # the scores of the whole sample
        return explain_with, (lambda u: view.scores(u, targets)), zeros if baseline is None else baseline
    def bare_with(m: nn.Module) -> Callable:
        forward = Probabilities(m).eval()
        return lambda xs, ts: calls[name](forward, xs, ts, zeros)
    probabilities = Probabilities(model).eval()
    return bare_with, (lambda u: probabilities(u).gather(1, targets[:, None]).squeeze(1)), zeros


def timings(timers: dict[str, Callable], x, targets, args) -> tuple[torch.Tensor, dict[str, list[float]]]:
    """deepscope's maps, and the seconds of each timer over the sample per repeat (interleaved, so that every
    timer sees the same machine load), after one untimed warm-up call each."""
    for explain in timers.values():
        explain(x[: args.batch], targets[: args.batch])  # first calls allocate and register hooks
    times: dict[str, list[float]] = {key: [] for key in timers}
    maps = {}
    for _ in range(args.repeats):
        for key, explain in timers.items():
            maps[key], seconds = timed(explain, x, targets, args.batch)
            times[key].append(seconds)
    return maps["deepscope"], times


def print_table(rows: list[dict]) -> None:
    header = (f"{'method':<22}{'deletion':>9}{'random':>8}{'insertion':>10}{'random':>8}{'complete':>10}"
              f"{'sanity r':>9}{'|map| r':>8}{'sanity':>8}{'ms/ex':>8}{'captum':>8}{'ratio':>7}")
    print(header)
    print("-" * len(header))
    for row in rows:
        f = row["result"]
        completeness = f"{f.completeness_error:.1%}" if f.completeness_error is not None else "-"
        bare = f"{row['bare_ms']:.3f}" if row["bare_ms"] else "-"
        ratio = f"{row['ms'] / row['bare_ms']:.2f}" if row["bare_ms"] else "-"
        check = f.randomisation
        print(f"{f.method:<22}{f.deletion_area:>9.3f}{f.deletion_random_area:>8.3f}{f.insertion_area:>10.3f}"
              f"{f.insertion_random_area:>8.3f}{completeness:>10}{check.final:>9.3f}{check.magnitude_final:>8.3f}"
              f"{'pass' if check.passes else 'FAIL':>8}{row['ms']:>8.3f}{bare:>8}{ratio:>7}")
    print("deletion: area under the mean target probability as the top-ranked pixels go (lower is better); "
          "insertion: as they come back (higher is better); random: the same in a random order.")
    print("sanity r: rank correlation of the map, signs included, after every layer is re-drawn (pass below 0.5); "
          "|map| r: the same for the magnitudes; "
          "ratio: deepscope / bare Captum time (target <= 1.10).")
    ratios = [row["ms"] / row["bare_ms"] for row in rows if row["bare_ms"]]
    if ratios:
        print(f"overhead ratio over methods: {summary(ratios, '', 2)}")
    for row in rows:
        for finding in faithfulness_findings(row["result"]):
            print(f"[{finding.severity}] {finding.title}")


if __name__ == "__main__":
    main()
