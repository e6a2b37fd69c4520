"""`deepscope serve` as a user starts it, in a process of its own: SIGTERM while 64 requests are in flight, and
every one of them still gets its answer before the server exits; `deepscope predict --server` against it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np

IN_FLIGHT = 64


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, server: subprocess.Popen, seconds: float = 60, key: str | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode()
        try:
            request = urllib.request.Request(url + "/ready", headers={"X-API-Key": key} if key else {})
            with urllib.request.urlopen(request, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not become ready")


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/predict", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def test_sigterm_with_64_requests_in_flight_answers_every_one(image_run):
    """64 clients have sent their headers and half their body when SIGTERM comes (slow uploads: the server holds all
    64); they finish sending after it, and every one gets its prediction before the server exits."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "deepscope.cli", "serve", image_run, "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
    try:
        wait_until_ready(url, server)
        body = json.dumps({"image": np.zeros((8, 8)).tolist()}).encode()
        head = (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        clients = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(IN_FLIGHT)]
        for c in clients:
            c.sendall(head + body[: len(body) // 2])
        time.sleep(1.0)  # the server has read every header and is waiting for the rest of each body
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        for c in clients:
            c.sendall(body[len(body) // 2 :])
        answers = [_read_all(c) for c in clients]
        assert all(a.startswith(b"HTTP/1.1 200") for a in answers), answers[0][:200]
        assert all(b'"label"' in a and b'"probabilities"' in a for a in answers)
        # uvicorn re-raises the signal once it has shut down cleanly, so a supervisor sees "ended by SIGTERM"
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Traceback" not in server.stderr.read().decode()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    connection.close()
    return b"".join(chunks)


def test_predict_with_server_sends_files_rows_and_keys_to_a_running_server(image_run, tmp_path):
    """`deepscope predict RUN INPUT --server URL` against `deepscope serve RUN --api-key-env`: the same rows as
    a local prediction; without the key, exit 2 with the server's reason."""
    from PIL import Image

    import deepscope as ds

    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SERVE_KEY": "k3y", "COLUMNS": "200"}
    server = subprocess.Popen([sys.executable, "-m", "deepscope.cli", "serve", image_run, "--port", str(port),
                               "--api-key-env", "SERVE_KEY"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_until_ready(url, server, key="k3y")
        out = tmp_path / "remote.csv"
        sent = subprocess.run([sys.executable, "-m", "deepscope.cli", "predict", image_run, str(folder), "--server",
                               url, "--api-key-env", "SERVE_KEY", "-o", str(out)], capture_output=True, text=True,
                              env=env)
        assert sent.returncode == 0, sent.stderr
        local = ds.predict(image_run, folder)
        lines = out.read_text().splitlines()
        assert len(lines) == 4 and [line.split(",")[1] for line in lines[1:]] == [str(r["label"]) for r in local]
        refused = subprocess.run([sys.executable, "-m", "deepscope.cli", "predict", image_run, str(folder),
                                  "--server", url], capture_output=True, text=True, env=env)
        assert refused.returncode == 2 and "answered 401" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_two_workers_share_the_port_and_both_answer(image_run):
    """--workers 2: two processes, each with its own model, behind one port; /metrics counts per process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "deepscope.cli", "serve", image_run, "--port", str(port),
                               "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until_ready(url, server)
        body = {"image": np.zeros((8, 8)).tolist()}
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda _: post(url, body), range(64)))
        assert [status for status, _ in results] == [200] * 64
        first = results[0][1]  # the same model in both (to float rounding: batches differ in size)
        assert all(answer["label"] == first["label"] for _, answer in results)
        assert all(abs(answer["probabilities"][c] - p) < 1e-5 for _, answer in results
                   for c, p in first["probabilities"].items())
        workers = _children(server.pid)
        assert len(workers) >= 2, workers
    finally:
        server.terminate()
        server.wait(timeout=30)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found
