"""IDX files (the format of MNIST and its kin): one n-dimensional array, big-endian, optionally gzipped.

Layout: a 4-byte magic number `0x00 0x00 <dtype code> <ndim>`, then `ndim` big-endian uint32 sizes, then the
values in row-major order, big-endian.

    images = read_idx("train-images-idx3-ubyte.gz")   # uint8 (60000, 28, 28)
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from deepscope.errors import DataError

# dtype code (third magic byte) -> big-endian numpy dtype
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, gzipped or not, into an array in native byte order.

    Whether the file is gzipped is read from its first bytes, not its name, so a decompressed file that
    kept its `.gz` name still reads.

    Args:
        path: the IDX file, e.g. `t10k-labels-idx1-ubyte.gz`.

    Returns:
        An array with the file's dtype and shape, e.g. uint8 (10000,) for MNIST test labels.

    Raises:
        DataError: the file is not IDX (wrong magic number), is truncated, or is a broken gzip.

    Example:
        >>> labels = read_idx("t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
        >>> labels.shape, labels.dtype
        ((10000,), dtype('uint8'))
    """
    path = Path(path)
    data = _read_bytes(path)
    dtype, shape = _parse_header(path, data)
    offset = 4 + 4 * len(shape)
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - offset
    if actual != expected:
        problem = "is truncated" if actual < expected else "has extra bytes at the end"
        raise DataError(
            f"{path}: this IDX file {problem}: its header says {shape} values ({expected} bytes), but it has "
            f"{actual} bytes of data. Download it again."
        )
    values = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    # native byte order, and a writable copy (frombuffer over bytes is read-only)
    return values.astype(dtype.newbyteorder("="))


def is_idx_name(name: str) -> bool:
    """Whether a file name is an IDX file's: `train-images-idx3-ubyte[.gz]`, `t10k-labels.idx1-ubyte`, `x.idx`.

    >>> is_idx_name("t10k-labels-idx1-ubyte.gz"), is_idx_name("labels.csv")
    (True, False)
    """
    name = name.lower().removesuffix(".gz")
    return name.endswith((".idx", "-ubyte", ".ubyte")) or "-idx" in name or ".idx" in name


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        if data[:2] == GZIP_MAGIC:
            data = gzip.decompress(data)
    except FileNotFoundError as error:
        raise DataError(f"{path}: no such file") from error
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{path}: cannot read this gzip file ({error}); it is probably cut short. "
                        "Download it again.") from error
    return data


def _parse_header(path: Path, data: bytes) -> tuple[np.dtype, tuple[int, ...]]:
    """(dtype, shape) from the magic number and the dimension sizes."""
    magic = data[:4]
    if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] not in IDX_DTYPES or magic[3] == 0:
        raise DataError(
            f"{path}: not an IDX file (magic number {magic.hex() or 'missing'}; IDX files start with "
            "0000 then a type code 08-0e and the number of dimensions)"
        )
    ndim = magic[3]
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path}: this IDX file is truncated inside its header. Download it again.")
    shape = tuple(int(n) for n in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    return IDX_DTYPES[magic[2]], shape


def write_idx(path: str | Path, values: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write `values` as an IDX file (gzipped when `compress`, default: when the name ends in .gz).

    For tests and for turning arrays into MNIST-style files.

    Example:
        >>> write_idx("labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8))  # doctest: +SKIP
    """
    path = Path(path)
    values = np.asarray(values)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    code = codes.get(values.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot hold {values.dtype}; use one of {sorted(map(str, codes))}")
    header = bytes([0, 0, code, values.ndim]) + np.asarray(values.shape, dtype=">u4").tobytes()
    data = header + values.astype(IDX_DTYPES[code]).tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path
