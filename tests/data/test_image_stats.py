"""An image feature's pixel statistics: counted for uint8 pixels, equal to the float64 mean and std."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepscope.data.features.image import ImageFeature, _channel_stats


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_counted_statistics_equal_the_float_ones(channels):
    pixels = np.random.default_rng(channels).integers(0, 256, (3000, channels), dtype=np.uint8)
    mean, std = _channel_stats(pixels, 255.0)
    floats = pixels.astype(np.float64) / 255.0
    np.testing.assert_allclose(mean, floats.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, floats.std(axis=0), rtol=1e-12)
    # what the encoding uses (float32) is the same number
    assert (mean.astype(np.float32) == floats.mean(axis=0).astype(np.float32)).all()


def test_float_images_keep_their_own_scale():
    images = np.random.default_rng(0).uniform(0, 16, (20, 8, 8)).astype(np.float32)
    fitted = ImageFeature("image").fit(images).fitted
    scale = float(np.abs(images).max())
    assert fitted["scale"] == scale
    assert fitted["mean"] == pytest.approx([float((images / scale).astype(np.float64).mean())], rel=1e-6)


def test_a_constant_channel_gets_std_one():
    images = np.full((5, 4, 4), 7, dtype=np.uint8)
    fitted = ImageFeature("image").fit(images).fitted
    assert fitted["mean"] == pytest.approx([7 / 255]) and fitted["std"] == [1.0]


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_encoding_in_place_leaves_the_input_alone_and_matches_the_plain_operations(dtype):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (12, 10, 10, 3)).astype(dtype)
    feature = ImageFeature("image").fit(images)
    before = images.copy()
    encoded = feature.encode(images)
    fitted = feature.fitted
    mean = torch.tensor(fitted["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(fitted["std"], dtype=torch.float32).view(1, -1, 1, 1)
    plain = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / fitted["scale"] - mean) / std
    assert torch.equal(encoded, plain.contiguous()) and encoded.is_contiguous()
    assert np.array_equal(images, before)
