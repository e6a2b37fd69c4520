"""Claim: the near-copy check flags few of MNIST's genuine test digits, finds most planted copies, and costs
about a second on 60,000 + 10,000 images (it runs before every training run).

On MNIST's own train/test split (real, independent digits) it prints the share of test digits flagged as
near-copies of a training digit: the false-positive rate, though MNIST does hold a few genuinely near-identical
digits across its splits. Then it plants copies of random training digits, each edited one way (shift by 1 or
2 pixels, crop 2-4 pixels and resize back, brightness +-20 %, JPEG re-encoding through Pillow at quality 75),
and prints the share found with the right source. Times are medians over repeats.

    DEEPSCOPE_DATA=../shared/data python bench/near_duplicates.py [--planted 1000 --repeats 3]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, summary  # noqa: E402

from deepscope.data.sources.builtin import BUILTIN_DATASETS  # noqa: E402
from deepscope.diagnose.near_duplicates import MAX_RATIO, MIN_COSINE, canonical_views, near_copies  # noqa: E402


def shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Moved by (dy, dx) pixels, the uncovered border filled with the background (0)."""
    out, (h, w) = np.zeros_like(image), image.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = image[max(-dy, 0):h + min(-dy, 0),
                                                                       max(-dx, 0):w + min(-dx, 0)]
    return out


def crop_resize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """2-4 pixels cropped off (split at random between the sides), resized back to the original size."""
    h, w = image.shape
    cut = int(rng.integers(2, 5))
    top, left = (int(v) for v in rng.integers(0, cut + 1, 2))
    box = (left, top, w - (cut - left), h - (cut - top))
    return np.asarray(Image.fromarray(image).crop(box).resize((w, h), Image.BILINEAR))


def brightness(image: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(image.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int = 75) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))


def edits(rng: np.random.Generator) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    return {
        "shift 1 px": lambda im: shift(im, *(int(v) for v in rng.choice([-1, 1], 2))),
        "shift 2 px": lambda im: shift(im, *(int(v) for v in rng.choice([-2, 2], 2))),
        "crop + resize": lambda im: crop_resize(im, rng),
        "brightness +20 %": lambda im: brightness(im, 1.2),
        "brightness -20 %": lambda im: brightness(im, 0.8),
        "JPEG q75": jpeg,
    }


def as_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).float().div(255).unsqueeze(1)  # (N, 1, 28, 28)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--planted", type=int, default=1000, help="copies planted per edit")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    raw = BUILTIN_DATASETS.get("mnist").load()
    train, test = raw.splits["train"]["image"], raw.splits["test"]["image"]
    print(f"{machine()}; MNIST {len(train)} train + {len(test)} test; cosine >= {MIN_COSINE}, ratio <= {MAX_RATIO}")

    times, cpu, flagged = [], [], None
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        source, _ = near_copies(canonical_views(as_tensor(train)), canonical_views(as_tensor(test)))
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        flagged = source >= 0
    # CPU seconds as well: on a shared machine the wall time also counts other programs' turns
    print(f"time for the check (views of 70,000 images + matching): wall {summary(times, ' s')}; "
          f"CPU {summary(cpu, ' s')}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"clean MNIST: {int(flagged.sum())} of {len(test)} test digits flagged "
          f"({flagged.mean():.2%}, the false-positive rate, look-alikes included)")

    rng = np.random.default_rng(0)
    train_views = canonical_views(as_tensor(train))
    for name, edit in edits(rng).items():
        originals = rng.choice(len(train), args.planted, replace=False)
        copies = np.stack([edit(train[i]) for i in originals])
        source, _ = near_copies(train_views, canonical_views(as_tensor(copies)))
        print(f"planted {name:<17} found {np.mean(source == originals):6.1%} "
              f"(flagged at all {np.mean(source >= 0):6.1%})")


if __name__ == "__main__":
    main()
