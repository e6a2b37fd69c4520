"""Batched, on-device image augmentation: one tensor operation per batch, not one PIL call per image."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from deepscope.data.dataset import Batch


class ImageAugment:
    """Random flips, rotations and shifts of every image column in a batch of (N, C, H, W) tensors.

    `shift` translates each image by up to that many pixels each way (zero padding of the normalised image,
    i.e. the mean colour), as in the usual pad-and-crop recipe.

        augment = ImageAugment(["image"], flip="horizontal", shift=2)
        batch = augment({"image": torch.randn(8, 1, 28, 28)})
    """

    def __init__(self, columns: list[str], *, flip: str = "none", shift: int = 0, rotate: float = 0.0):
        self.columns = columns
        self.flip = flip
        self.shift = shift
        self.rotate = rotate

    def __call__(self, batch: Batch) -> Batch:
        batch = dict(batch)
        for name in self.columns:
            images = batch[name]
            if self.flip in ("horizontal", "both"):
                images = _random_flip(images, dim=3)
            if self.flip in ("vertical", "both"):
                images = _random_flip(images, dim=2)
            if self.rotate:
                images = _random_rotation(images, self.rotate)
            if self.shift:
                images = _random_shift(images, self.shift)
            batch[name] = images
        return batch


def _random_flip(images: torch.Tensor, dim: int) -> torch.Tensor:
    mask = torch.rand(images.shape[0], device=images.device) < 0.5
    return torch.where(mask.view(-1, 1, 1, 1), images.flip(dim), images)


def _random_rotation(images: torch.Tensor, degrees: float) -> torch.Tensor:
    """Rotate each image by its own random angle in [-degrees, degrees], one batched grid_sample."""
    n = images.shape[0]
    angle = (torch.rand(n, device=images.device) * 2 - 1) * math.radians(degrees)
    cos, sin, zero = angle.cos(), angle.sin(), torch.zeros_like(angle)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _random_shift(images: torch.Tensor, shift: int) -> torch.Tensor:
    """Pad by `shift`, then crop each image at its own random offset, gathered in one indexing operation."""
    n, c, h, w = images.shape
    padded = F.pad(images, (shift, shift, shift, shift))
    dy = torch.randint(0, 2 * shift + 1, (n,), device=images.device)
    dx = torch.randint(0, 2 * shift + 1, (n,), device=images.device)
    rows = (dy.view(n, 1) + torch.arange(h, device=images.device)).view(n, 1, h, 1)
    cols = (dx.view(n, 1) + torch.arange(w, device=images.device)).view(n, 1, 1, w)
    batch_index = torch.arange(n, device=images.device).view(n, 1, 1, 1)
    channel_index = torch.arange(c, device=images.device).view(1, c, 1, 1)
    return padded[batch_index, channel_index, rows, cols]
