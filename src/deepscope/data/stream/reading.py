"""One reference (a file path, or a member of a tar shard) -> the raw value a feature encodes.

    read_value("image", "photos/cat/1.png")                  # PIL image, decoded (a DataError names the file)
    read_value("text", "reviews/pos/1.txt")                  # str
    read_value("image", "shards/train-000000.tar::1536::812::000001.png")   # a shard member: offset, size, name

A shard member is read with one seek and one read, not by walking the tar, so batches come in any order at the
cost of a file read each: what makes a permutation of a whole epoch possible without a shuffle buffer.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from deepscope.data.images import open_image
from deepscope.data.sources.encoding import decode_text
from deepscope.data.wav import decode_wav, read_wav
from deepscope.errors import DataError

ADVICE = ("; a streamed split decodes each image as training reads it, so remove or replace the file (or set "
          "data.stream: false, which leaves such files out)")
MEMBER = "::"  # separates a shard's path, a member's data offset, its size and its name in a reference


def member_reference(shard: Path | str, offset: int, size: int, name: str) -> str:
    return f"{shard}{MEMBER}{offset}{MEMBER}{size}{MEMBER}{name}"


def read_bytes(reference: str) -> tuple[bytes, str]:
    """The bytes a reference points at, and a name for messages (the file, or `shard.tar:member`)."""
    parts = reference.split(MEMBER)
    try:
        if len(parts) == 4:
            shard, offset, size, name = parts
            with open(shard, "rb") as handle:
                handle.seek(int(offset))
                data = handle.read(int(size))
            if len(data) != int(size):
                raise DataError(f"{shard}:{name}: the shard is cut short ({len(data)} of {size} bytes); write it "
                                "again with `deepscope shard`")
            return data, f"{shard}:{name}"
        return Path(reference).read_bytes(), reference
    except OSError as error:
        where = parts[0] if len(parts) == 4 else reference
        raise DataError(f"{where}: cannot be read ({error.strerror or error})") from None


def read_value(kind: str, reference: str) -> Any:
    """The raw value of one example: a decoded PIL image, a Recording, or a text."""
    if kind == "image":
        return read_image(reference)
    if kind == "audio":
        if MEMBER not in reference:
            return read_wav(reference)
        data, name = read_bytes(reference)
        return decode_wav(data, name)
    if kind == "text":
        data, name = read_bytes(reference)
        decoded = decode_text(data, None, name)
        text = decoded.text.strip()
        if not text:
            raise DataError(f"{name}: empty text; remove the file or write the example in it")
        return text
    raise ValueError(f"no reader for {kind!r} references")


def read_image(reference: str) -> Image.Image:
    """A decoded image; a corrupt or cut-short file is a DataError naming it, with what to do."""
    if MEMBER in reference:
        data, name = read_bytes(reference)
        source: Any = io.BytesIO(data)
    else:
        source, name = reference, reference
    try:
        image = open_image(source, name)
        image.load()  # decode now: a truncated file fails here, with its name, not inside a feature
    except DataError as error:
        raise DataError(f"{error}{ADVICE}") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise DataError(f"{name}: not a readable image ({error}){ADVICE}") from None
    return image


def decoded_images(references: Any, geometry: tuple[int, int, int]) -> np.ndarray:
    """(N, H, W) uint8 for greyscale, (N, H, W, 3) for colour, converted and resized (bilinear) only where an
    image differs: the arrays the in-memory image folder holds, so both paths encode the same pixels."""
    height, width, channels = geometry
    mode = "L" if channels == 1 else "RGB"
    out = np.empty((len(references), height, width) + ((3,) if channels == 3 else ()), dtype=np.uint8)
    for row, reference in enumerate(references):
        image = read_image(reference)
        image = image.convert(mode) if image.mode != mode else image
        if image.size != (width, height):
            image = image.resize((width, height), Image.BILINEAR)
        out[row] = np.asarray(image, dtype=np.uint8)
    return out
