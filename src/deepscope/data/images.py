"""Image files, opened with their size checked before a pixel is decoded.

    with open_image("photo.jpg") as image:     # lazy: only the header has been read
        image.load()

`Image.open` reads only the header, so the size an image claims is known before it is decoded; a 30,000 x 30,000
PNG of one colour is a few kilobytes on disk and 2.7 GB decoded. Every reader of image files (the image
feature at prediction time, the image folder source in training) opens them here, so the limit is one number.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from deepscope.errors import DataError

# 50 megapixels: an 8000 x 6000 photo (48 Mpixel, the largest common camera size) fits; decoded as RGB, 150 MB
MAX_PIXELS = 50_000_000
SHRINK = "shrink it first, e.g. `convert {name} -resize 4000x4000 smaller.png` (ImageMagick)"


def open_image(source: str | Path | BinaryIO, name: str | None = None) -> Image.Image:
    """The image file at `source` (a path, or an open binary file such as an upload, named by `name`), opened
    lazily; a DataError naming the file when it is not a readable image or its header claims more than
    MAX_PIXELS pixels."""
    name = name or str(source)
    try:
        with warnings.catch_warnings():  # Pillow warns past 89 Mpixel; the size is judged below instead
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)
    except Image.DecompressionBombError as error:  # Pillow's own refusal, past 179 Mpixel
        raise DataError(f"{name}: {error}; deepscope decodes images of at most {MAX_PIXELS / 1e6:g} Mpixel: "
                        + SHRINK.format(name=name)) from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as error:
        # OSError covers UnidentifiedImageError and truncated data; Pillow's older plugins raise SyntaxError
        detail = error if isinstance(source, (str, Path)) else "not a format Pillow decodes"  # no object repr
        raise DataError(f"{name}: not a readable image ({detail})") from None
    check_pixels(image, name)
    return image


def check_pixels(image: Image.Image, source: str | Path) -> None:
    """A DataError when `image` (opened, not yet decoded) is larger than MAX_PIXELS."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise DataError(f"{source}: {width:,} x {height:,} pixels ({width * height / 1e6:,.0f} Mpixel), more than "
                        f"the {MAX_PIXELS / 1e6:g} Mpixel deepscope decodes; " + SHRINK.format(name=source))
