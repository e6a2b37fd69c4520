"""A folder of images with one sub-folder per class, optionally already split into train/ val/ test/.

    photos/                      photos/
      cat/ 001.png 002.jpg         train/ cat/ ...  dog/ ...
      dog/ 001.png ...             test/  cat/ ...  dog/ ...
                                   val/   ...                 (val/ optional)

    raw = load_image_folder("photos")            # one "train" split; splits are made later
    raw.splits["train"]["image"].shape           # (N, H, W) for greyscale, (N, H, W, 3) for colour
    raw.splits["train"]["label"][:2]             # array(['cat', 'cat'], dtype=object)

A corrupt or unreadable image does not stop training on thousands of good ones: it is skipped, logged as a
warning, and listed in `RawData.skipped` as "<path>: <reason>" so the report can show it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from deepscope.data.images import open_image
from deepscope.data.sources.base import SPLITS, RawData
from deepscope.data.suffixes import IMAGE_SUFFIXES
from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")

SPLIT_ALIASES = {"valid": "val", "validation": "val"}
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})
LAYOUT = (
    "expected one sub-folder per class with the images inside (e.g. {path}/cat/1.png, {path}/dog/1.png), "
    "or train/ and test/ (and optionally val/) sub-folders laid out that way"
)


@dataclass
class _Decoded:
    split: str
    label: str
    image: Image.Image


def load_image_folder(
    path: str | Path, *, size: tuple[int, int] | None = None, channels: int | None = None
) -> RawData:
    """Decode every image under `path` into one uint8 array per split, labelled by its class folder.

    Args:
        path: the folder (see the layouts above). Files other than PNG/JPEG/BMP/GIF and hidden files are
            ignored; images may sit in nested folders below their class folder.
        size: (height, width) of the result; default: the most common size. Other sizes are resized (bilinear).
        channels: 1 (greyscale) or 3 (RGB); default: 1 if every image is greyscale, else 3.

    Returns:
        RawData with columns `image` (N, H, W) or (N, H, W, 3) uint8 and `label` (object array of class names),
        suggested inputs {"image": "image"} and outputs {"label": "category"}.

    Raises:
        DataError: the folder is missing, has no class sub-folders, or holds no readable image.

    Example:
        >>> raw = load_image_folder("photos", size=(64, 64), channels=3)  # doctest: +SKIP
        >>> raw.splits["train"]["image"].shape                            # doctest: +SKIP
        (120, 64, 64, 3)
    """
    path = Path(path)
    if channels not in (None, 1, 3):
        raise ConfigError(f"channels: {channels!r} is not 1 (greyscale) or 3 (RGB)")
    if size is not None and (len(size) != 2 or not all(isinstance(n, int) and n > 0 for n in size)):
        raise ConfigError(f"size: {size!r} is not (height, width) in whole pixels, e.g. [64, 64]")
    skipped: list[str] = []
    decoded = [
        item
        for split, folder in _split_folders(path).items()
        for label, file in _image_files(folder, path, skipped)
        if (item := _decode(file, split, label, skipped)) is not None
    ]
    if not decoded:
        reasons = "; ".join(skipped[:3]) or "no image files"
        raise DataError(f"{path}: no readable images ({reasons}). {LAYOUT.format(path=path)}")
    channels = channels or (1 if all(d.image.mode in GREY_MODES for d in decoded) else 3)
    size = tuple(size) if size else Counter((d.image.height, d.image.width) for d in decoded).most_common(1)[0][0]
    splits = {split: _to_columns([d for d in decoded if d.split == split], size, channels) for split in SPLITS}
    splits = {split: columns for split, columns in splits.items() if columns}
    if "train" not in splits:
        raise DataError(f"{path / 'train'}: no readable training images. {LAYOUT.format(path=path)}")
    return RawData(
        splits, inputs={"image": "image"}, outputs={"label": "category"}, skipped=skipped,
        description=f"images from {path} ({sum(len(c['label']) for c in splits.values())} files)",
    )


def _split_folders(path: Path) -> dict[str, Path]:
    """{"train": path} for a plain class layout, or {"train": path/train, "test": path/test, ...}."""
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "no such folder"
        raise DataError(f"{path}: {what}; {LAYOUT.format(path=path)}")
    names = {SPLIT_ALIASES.get(c.name.lower(), c.name.lower()): c for c in _sub_folders(path)}
    # train/ beside test/ or val/ means the split is given; a lone train/ would just be a class named "train"
    if "train" in names and ("test" in names or "val" in names):
        return {split: names[split] for split in SPLITS if split in names}
    return {"train": path}


def _sub_folders(folder: Path) -> list[Path]:
    return sorted(c for c in folder.iterdir() if c.is_dir() and not c.name.startswith("."))


def _image_files(folder: Path, root: Path, skipped: list[str]) -> list[tuple[str, Path]]:
    """(class name, file) for every image file below the class folders of `folder`."""
    classes = _sub_folders(folder)
    if not classes:
        raise DataError(f"{folder}: no class sub-folders; {LAYOUT.format(path=root)}")
    files = []
    for class_folder in classes:
        found = sorted(
            f for f in class_folder.rglob("*")
            if f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".") and f.is_file()
        )
        if not found:
            _skip(skipped, class_folder, f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in this class folder")
        files += [(class_folder.name, f) for f in found]
    return files


def _decode(file: Path, split: str, label: str, skipped: list[str]) -> _Decoded | None:
    """Open and fully decode one image, or record why it cannot be used."""
    try:
        with open_image(file) as opened:  # refuses a header claiming more than MAX_PIXELS before decoding
            opened.load()  # decode now: a truncated file fails here, not later in the middle of training
            image = opened.copy()
    except DataError as error:
        _skip(skipped, file, str(error).removeprefix(f"{file}: "))
        return None
    except (OSError, ValueError, SyntaxError) as error:
        # OSError covers truncated data; Pillow's older plugins raise SyntaxError
        _skip(skipped, file, f"not a readable image ({error})")
        return None
    return _Decoded(split, label, image)


def _to_columns(items: list[_Decoded], size: tuple[int, int], channels: int) -> dict[str, np.ndarray]:
    if not items:
        return {}
    height, width = size
    mode = "L" if channels == 1 else "RGB"
    images = np.empty((len(items), height, width) + ((3,) if channels == 3 else ()), dtype=np.uint8)
    for i, item in enumerate(items):
        image = item.image.convert(mode) if item.image.mode != mode else item.image
        if image.size != (width, height):  # PIL sizes are (width, height)
            image = image.resize((width, height), Image.BILINEAR)
        images[i] = np.asarray(image, dtype=np.uint8)
    labels = np.empty(len(items), dtype=object)
    labels[:] = [item.label for item in items]
    return {"image": images, "label": labels}


def _skip(skipped: list[str], path: Path, reason: str) -> None:
    log.warning("skipped %s: %s", path, reason)
    skipped.append(f"{path}: {reason}")
