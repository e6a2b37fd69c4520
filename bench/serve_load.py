"""Claim (issue 15): deepscope's server, with dynamic batching, out-serves a hand-written FastAPI endpoint and
LitServe on the same model, without costing latency when there is no concurrency.

For each model (the MNIST CNN of examples/mnist.yaml, the BreastMNIST model of examples/breastmnist.yaml) and
each server, one at a time on 127.0.0.1:
- deepscope serve with batching (--max-batch 64 --max-wait-ms 5) and without (--no-batching);
- a minimal hand-written FastAPI + PyTorch endpoint (bench/serving/minimal_fastapi.py), as a `def` (FastAPI runs
  it in its thread pool) and as an `async def` (it computes on the event loop);
- LitServe with its batching at the same maximum batch and wait, and without (bench/serving/litserve_app.py);
Debian's `wrk` (one thread, a Lua script posting {"image": [784 numbers]}) drives 1, 16 and 64 connections for
--duration seconds after a warm-up; it prints requests/s and the p50 / p99 latency. The mean batch size of
deepscope is read from its /metrics before and after. wrk is C: it costs the server's cores far less than a Python
load generator would.

    DEEPSCOPE_DATA=../shared/data python bench/serve_load.py --mnist RUN --breast RUN [--duration 10] [--rounds 3]

These machines are shared and noisy (the same server measured twice a minute apart can differ by 20 %): with
--rounds R every server is measured R times, in turn, and each cell quoted as its median.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

ROOT = Path(__file__).parents[1]
SERVING = Path(__file__).parent / "serving"
MAX_BATCH, MAX_WAIT_MS = 64, 5
CLIENTS = (1, 16, 64)


def servers(run: str) -> dict[str, list[str]]:
    py = sys.executable
    deepscope = [py, "-m", "deepscope.cli", "serve", run, "--max-batch", str(MAX_BATCH), "--max-wait-ms",
                 str(MAX_WAIT_MS), "--port"]
    return {
        "deepscope (batching)": deepscope,
        "deepscope (no batching)": [py, "-m", "deepscope.cli", "serve", run, "--no-batching", "--port"],
        "minimal FastAPI (def)": [py, str(SERVING / "minimal_fastapi.py"), run, "{port}"],
        "minimal FastAPI (async def)": [py, str(SERVING / "minimal_fastapi.py"), run, "{port}", "async"],
        f"LitServe (batching {MAX_BATCH}, {MAX_WAIT_MS} ms)": [py, str(SERVING / "litserve_app.py"), run, "{port}",
                                                              str(MAX_BATCH), str(MAX_WAIT_MS)],
        "LitServe (no batching)": [py, str(SERVING / "litserve_app.py"), run, "{port}", "1", "0"],
    }


def command_for(template: list[str], port: int) -> list[str]:
    if "{port}" in template:
        return [part.replace("{port}", str(port)) for part in template]
    return [*template, str(port)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], url: str) -> subprocess.Popen:
    # a session of its own: LitServe and uvicorn's workers are its children, and all of them go when it does
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    body = json.dumps({"image": [0.0] * 784}).encode()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command} ended: {process.stderr.read().decode()[-2000:]}")
        try:
            request = urllib.request.Request(url + "/predict", data=body, headers={"content-type": "application/json"})
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"{command} did not answer within 120 s")


def lua_script(pixels: list[float]) -> Path:
    body = json.dumps({"image": pixels})
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = {json.dumps(body)}\n")
    return script


def wrk(url: str, clients: int, seconds: float, script: Path) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency", "-s", str(script),
                          url + "/predict"], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rate, "p50": _ms(out, "50%"), "p99": _ms(out, "99%"), "non2xx": int(errors.group(1)) if errors
            else 0}


def _ms(out: str, label: str) -> float:
    value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def batch_counts(url: str) -> tuple[float, float] | None:
    """(rows, forward passes) so far, from deepscope's /metrics; None for the other servers."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    found = dict(re.findall(r"^deepscope_batch_size_(sum|count) ([\d.e+]+)$", text, re.M))
    return (float(found["sum"]), float(found["count"])) if len(found) == 2 else None


