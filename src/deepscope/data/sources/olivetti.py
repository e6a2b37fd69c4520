"""The Olivetti faces (AT&T / ORL Database of Faces): 400 grey photographs, 64x64, of 40 people, 10 each.

Read from `olivettifaces.mat`, Sam Roweis's 64x64 version (the file scikit-learn's `fetch_olivetti_faces` reads):
one MATLAB v5 variable `faces`, uint8 of shape (4096, 400), column i image i stored column-major, images in
order of person (images 10k .. 10k+9 are person k). There is no official split: the usual protocol is a split
stratified by person, `data.split: {test: 0.3, val: 0.0}` for 7 training / 3 test images each.

    raw = read_olivetti(Path("olivettifaces.mat"))
    raw.splits["train"]["image"].shape, raw.splits["train"]["label"][:12]   # (400, 64, 64), [0 ... 0 1 1]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepscope.data.sources.base import RawData
from deepscope.errors import DataError

PEOPLE, IMAGES_EACH, SIDE = 40, 10, 64
SHAPE = (SIDE * SIDE, PEOPLE * IMAGES_EACH)  # (pixels, images), as the file stores them


def read_olivetti(path: Path) -> RawData:
    """Columns `image` (400, 64, 64) uint8, upright, and `label` (400,) int64, the person 0..39.

    Raises:
        DataError: the file is not a MATLAB file, or holds no `faces` array of shape (4096, 400) (checked from
            its header before the array is read, so a file that claims a huge array is never decompressed).
    """
    from scipy.io import loadmat, whosmat  # imported here: scipy is slow to import

    again = "download or copy it again"
    try:
        shapes = {name: shape for name, shape, _ in whosmat(path)}
        faces = loadmat(path, variable_names=["faces"])["faces"] if shapes.get("faces") == SHAPE else None
    except Exception as error:  # noqa: BLE001 -- scipy's parser raises whatever it trips on in junk (IndexError, ...)
        raise DataError(f"{path}: not a readable MATLAB v5 file ({type(error).__name__}: {error}); {again}") from None
    if faces is None:
        found = f"`faces` of shape {shapes['faces']}" if "faces" in shapes else f"the arrays {sorted(shapes)}"
        raise DataError(f"{path}: holds {found}, not the Olivetti faces array `faces` of shape {SHAPE}; {again}")
    if faces.shape != SHAPE or faces.dtype != np.uint8:
        raise DataError(f"{path}: `faces` is {faces.dtype} of shape {faces.shape}, not uint8 of shape {SHAPE}; {again}")
    # each column is an image stored column-major: a C-order reshape gives it transposed
    images = np.ascontiguousarray(faces.T.reshape(-1, SIDE, SIDE).transpose(0, 2, 1))
    labels = np.repeat(np.arange(PEOPLE, dtype=np.int64), IMAGES_EACH)
    return RawData({"train": {"image": images, "label": labels}}, inputs={"image": "image"},
                   outputs={"label": "category"})
