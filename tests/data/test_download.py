"""download(): against a real local HTTP server that supports Range requests (no outside network)."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest

from deepscope.data.sources.builtin import BUILTIN_DATASETS, DataFile, dataset_status
from deepscope.data.sources.download import download, file_checksum
from deepscope.errors import DataError

PAYLOAD = bytes(range(256)) * 40  # 10 KiB, every byte value


class FileServer:
    """Serves `files` (URL path -> bytes) on 127.0.0.1; honours `Range: bytes=N-` unless told to ignore it."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.ranges: list[str | None] = []  # the Range header of every request, in order
        self.honour_ranges = True
        handler = self._handler()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # a short poll interval makes shutdown() (each test's teardown) quick
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{name}"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                header = self.headers.get("Range")
                server.ranges.append(header)
                body = server.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                start = int(header.removeprefix("bytes=").split("-")[0]) if header else 0
                if header and server.honour_ranges:
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                    body = body[start:]
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

        return Handler


@pytest.fixture
def server():
    served = FileServer()
    served.thread.start()
    yield served
    served.httpd.shutdown()
    served.httpd.server_close()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_downloads_and_verifies_sha256(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    dest = download(server.url("a.bin"), tmp_path / "sub" / "a.bin", sha256(PAYLOAD))
    assert dest == tmp_path / "sub" / "a.bin"
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "a.bin.part").exists()
    assert server.ranges == [None]


def test_resumes_a_partial_download_with_a_range_request(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    half = len(PAYLOAD) // 2
    (tmp_path / "a.bin.part").write_bytes(PAYLOAD[:half])
    dest = download(server.url("a.bin"), tmp_path / "a.bin", sha256(PAYLOAD))
    assert server.ranges == [f"bytes={half}-"]
    assert dest.read_bytes() == PAYLOAD


def test_restarts_when_the_server_ignores_the_range(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    server.honour_ranges = False
    (tmp_path / "a.bin.part").write_bytes(PAYLOAD[:100])
    dest = download(server.url("a.bin"), tmp_path / "a.bin", sha256(PAYLOAD))
    assert server.ranges == ["bytes=100-"]
    assert dest.read_bytes() == PAYLOAD  # the 200 body replaced the .part instead of being appended


def test_wrong_checksum_deletes_the_download_and_names_both_digests(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    wrong = "0" * 64
    with pytest.raises(DataError) as error:
        download(server.url("a.bin"), tmp_path / "a.bin", f"sha256:{wrong}")
    message = str(error.value)
    assert server.url("a.bin") in message and wrong in message
    assert hashlib.sha256(PAYLOAD).hexdigest() in message
    assert not (tmp_path / "a.bin").exists() and not (tmp_path / "a.bin.part").exists()


def test_md5_checksums_work(server, tmp_path):
    server.files["b.bin"] = b"hello"
    dest = download(server.url("b.bin"), tmp_path / "b.bin", "md5:" + hashlib.md5(b"hello").hexdigest())
    assert dest.read_bytes() == b"hello"
    assert file_checksum(dest, "md5") == "5d41402abc4b2a76b9719d911017c592"
    assert file_checksum(dest, "sha256") == hashlib.sha256(b"hello").hexdigest()


def test_http_404_names_the_url_and_where_to_put_the_file(server, tmp_path):
    with pytest.raises(DataError, match=r"HTTP 404") as error:
        download(server.url("missing.bin"), tmp_path / "missing.bin", sha256(b""))
    assert server.url("missing.bin") in str(error.value)
    assert str(tmp_path / "missing.bin") in str(error.value)
    assert not (tmp_path / "missing.bin").exists()


def test_connection_refused_is_a_data_error(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DataError, match="could not download"):
        download(f"http://127.0.0.1:{port}/x", tmp_path / "x", sha256(b""), timeout=5)


def test_malformed_checksum_is_a_bug_not_a_user_error(tmp_path):
    with pytest.raises(ValueError, match="sha256:<hex>"):
        download("http://127.0.0.1:1/x", tmp_path / "x", "crc32:1234")


def test_builtin_downloads_into_the_cache_and_verifies(server, tmp_path, monkeypatch):
    buffer = tmp_path / "served.npz"
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 6), ("val", 2), ("test", 3)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, 2, (n, 1), dtype=np.uint8)  # (N, 1), as the official file
    np.savez_compressed(buffer, **arrays)
    server.files["breastmnist.npz"] = buffer.read_bytes()
    dataset = BUILTIN_DATASETS.get("breastmnist")
    checksum = sha256(buffer.read_bytes())
    monkeypatch.setattr(dataset, "files", (DataFile("breastmnist.npz", server.url("breastmnist.npz"), checksum),))
    monkeypatch.setenv("DEEPSCOPE_DATA", str(tmp_path / "data"))  # empty: nothing placed by hand
    monkeypatch.setenv("DEEPSCOPE_CACHE", str(tmp_path / "cache"))

    assert dataset_status("breastmnist")[0] is False
    raw = dataset.load()
    cached = tmp_path / "cache" / "breastmnist" / "breastmnist.npz"
    assert file_checksum(cached) == checksum.removeprefix("sha256:")
    assert dataset_status("breastmnist") == (True, str(cached.parent))
    assert [raw.size(s) for s in ("train", "val", "test")] == [6, 2, 3]
    assert raw.splits["val"]["label"].shape == (2,)  # flattened
    assert raw.outputs == {"label": "binary"}

    raw_again = dataset.load()  # found in the cache: no second request
    assert len(server.ranges) == 1
    np.testing.assert_array_equal(raw_again.splits["test"]["image"], arrays["test_images"])


def test_builtin_download_with_a_wrong_checksum_keeps_nothing(server, tmp_path, monkeypatch):
    server.files["breastmnist.npz"] = b"not the real file"
    dataset = BUILTIN_DATASETS.get("breastmnist")
    wrong = DataFile("breastmnist.npz", server.url("breastmnist.npz"), "md5:" + "0" * 32)
    monkeypatch.setattr(dataset, "files", (wrong,))
    monkeypatch.delenv("DEEPSCOPE_DATA", raising=False)
    monkeypatch.setenv("DEEPSCOPE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="DEEPSCOPE_DATA"):
        dataset.load()
    assert list((tmp_path / "cache" / "breastmnist").iterdir()) == []