def measure(name: str, template: list[str], pixels: list[float], args) -> dict[int, dict[str, float]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(command_for(template, port), url)
    script = lua_script(pixels)
    rows: dict[int, dict[str, float]] = {}
    try:
        wrk(url, 16, args.warmup, script)
        for clients in CLIENTS:
            before = batch_counts(url)
            rows[clients] = wrk(url, clients, args.duration, script)
            after = batch_counts(url)
            if before and after and after[1] > before[1]:
                rows[clients]["batch"] = (after[0] - before[0]) / (after[1] - before[1])
            print(f"  {name:<34} {clients:>3} clients: {rows[clients]['rps']:>8.0f} req/s  p50 "
                  f"{rows[clients]['p50']:>7.1f} ms  p99 {rows[clients]['p99']:>7.1f} ms"
                  + (f"  mean batch {rows[clients]['batch']:.1f}" if "batch" in rows[clients] else "")
                  + (f"  NON-2xx {rows[clients]['non2xx']}" if rows[clients]["non2xx"] else ""), flush=True)
    finally:
        stop(process)
    return rows


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group, SIGKILL to what is left after 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(1.0)  # the children's exits, before the next server is timed
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_pixels(run: str) -> list[float]:
    """One real test image of the run's data, as 0-255 pixel values (what a client sends)."""
    from deepscope.data.sources.builtin import BUILTIN_DATASETS
    from deepscope.track.runinfo import read_run

    source = read_run(run).config["data"]["source"]
    image = BUILTIN_DATASETS.get(source).load().splits["test"]["image"][0]
    return np.asarray(image, dtype=float).reshape(-1).tolist()


def trained(config: str, root: Path) -> str:
    import deepscope as ds

    run = ds.train(ROOT / "examples" / config, {"run.root": str(root)}, progress=False)
    return str(run.dir)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mnist", help="a finished run of examples/mnist.yaml (default: train one)")
    parser.add_argument("--breast", help="a finished run of examples/breastmnist.yaml (default: train one)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per cell")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--only", help="a substring of the server names to run (e.g. deepscope)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every server this many times, in turn, and quote each cell's median")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    runs = {"MNIST CNN": args.mnist or trained("mnist.yaml", root),
            "BreastMNIST": args.breast or trained("breastmnist.yaml", root)}
    print(f"machine: {machine()}; wrk -t1, {args.duration:g} s per cell after {args.warmup:g} s of warm-up; "
          f"load average {os.getloadavg()[0]:.2f}")
    measured: dict[tuple[str, str], list[dict]] = {}
    for round_ in range(args.rounds):  # in turn, so that a noisy minute spreads over every server alike
        for model, run in runs.items():
            print(f"{model}: {run}" + (f"  (round {round_ + 1} of {args.rounds})" if args.rounds > 1 else ""))
            pixels = test_pixels(run)
            for name, template in servers(run).items():
                if not args.only or args.only in name:
                    measured.setdefault((model, name), []).append(measure(name, template, pixels, args))
    print_summary({key: medians(rounds) for key, rounds in measured.items()})


def medians(rounds: list[dict[int, dict[str, float]]]) -> dict[int, dict[str, float]]:
    """Each cell's median over the rounds, figure by figure."""
    return {clients: {figure: float(np.median([r[clients][figure] for r in rounds])) for figure in rounds[0][clients]}
            for clients in CLIENTS}


def print_summary(table: dict) -> None:
    print("\nreq/s (p99 ms) at 1 / 16 / 64 clients (with --rounds, each cell's median)")
    for (model, name), rows in table.items():
        cells = "  ".join(f"{rows[c]['rps']:>7.0f} ({rows[c]['p99']:>6.1f})" for c in CLIENTS)
        print(f"{model:<12} {name:<34} {cells}")
    for model in sorted({m for m, _ in table}):
        ours = table.get((model, "deepscope (batching)"))
        lit = next((rows for (m, n), rows in table.items() if m == model and n.startswith("LitServe (batching")), None)
        for name in ("minimal FastAPI (def)", "minimal FastAPI (async def)"):
            minimal = table.get((model, name))
            if ours and minimal:
                print(f"{model}: deepscope (batching) / {name}: at 64 clients "
                      f"{ours[64]['rps'] / minimal[64]['rps']:.2f}x (target >= 2), at 1 client "
                      f"{ours[1]['rps'] / minimal[1]['rps']:.2f}x (target >= 1)")
        if ours and lit:
            print(f"{model}: deepscope (batching) / LitServe (batching) at 64 clients: "
                  f"{ours[64]['rps'] / lit[64]['rps']:.2f}x (target > 1); deepscope's p99 at 64 clients "
                  f"{ours[64]['p99']:.1f} ms (target < 100 ms on the MNIST CNN)")

if __name__ == "__main__":
    main()
