"""Near-copies of training images in held-out splits: copies shifted by a few pixels, cropped and resized,
brightened or darkened, or re-encoded (JPEG), which byte-for-byte comparison cannot see.

    views = canonical_views(images)                  # (N, C, H, W) -> (N, 256) unit vectors
    source, cosine = near_copies(train_views, test_views)   # per test image: its training source, or -1

A canonical view is the image in grey, its darkest value (the background) subtracted, centred on its centre of
mass and scaled to its radius of gyration, sampled at 16 x 16 and normalised to unit length: a shift moves the
centre of mass with the image, a crop followed by a resize changes the radius by the same factor, and a
brightness change or JPEG noise barely changes the direction of the vector. Views are compared by cosine.

Cosine alone cannot tell a copy from a look-alike: on MNIST half of the test digits have a training digit
with cosine above 0.92 (plain "1"s all look alike). A copy is instead much closer to its source than to any
other training image, so a held-out image counts as a near-copy when its closest training view has cosine
>= MIN_COSINE *and* lies at most MAX_RATIO of the distance of the second closest (the ratio test used to
match image features). Measured by bench/near_duplicates.py on MNIST's own train and test split.

Pairs are not compared all against all: random-hyperplane signatures of the views (locality-sensitive
hashing) are cut into bands, and only pairs that agree on a whole band are compared, first on the views'
lowest frequencies, then the best few in full. Images are assumed to show bright content on a dark ground (digits,
scans, X-rays); on others the whole frame is the content, which still finds shifted and re-encoded copies but
misaligns crops. A training image that is itself near-copied within the training data has no distinct runner-up,
so its copies in held-out data are missed (exact duplicates are still counted by the profile's exact check).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

VIEW_SIZE = 16  # side of the canonical view; 8 loses JPEG copies (76 % found against 94 % on MNIST)
SPREAD = 2.2  # the view spans the centre of mass +- SPREAD radii of gyration (a digit's strokes, with margin)
MIN_COSINE = 0.9  # planted copies under the four edits measure about 0.93 or more in 99 % of cases
MAX_RATIO = 0.65  # distance to the closest / to the second closest training view; look-alikes sit near 1
BANDS, BAND_BYTES = 12, 2  # signature: 12 bands of 16 random-hyperplane bits
BUCKET_CAP = 32  # training views compared per query and band: crowded buckets hold look-alikes (plain "1"s)
MIN_PIXELS = VIEW_SIZE**2  # smaller images (the 8x8 digits) hold too little to tell a copy from a look-alike:
# on scikit-learn's digits (43 writers on both sides of the split) 4 % of the test digits pass as copies
CHUNK = 8192  # images turned into views at a time (bounds memory)
QUERY_CHUNK = 1024  # queries matched at a time: at most (1024, BANDS * BUCKET_CAP, 64) floats, 50 MB
RERANKED = 8  # candidates per query compared in full after ranking on low frequencies


def has_detail(shape: tuple[int, ...]) -> bool:
    """Whether images of `shape` (C, H, W) are judged by their views: not when smaller than MIN_PIXELS."""
    return shape[-1] * shape[-2] >= MIN_PIXELS


def canonical_views(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) images (any scale or normalisation) -> (N, VIEW_SIZE**2) float32 unit vectors."""
    return torch.cat([_views(images[i:i + CHUNK]) for i in range(0, len(images), CHUNK)]) if len(images) else \
        torch.zeros(0, VIEW_SIZE**2)


def _views(images: torch.Tensor) -> torch.Tensor:
    images = images.detach().cpu().float()
    grey = images[:, 0] if images.shape[1] == 1 else images.mean(1)  # (n, H, W)
    n, height, width = grey.shape
    flat = grey.reshape(n, -1)
    # the darkest value is the background: the content of bright-on-dark images (digits, scans, X-rays) then
    # decides the centre and size; a median would be content itself once content covers half the image
    mass = flat - flat.min(1, keepdim=True).values
    total = mass.sum(1).clamp_min(1e-12)
    # pixel centres in pixels from the image centre, (H*W,) each
    y = (torch.arange(height, dtype=torch.float32) + 0.5 - height / 2).repeat_interleave(width)
    x = (torch.arange(width, dtype=torch.float32) + 0.5 - width / 2).repeat(height)
    centre_y, centre_x = mass @ y / total, mass @ x / total
    radius = (mass @ (y * y + x * x) / total - centre_y**2 - centre_x**2).clamp_min(0).sqrt()
    half = (SPREAD * radius).clamp_min(1e-3)  # half-width of the view, pixels
    # where each view pixel samples the image, in grid_sample's coordinates (-1 to 1 across the image)
    size = VIEW_SIZE
    steps = (2 * torch.arange(size, dtype=torch.float32) + 1) / size - 1  # (S,)
    grid_x = ((half * steps[:, None] + centre_x) / (width / 2)).T[:, None, :].expand(n, size, size)
    grid_y = ((half * steps[:, None] + centre_y) / (height / 2)).T[:, :, None].expand(n, size, size)
    grid = torch.stack([grid_x, grid_y], dim=-1)  # (n, S, S, 2)
    view = F.grid_sample(mass.reshape(n, 1, height, width), grid, align_corners=False).reshape(n, -1)
    return F.normalize(view - view.mean(1, keepdim=True), dim=1)  # a blank image stays 0: matches nothing


