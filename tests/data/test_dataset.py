import torch

from deepscope.data.augment.images import ImageAugment
from deepscope.data.dataset import TensorData


def data(n: int = 10) -> TensorData:
    return TensorData({"x": torch.arange(n).float().view(n, 1), "y": torch.arange(n)})


def test_batches_cover_every_row_once_and_keep_columns_aligned():
    seen = []
    for batch in data().batches(3, shuffle=True, generator=torch.Generator().manual_seed(0)):
        assert torch.equal(batch["x"].view(-1).long(), batch["y"])
        seen += batch["y"].tolist()
    assert sorted(seen) == list(range(10))
    assert [len(b["y"]) for b in data().batches(3)] == [3, 3, 3, 1]
    assert [len(b["y"]) for b in data().batches(3, drop_last=True)] == [3, 3, 3]


def test_skip_resumes_the_same_permutation():
    full = [b["y"].tolist() for b in data().batches(3, shuffle=True, generator=torch.Generator().manual_seed(4))]
    rest = [b["y"].tolist()
            for b in data().batches(3, shuffle=True, generator=torch.Generator().manual_seed(4), skip=2)]
    assert rest == full[2:]


def test_transform_applies_to_shuffled_batches_only():
    d = TensorData({"x": torch.zeros(4, 1)}, transform=lambda b: {"x": b["x"] + 1})
    assert all((b["x"] == 1).all() for b in d.batches(2, shuffle=True))
    assert all((b["x"] == 0).all() for b in d.batches(2))


def test_augment_flips_and_shifts_keep_shape_and_content():
    torch.manual_seed(0)
    images = torch.arange(2 * 3 * 5 * 5).float().view(2, 3, 5, 5)
    flipped = ImageAugment(["image"], flip="horizontal")({"image": images.repeat(50, 1, 1, 1)})["image"]
    as_is = (flipped == images.repeat(50, 1, 1, 1)).flatten(1).all(1)
    mirrored = (flipped == images.flip(3).repeat(50, 1, 1, 1)).flatten(1).all(1)
    assert (as_is | mirrored).all() and as_is.any() and mirrored.any()  # each image one or the other, both occur
    shifted = ImageAugment(["image"], shift=1)({"image": images})["image"]
    assert shifted.shape == images.shape
    for original, moved in zip(images, shifted):  # each image is the original moved by (dy, dx) in [-1, 1]
        assert any(torch.equal(window(moved, dy, dx), window(original, -dy, -dx))
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def window(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """The part of a (C, 5, 5) image that stays in view after a shift by (dy, dx)."""
    return image[:, max(dy, 0) : 5 + min(dy, 0), max(dx, 0) : 5 + min(dx, 0)]


def test_rotation_keeps_shape_and_a_tiny_angle_changes_nothing():
    torch.manual_seed(0)
    images = torch.randn(6, 2, 9, 9)
    assert torch.allclose(ImageAugment(["image"], rotate=1e-6)({"image": images})["image"], images, atol=1e-4)
    rotated = ImageAugment(["image"], rotate=30)({"image": images})["image"]
    assert rotated.shape == images.shape and not torch.allclose(rotated, images, atol=1e-2)
    centre = ImageAugment(["image"], rotate=30)({"image": images})["image"][:, :, 4, 4]
    assert torch.allclose(centre, images[:, :, 4, 4], atol=1e-5)  # rotation about the centre keeps it
