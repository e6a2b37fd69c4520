"""Download a file once, resume it if interrupted, and never keep a file whose checksum is wrong.

    download("https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
             Path("~/.cache/deepscope/mnist/t10k-labels-idx1-ubyte.gz").expanduser(),
             "sha256:f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")

The bytes go to `<dest>.part` first. An interrupted download leaves that .part behind, and the next call asks
the server for the rest only (an HTTP `Range` request). Only a complete file whose checksum matches is renamed
onto `dest`, atomically, so `dest` either does not exist or is right.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from deepscope.errors import DataError
from deepscope.io import fsync_folder

ALGORITHMS = ("sha256", "md5")
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60.0  # per blocking socket operation (connect, each read), not for the whole download

# What a flaky network or server raises from urlopen / read. Other OSErrors (a full disk, no permission to
# write the cache) are not the network's fault and keep their own message.
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError)


def parse_checksum(checksum: str) -> tuple[str, str]:
    """`"sha256:ab12..."` -> `("sha256", "ab12...")`. A malformed checksum is a bug in the caller."""
    algo, _, digest = checksum.partition(":")
    if algo not in ALGORITHMS or not digest:
        raise ValueError(f"checksum {checksum!r} is not 'sha256:<hex>' or 'md5:<hex>'")
    return algo, digest.lower()


def file_checksum(path: str | Path, algo: str = "sha256") -> str:
    """The hex digest of a file, read in chunks so large files need little memory.

    Args:
        path: the file.
        algo: "sha256" or "md5".

    Example:
        >>> file_checksum("breastmnist.npz", "md5")  # doctest: +SKIP
        '750601b1f35ba3300ea97c75c52ff8f6'
    """
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown checksum algorithm {algo!r}; use one of {ALGORITHMS}")
    digest = hashlib.new(algo)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest: str | Path, checksum: str, *, timeout: float = TIMEOUT_S, hint: str = "") -> Path:
    """Download `url` to `dest` and check it against `checksum`; resume a partial download if one exists.

    Args:
        url: http(s) or file URL.
        dest: where the finished file goes; its folder is created if needed.
        checksum: `"sha256:<hex>"` or `"md5:<hex>"` of the complete file.
        timeout: seconds to wait for the server on each connect or read.
        hint: an extra sentence for error messages (e.g. another place the file could be put by hand).

    Returns:
        `dest`, which now holds the verified file.

    Raises:
        DataError: the network failed (the partial download is kept, so a retry resumes), or the checksum of
            the downloaded file is wrong (the partial file is deleted, so a retry starts afresh).

    Example:
        >>> download("https://example.org/data.csv", Path("data.csv"), "sha256:9f86d0...")  # doctest: +SKIP
    """
    algo, expected = parse_checksum(checksum)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_suffix(dest.suffix + ".part")
    try:
        _fetch(url, part, timeout)
    except NETWORK_ERRORS as error:
        raise DataError(
            f"could not download {url}: {_reason(error)}. Check the network and try again (a retry resumes "
            f"where this one stopped), or download the file yourself and put it at {dest}.{_sentence(hint)}"
        ) from error
    actual = file_checksum(part, algo)
    if actual != expected:
        part.unlink(missing_ok=True)
        raise DataError(
            f"the file downloaded from {url} is not the expected one: its {algo} is {actual}, expected "
            f"{expected}. The download was deleted; try again, or put a correct copy at {dest}.{_sentence(hint)}"
        )
    os.replace(part, dest)  # atomic: dest is never seen half-written
    fsync_folder(dest.parent)
    return dest


def _fetch(url: str, part: Path, timeout: float) -> None:
    """Bring `part` up to the whole file: append the missing bytes if the server can send a range."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "deepscope"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            return  # nothing left to send: the .part is already whole; the checksum decides whether it is right
        raise
    with response:
        # 206 carries the rest of the file; 200 is the whole file again (the server ignored Range).
        resumed = response.status == 206
        if resumed and _range_start(response) != offset:
            part.unlink(missing_ok=True)  # never splice in bytes from the wrong place; the retry starts afresh
            raise http.client.HTTPException(f"the server sent a range that does not start at byte {offset}")
        with open(part, "ab" if resumed else "wb") as out:
            shutil.copyfileobj(response, out, CHUNK_BYTES)
            out.flush()
            os.fsync(out.fileno())


def _range_start(response: http.client.HTTPResponse) -> int | None:
    """The first byte of a 206 body, from `Content-Range: bytes <start>-<end>/<total>`."""
    content_range = response.headers.get("Content-Range", "")
    unit, _, span = content_range.partition(" ")
    try:
        return int(span.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__


def _sentence(hint: str) -> str:
    return f" {hint}" if hint else ""
