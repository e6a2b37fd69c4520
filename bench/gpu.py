"""The GPU section of the bench suite: MNIST time to 99.0 % with the data on the GPU, and the share of the GPU's
peak bf16 FLOP/s that a ResNet training step reaches (model FLOP utilisation, MFU).

FLOPs are counted, not estimated: `torch.utils.flop_counter.FlopCounterMode` records the forward and backward
pass of one step (matrix multiplies and convolutions; the optimizer's element-wise work is not counted, as MFU
conventionally does not). Achieved FLOP/s = counted FLOPs per step x steps per second (CUDA-synchronised timing
after warm-up). The peak is the vendor's dense bf16 tensor-core figure for the GPU's name (PEAK_BF16_DENSE); a GPU
not in the table is reported as unknown rather than guessed.

Everything here but the timing runs on the CPU too (tests/bench/test_suite.py counts a tiny ResNet's FLOPs there).

    python bench/gpu.py                         # needs CUDA: MNIST on the GPU, then MFU for bf16/fp32 x compile
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from common import deepscope_points, machine, mnist_tensors  # noqa: E402

ROOT = Path(__file__).parents[1]
# Dense (no sparsity) bf16 tensor-core peaks from the vendors' data sheets, FLOP/s; matched on the CUDA device name
# by the first rule whose words all appear in it (so "H100 PCIe" is tried before "H100")
PEAK_BF16_DENSE: list[tuple[tuple[str, ...], float]] = [
    (("H100", "PCIE"), 756e12),
    (("H100",), 989.4e12),  # SXM (the device name says "HBM3")
    (("H200",), 989.4e12),  # SXM
    (("A100",), 312e12),
    (("L40S",), 362.05e12),
    (("L4",), 121e12),
]
RESNET = {"widths": [64, 128, 256, 512], "blocks": 2}  # ResNet-18's stages, on CIFAR-sized 3x32x32 images
RESNET_BATCH, RESNET_IMAGE = 256, (3, 32, 32)


def peak_bf16(name: str) -> float | None:
    """The dense bf16 peak FLOP/s for a CUDA device name, or None for a GPU not in the table.

    >>> peak_bf16("NVIDIA H100 80GB HBM3"), peak_bf16("NVIDIA L4"), peak_bf16("Tesla T4")
    (989400000000000.0, 121000000000000.0, None)
    """
    upper = name.upper()
    return next((peak for words, peak in PEAK_BF16_DENSE if all(word in upper for word in words)), None)


class ResnetClassifier(nn.Module):
    """deepscope's `resnet` encoder with a linear layer on top, taking plain image tensors (B, C, H, W)."""

    def __init__(self, image: tuple[int, int, int] = RESNET_IMAGE, classes: int = 10, **options):
        super().__init__()
        from deepscope.models.encoders import ENCODERS

        spec = {"name": "image", "type": "image", "kind": "image", "shape": list(image)}
        self.encoder = ENCODERS.get("resnet")([spec], **(options or RESNET))
        self.head = nn.Linear(self.encoder.output_size, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder({"image": x}))


def step_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """FLOPs of one training step's forward and backward pass, counted by FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        F.cross_entropy(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def resnet_mfu(device: str = "cuda", precision: str = "bf16", compile: bool = False, steps: int = 30,
               batch: int = RESNET_BATCH, **options) -> dict:
    """{flops_per_step, steps_per_s, flops_per_s, peak, mfu} of a ResNet training step (AdamW, channels-last)."""
    torch.manual_seed(0)
    model = ResnetClassifier(**options).to(device, memory_format=torch.channels_last)
    x = torch.randn(batch, *RESNET_IMAGE, device=device).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    flops = step_flops(model, x, y)  # counted in fp32 eagerly: the same multiply-adds whatever the precision
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=device.startswith("cuda"))
    forward = torch.compile(model) if compile else model
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.split(":")[0], dtype=dtype, enabled=precision == "bf16"):
            loss = F.cross_entropy(forward(x), y)
        loss.backward()
        optimizer.step()

    started = time.perf_counter()
    for _ in range(3):  # warm-up: cuDNN's algorithm search, and the compilation when compile is on
        step()
    _sync(device)
    warmup = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    rate = steps / (time.perf_counter() - started)
    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu"
    peak = peak_bf16(name) if device.startswith("cuda") else None
    return {"device": name, "precision": precision, "compile": compile, "flops_per_step": flops, "steps_per_s": rate,
            "flops_per_s": flops * rate, "peak": peak, "mfu": flops * rate / peak if peak else None,
            "warmup_s": warmup}


def mnist_on_gpu(seed: int, root: Path, epochs: int = 1) -> dict:
    """deepscope's MNIST default with the data on the GPU: {points: [(training seconds, test accuracy)], ...}."""
    return deepscope_points(ROOT / "examples" / "mnist.yaml", {"train.seed": seed, "train.epochs": epochs,
                            "run.root": str(root), "train.device": "cuda", "run.report": False})


def hand_loop_on_gpu(seed: int, epochs: int = 1) -> dict:
    """bench/mnist_time_to_accuracy.py's reference loop with the model and data on the GPU."""
    from mnist_time_to_accuracy import reference_run

    return reference_run([t.cuda() for t in mnist_tensors()], seed, epochs)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--root", type=Path, default=Path("/tmp/deepscope-bench-gpu"))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: the GPU section needs one (its CPU parts run in tests/bench)")
    print(f"machine: {machine()}")
    run = mnist_on_gpu(0, args.root)
    print(f"MNIST, deepscope, data on the GPU: test accuracy {run['points'][-1][1]:.4f} after "
          f"{run['points'][-1][0]:.2f}s of training")
    for precision in ("bf16", "fp32"):
        for compile in (False, True):
            r = resnet_mfu(precision=precision, compile=compile, steps=args.steps)
            mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "unknown (GPU not in the peak table)"
            print(f"ResNet-18-like step, {precision}, compile {'on ' if compile else 'off'}: "
                  f"{r['flops_per_step'] / 1e9:.1f} GFLOP/step, {r['steps_per_s']:.1f} steps/s, "
                  f"{r['flops_per_s'] / 1e12:.1f} TFLOP/s = {mfu} of the bf16 peak (warm-up {r['warmup_s']:.1f}s)")


if __name__ == "__main__":
    main()
