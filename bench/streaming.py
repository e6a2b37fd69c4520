"""Claim: a folder of images several times larger than the training process's memory trains streamed, in bounded
memory, at >= 0.7x the in-memory path's examples per second with 2 decoding workers.

It builds an image folder from MNIST's 60,000 training digits with Fashion-style augmentations (rotation +-12
degrees, scale 0.9-1.1, shift +-2 px, brightness and contrast +-20 %, upscaled to --size, default 56 px), one
PNG per image in class folders, then trains deepscope's default model one epoch on it in a child process twice:

- streamed (data.stream: true, DEEPSCOPE_STREAM_WORKERS=2): every image of the folder, decoded as it is read;
- in memory (data.stream: false) on the first --memory-images images (hard links into a second folder), which fit.

Same model, batch size, seed; validation and test splits off and diagnostics off, so an epoch's time is the
training loop with its data path. Memory: the parent samples the child and its worker processes every 0.1 s and
sums their proportional set size (Pss in /proc/PID/smaps_rollup: pages shared between the processes counted
once, split among them), the memory the run really occupies; the child's own peak resident size (VmHWM) is
printed beside it. The decoded size is what the in-memory path would hold for the whole folder: uint8 pixels
plus float32 tensors. The claim needs decoded / peak >= 4. Why 56 px and batches of 128: torch and the model take
about 0.3 GB before any data, and a step's activations about 0.6 KB per pixel of the batch (checks at 28 and 56 px,
batch 256: peaks of 0.43 and 0.78 GB), while 200,000 28x28 digits decode to 0.75 GB; at 56x56 they decode to
2.9 GB, against a peak of about 0.55 GB at batch 128 (0.8 GB at 256, which would leave 3.7x).

    DEEPSCOPE_DATA=../shared/data python bench/streaming.py --images 200000            # the real run
    DEEPSCOPE_DATA=../shared/data python bench/streaming.py --images 6000 --memory-images 3000 --size 28  # a check
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, mnist_raw  # noqa: E402

TARGET = 0.7  # streamed examples/s over in-memory examples/s
MEMORY_FACTOR = 4  # decoded size over peak memory
BUILD_CHUNK = 2_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200_000, help="PNGs in the streamed folder")
    parser.add_argument("--memory-images", type=int, default=20_000, help="PNGs the in-memory path trains on")
    parser.add_argument("--size", type=int, default=56, help="image side in pixels (MNIST's 28, upscaled)")
    parser.add_argument("--batch-size", type=int, default=128, help="for both paths (see the docstring)")
    parser.add_argument("--workers", type=int, default=2, help="decoding processes for the streamed run")
    parser.add_argument("--folder", type=Path, default=None, help="where the folder is built (kept for reruns)")
    parser.add_argument("--child", choices=("stream", "memory"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    folder = args.folder or Path(tempfile.gettempdir()) / f"deepscope-streaming-{args.images}-{args.size}"
    built = time.perf_counter()
    build_folder(folder, args.images, args.size)
    subset = link_subset(folder, folder.with_name(folder.name + f"-first-{args.memory_images}"), args.memory_images)
    print(f"{machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"folder: {folder} ({args.images:,} PNGs of {args.size}x{args.size}, {du(folder) / 2**20:,.0f} MB on disk; "
          f"ready in {time.perf_counter() - built:.0f} s)")
    streamed = measure("stream", folder, args)
    in_memory = measure("memory", subset, args)
    report(args, streamed, in_memory)


# --- the folder --------------------------------------------------------------------------------------------------
def build_folder(folder: Path, images: int, size: int) -> None:
    """`images` augmented MNIST digits as PNGs in folder/<digit>/, unless a complete one is there already."""
    done = folder / ".complete"
    if done.is_file() and done.read_text() == f"{images} {size}":
        return
    shutil.rmtree(folder, ignore_errors=True)
    for digit in range(10):
        (folder / str(digit)).mkdir(parents=True)
    chunks = [(folder, start, min(start + BUILD_CHUNK, images), size) for start in range(0, images, BUILD_CHUNK)]
    with Pool(min(2, os.cpu_count() or 1)) as pool:
        for _ in pool.imap_unordered(_write_chunk, chunks):
            pass
    done.write_text(f"{images} {size}")


_DIGITS: tuple | None = None


def _write_chunk(task: tuple[Path, int, int, int]) -> None:
    from PIL import Image, ImageEnhance

    global _DIGITS
    folder, start, stop, size = task
    if _DIGITS is None:
        train = mnist_raw().splits["train"]
        _DIGITS = (train["image"], train["label"])
    pixels, labels = _DIGITS
    rng = np.random.default_rng(start)
    for i in range(start, stop):
        j = i % len(labels)
        image = Image.fromarray(pixels[j]).rotate(rng.uniform(-12, 12), resample=Image.BILINEAR,
                                                  translate=tuple(rng.integers(-2, 3, 2).tolist()))
        side = max(8, round(28 * rng.uniform(0.9, 1.1)))  # every image an augmented copy, the first 60,000 too
        canvas = Image.new("L", (28, 28))
        canvas.paste(image.resize((side, side), Image.BILINEAR), ((28 - side) // 2, (28 - side) // 2))
        image = ImageEnhance.Brightness(canvas).enhance(rng.uniform(0.8, 1.2))
        image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.8, 1.2))
        if size != 28:
            image = image.resize((size, size), Image.BILINEAR)
        image.save(folder / str(int(labels[j])) / f"{i:07d}.png", compress_level=1)


def link_subset(folder: Path, subset: Path, n: int) -> Path:
    """The first `n` files of `folder` (in name order, spread over the classes) as hard links in `subset`."""
    done = subset / ".complete"
    if done.is_file() and done.read_text() == str(n):
        return subset
    shutil.rmtree(subset, ignore_errors=True)
    files = sorted(folder.glob("*/*.png"), key=lambda p: p.name)[:n]
    for file in files:
        target = subset / file.parent.name / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file, target)
        except OSError:
            shutil.copyfile(file, target)
    done.write_text(str(n))
    return subset


def du(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*.png"))


# --- one training run, in a child process -------------------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    import deepscope as ds

    streamed = args.child == "stream"
    config = {
        "data": {"source": str(args.folder), "stream": streamed, "split": {"val": 0, "test": 0}},
        "train": {"epochs": 1, "batch_size": args.batch_size, "seed": 0},
        "diagnose": False, "run": {"root": tempfile.mkdtemp(prefix="deepscope-streaming-runs-"), "report": False},
    }
    started = time.perf_counter()
    run = ds.train(config, progress=False)
    seconds = run.history[0]["time"]
    n = len(run.data.splits["train"])
    print(json.dumps({"examples": n, "seconds": seconds, "total": time.perf_counter() - started,
                      "vmhwm": _status("VmHWM"), "kind": type(run.data.splits["train"]).__name__}))
    shutil.rmtree(config["run"]["root"], ignore_errors=True)


def measure(mode: str, folder: Path, args: argparse.Namespace) -> dict:
    """Run the child for `mode` on `folder`, sampling the memory of its process tree; its result and peaks."""
    command = [sys.executable, __file__, "--child", mode, "--folder", str(folder), "--batch-size", str(args.batch_size)]
    env = {**os.environ, "DEEPSCOPE_STREAM_WORKERS": str(args.workers)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = {"pss": 0, "processes": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            tree = _tree(process.pid)
            total = sum(_pss(pid) for pid in tree)
            if total > peak["pss"]:
                peak.update(pss=total, processes=len(tree))
            stop.wait(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out, err = process.communicate()
    stop.set()
    watcher.join()
    if process.returncode:
        raise SystemExit(f"the {mode} run failed:\n{err[-3000:]}")
    return {**json.loads(out.strip().splitlines()[-1]), "peak_pss": peak["pss"], "processes": peak["processes"]}


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    return 0


# --- the table ----------------------------------------------------------------------------------------------------
def report(args: argparse.Namespace, streamed: dict, in_memory: dict) -> None:
    pixels = args.size * args.size
    decoded = args.images * pixels * (1 + 4)  # uint8 raw + float32 encoded, as the in-memory path holds them
    mb = 2**20
    rate = {name: r["examples"] / r["seconds"] for name, r in (("stream", streamed), ("memory", in_memory))}
    print(f"decoded size of the folder (uint8 pixels + float32 tensors): {decoded / mb:,.0f} MB "
          f"(float32 tensors alone: {args.images * pixels * 4 / mb:,.0f} MB)")
    print(f"{'path':<34} {'examples':>9} {'epoch s':>8} {'examples/s':>11} {'peak PSS MB':>12} {'VmHWM MB':>9}")
    for name, label, r in (("stream", f"streamed, {args.workers} workers ({streamed['kind']})", streamed),
                           ("memory", f"in memory ({in_memory['kind']})", in_memory)):
        print(f"{label:<34} {r['examples']:>9,} {r['seconds']:>8.1f} {rate[name]:>11,.0f} {r['peak_pss'] / mb:>12,.0f} "
              f"{r['vmhwm'] / mb:>9,.0f}")
    ratio, factor = rate["stream"] / rate["memory"], decoded / streamed["peak_pss"]
    print(f"streamed / in-memory examples per second: {ratio:.2f}x (target >= {TARGET}x: "
          f"{'met' if ratio >= TARGET else 'NOT met'})")
    print(f"decoded size / peak memory of the streamed run ({streamed['processes']} processes): {factor:.1f}x "
          f"(target >= {MEMORY_FACTOR}x: {'met' if factor >= MEMORY_FACTOR else 'NOT met'})")


if __name__ == "__main__":
    main()
