"""Claim (issue 15): the server survives any mix of good and bad requests without leaking: after 10,000 mixed
requests its memory is within 10 % of where it started, and it still answers.

`deepscope serve RUN --api-key-env` in its own process; 8 client threads send good predictions (JSON and file
uploads) and every kind of bad one (wrong shape, wrong type, missing and unknown fields, broken JSON, bytes that
are not an image, an oversized body, no key, a wrong key), round robin. The server's resident memory (VmRSS) is
read after a warm-up of 500 requests and again at the end.

    DEEPSCOPE_DATA=../shared/data python bench/serve_soak.py --run RUN [--requests 10000]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

KEY = "soak-key"
WARMUP = 500


def requests_for(height: int, width: int) -> list[tuple[str, bytes, dict[str, str], int]]:
    """(name, body, headers, expected status): the round robin of good and bad requests."""
    good = json.dumps({"image": np.zeros((height, width)).tolist()}).encode()
    png = io.BytesIO()
    Image.fromarray(np.zeros((height, width), dtype=np.uint8)).save(png, format="PNG")
    boundary = "soakboundary"
    upload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n".encode()
              + png.getvalue() + f"\r\n--{boundary}--\r\n".encode())
    not_image = upload.replace(png.getvalue(), b"GIF89a definitely not an image")
    json_headers = {"Content-Type": "application/json", "X-API-Key": KEY}
    form_headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-API-Key": KEY}
    return [
        ("good json", good, json_headers, 200),
        ("good upload", upload, form_headers, 200),
        ("wrong shape", json.dumps({"image": [0.0] * 7}).encode(), json_headers, 422),
        ("wrong type", json.dumps({"image": "pixels"}).encode(), json_headers, 422),
        ("missing field", b"{}", json_headers, 422),
        ("unknown field", json.dumps({"image": [0.0] * (height * width), "x": 1}).encode(), json_headers, 422),
        ("broken json", b'{"image": [0, 0', json_headers, 422),
        ("not an image", not_image, form_headers, 422),
        ("oversized", b"[" + b"0," * 600_000 + b"0]", json_headers, 413),
        ("no key", good, {"Content-Type": "application/json"}, 401),
        ("wrong key", good, {"Content-Type": "application/json", "X-API-Key": "guess"}, 403),
    ]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def send(port: int, case: tuple[str, bytes, dict[str, str], int]) -> tuple[str, bool]:
    name, body, headers, expected = case
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/predict", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return name, answer.status == expected
    except (ConnectionError, http.client.HTTPException):  # the server may close on an oversized body
        return name, name == "oversized"
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True, help="a finished image run (MNIST CNN of examples/mnist.yaml)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "SOAK_KEY": KEY}
    server = subprocess.Popen([sys.executable, "-m", "deepscope.cli", "serve", args.run, "--port", str(port),
                               "--api-key-env", "SOAK_KEY", "--max-body-mb", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(port)
        from deepscope.models.saving import load_model

        shape = load_model(args.run).inputs["image"].fitted
        cases = requests_for(shape["height"], shape["width"])
        print(f"machine: {machine()}; {args.requests:,} requests from {args.threads} threads, "
              f"{len(cases)} kinds round robin")
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(lambda i: send(port, cases[i % len(cases)]), range(WARMUP)))
            start_mb = rss_mb(server.pid)
            started = time.perf_counter()
            results = list(pool.map(lambda i: send(port, cases[i % len(cases)]), range(args.requests)))
        seconds = time.perf_counter() - started
        end_mb = rss_mb(server.pid)
        wrong = Counter(name for name, ok in results if not ok)
        print(f"{args.requests:,} requests in {seconds:.1f} s; answers as expected: "
              f"{sum(ok for _, ok in results):,}" + (f"; unexpected: {dict(wrong)}" if wrong else ""))
        health = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        health.request("GET", "/health")
        print(f"/health afterwards: {health.getresponse().status}")
        print(f"server memory (VmRSS): {start_mb:.1f} MB after {WARMUP} warm-up requests -> {end_mb:.1f} MB after "
              f"{args.requests:,} more: {100 * (end_mb - start_mb) / start_mb:+.1f} % (target within 10 %)")
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not start")


if __name__ == "__main__":
    main()