def near_copies(reference: torch.Tensor, queries: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """For each query view, the index of the reference view it is a near-copy of (-1 for none) and the cosine
    of the pair (0 for none). Views from `canonical_views`; exact copies count too."""
    source, cosine = np.full(len(queries), -1, np.int64), np.zeros(len(queries), np.float32)
    if not len(reference) or not len(queries):
        return source, cosine
    # candidates are ranked on the views' lowest 2-D frequencies (a quarter of the numbers to fetch); the
    # best RERANKED of each query are then compared in full
    low = _low_frequencies(reference.shape[1])
    coarse_reference, coarse_queries = F.normalize(reference @ low, dim=1), F.normalize(queries @ low, dim=1)
    planes = torch.randn(reference.shape[1], BANDS * BAND_BYTES * 8, generator=torch.Generator().manual_seed(0))
    candidates = _candidates(_signatures(queries, planes), _signatures(reference, planes))
    # queries with as many candidates are matched together, so a chunk pads few rows to its widest (a third of
    # the rows gathered on MNIST); each query's result does not depend on the others in its chunk
    by_count = np.argsort((candidates >= 0).sum(1), kind="stable")
    for start in range(0, len(queries), QUERY_CHUNK):
        chunk = torch.from_numpy(by_count[start:start + QUERY_CHUNK])  # query rows
        rows = torch.from_numpy(candidates[chunk.numpy()])  # (n, K) reference rows, -1 for none (at the end)
        rows = rows[:, :max(int((rows >= 0).sum(1).max()), 1)]
        coarse = torch.bmm(_rows_of(coarse_reference, rows), coarse_queries[chunk, :, None])[..., 0]
        coarse[rows < 0] = -2.0
        best_rows = rows.gather(1, coarse.topk(min(RERANKED, rows.shape[1]), dim=1).indices)  # (n, R)
        best_rows = torch.cat([best_rows, torch.full_like(best_rows[:, :1], -1)], 1)  # a runner-up at least
        similarity = torch.bmm(_rows_of(reference, best_rows), queries[chunk, :, None])[..., 0]
        similarity[best_rows < 0] = -1.0
        best, at = similarity.topk(2, dim=1)  # (n, 2) each
        # distances between unit vectors: sqrt(2 - 2 cos); a missing runner-up is as far as can be (cos -1)
        distance = (2 - 2 * best).clamp_min(0).sqrt()
        copies = (best[:, 0] >= MIN_COSINE) & (distance[:, 0] <= MAX_RATIO * distance[:, 1])
        found = best_rows.gather(1, at[:, :1]).reshape(-1)
        source[chunk.numpy()] = torch.where(copies, found, -1).numpy()
        cosine[chunk.numpy()] = torch.where(copies, best[:, 0], 0.0).numpy()
    return source, cosine


def _rows_of(views: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """(n, K, D): views[rows], -1 read as row 0 (masked by the caller); index_select is 3x faster on CPU."""
    return views.index_select(0, rows.clamp_min(0).reshape(-1)).view(*rows.shape, views.shape[1])


def _low_frequencies(dimension: int) -> torch.Tensor:
    """(S*S, L*L) orthonormal 2-D DCT-II basis of an S x S view, its lowest L x L frequencies (L = S / 2)."""
    size = round(dimension**0.5)
    pixel, frequency = torch.arange(size, dtype=torch.float32), torch.arange(size // 2, dtype=torch.float32)
    basis = torch.cos(torch.pi * (2 * pixel[:, None] + 1) * frequency[None, :] / (2 * size))  # (S, L)
    basis = basis / basis.norm(dim=0, keepdim=True)
    return torch.einsum("ik,jl->ijkl", basis, basis).reshape(size * size, -1)


def _signatures(views: torch.Tensor, planes: torch.Tensor) -> np.ndarray:
    """(N, BANDS) integers: each band's signs of the views' projections on BAND_BYTES * 8 random hyperplanes."""
    bits = np.packbits((views @ planes > 0).numpy(), axis=1)  # (N, BANDS * BAND_BYTES) uint8
    return bits.view(f">u{BAND_BYTES}").astype(np.int64)


def _candidates(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(Nq, BANDS * BUCKET_CAP) reference rows that share a band's signature with each query, each row once,
    in decreasing order, -1 filling the rest."""
    offsets = np.arange(BUCKET_CAP)
    columns = []
    for band in range(BANDS):
        order = np.argsort(reference[:, band], kind="stable")
        keys = reference[order, band]
        low = np.searchsorted(keys, queries[:, band], "left")
        count = np.searchsorted(keys, queries[:, band], "right") - low  # a crowded bucket gives its first few
        position = np.minimum(low[:, None] + offsets, len(order) - 1)
        columns.append(np.where(offsets < count[:, None], order[position], -1))
    candidates = np.sort(np.concatenate(columns, axis=1), axis=1)[:, ::-1]  # rows first, then the -1s
    candidates[:, 1:][candidates[:, 1:] == candidates[:, :-1]] = -1  # a row found in two bands counts once
    return np.ascontiguousarray(np.sort(candidates, axis=1)[:, ::-1])  # sorted down again: the -1s last
