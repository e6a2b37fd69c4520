"""The explanation drawings: each writes a PNG of the size its figure asks for (or a self-contained HTML page), the
map shows where the attribution is and which way it points, shapes that do not fit are refused with a message
naming both, and a drawing that fails leaves no file behind. One test draws real MNIST digits."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PIL import Image

from deepscope.errors import DataError
from deepscope.report import explain_colours, explain_maps
from deepscope.report.explain_plots import (
    attention_png,
    column_importance_png,
    faithfulness_png,
    image_attribution_png,
    series_attribution_png,
    spectrogram_attribution_png,
    token_attribution_html,
)

RNG = np.random.default_rng(0)


def png(path) -> Image.Image:
    image = Image.open(path)
    image.load()
    assert image.format == "PNG"
    return image.convert("RGB")


def blue_and_red_pixels(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Masks of clearly blue and clearly red pixels (the attribution's two colours; grey has R = G = B)."""
    rgb = np.asarray(image).astype(int)
    red, blue = rgb[..., 0], rgb[..., 2]
    return blue - red > 60, red - blue > 60


def textured_images(n: int, size: int = 16) -> np.ndarray:
    return RNG.uniform(0, 1, (n, 1, size, size))


# --- every drawing is a PNG of its figure's size ---------------------------------------------------------------------
DRAWINGS = {
    # name -> (draw(path), expected (width, height) in pixels: inches x 100 dpi)
    "three images in a row": (lambda p: image_attribution_png(textured_images(3), RNG.normal(size=(3, 1, 16, 16)), p,
                                                              titles=["7 (p=0.98)", "2 (p=0.51)", "1 (p=1.00)"]),
                              (520, 265)),  # max(4.5, 3 x 1.6 + 0.4) x (1.6 + 0.25 + 0.8) inches
    "ten images in rows of four": (lambda p: image_attribution_png(textured_images(10), RNG.normal(size=(10, 16, 16)),
                                                                   p, cols=4), (680, 635)),
    "spectrogram": (lambda p: spectrogram_attribution_png(RNG.normal(size=(40, 93)), RNG.normal(size=(40, 93)), p,
                                                          title="'three'"), (750, 560)),
    "series": (lambda p: series_attribution_png(RNG.normal(size=(12, 2)), ["passengers", "month"], p),
               (670, 250)),  # 2.5 + 0.35 x 12 by 1.6 + 0.45 x 2
    "columns": (lambda p: column_importance_png(["a", "b", "c"], [0.3, -0.1, 0.2], p,
                                                intervals=[(0.25, 0.35), (-0.2, 0.0), (0.1, 0.3)]), (750, 184)),
    "attention": (lambda p: attention_png(torch.rand(2, 3, 5, 5).softmax(-1), list("abcde"), p,
                                          rollout=torch.rand(5, 5)), (1150, 500)),  # 3 x 1.9 + 1.5 + 2 x 1.9 + 0.5 wide
    "faithfulness": (lambda p: faithfulness_png({"deletion": (np.linspace(1, 0, 21), np.linspace(1, 0.5, 21)),
                                                 "insertion": (np.linspace(0, 1, 21), np.linspace(0, 0.5, 21))}, p,
                                                method="saliency"), (920, 360)),
}


@pytest.mark.parametrize("name", list(DRAWINGS))
def test_each_drawing_writes_a_png_of_its_figures_size(tmp_path, name):
    draw, size = DRAWINGS[name]
    path = draw(tmp_path / "out" / "drawing.png")
    assert path == tmp_path / "out" / "drawing.png"
    image = png(path)
    assert image.size == size
    assert len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 10  # something was drawn, not a blank canvas
    assert [f.name for f in path.parent.iterdir()] == ["drawing.png"]  # no temporary file left beside it


# --- the overlay shows where the attribution is, and which way it points --------------------------------------------
def test_the_overlay_is_the_image_where_the_map_is_zero_and_coloured_where_it_is_strong():
    grey = RNG.uniform(0, 1, (8, 8))
    values = np.zeros((8, 8))
    values[:2, :2], values[-2:, -2:] = 1.0, -1.0
    rgb = explain_colours.overlay(grey, values, explain_colours.colour_limit(values), signed=True)
    untouched = values == 0
    assert np.allclose(rgb[untouched], np.repeat(grey[untouched][:, None], 3, axis=1))
    towards, against = rgb[:2, :2], rgb[-2:, -2:]
    assert (towards[..., 2] - towards[..., 0] > 0.4).all()  # blue
    assert (against[..., 0] - against[..., 2] > 0.4).all()  # red


def test_one_hot_pixel_does_not_wash_out_the_map():
    values = np.zeros((40, 40))
    values[10:30, 10:30] = 1.0  # 25 % of the pixels
    values[0, 0] = 1000.0  # one gradient spike
    limit = explain_colours.colour_limit(values)
    assert limit == pytest.approx(1.0)
    assert explain_colours.strength(values, limit)[20, 20] == 1.0  # the patch is drawn at full strength


def test_a_map_without_sign_gets_the_sequential_scale_brightest_where_strongest():
    values = np.zeros((4, 4))
    values[0, 0] = 1.0
    rgb = explain_colours.overlay(np.zeros((4, 4)), values, 1.0, signed=explain_colours.is_signed(values))
    r, g, b = rgb[0, 0]
    assert r > b + 0.25 and g > b + 0.25  # inferno's bright yellow, not the diverging blue
    assert not explain_colours.is_signed(values) and explain_colours.is_signed(-values)


@pytest.mark.parametrize("towards_side", ["left", "right"])
def test_the_png_is_blue_where_the_map_points_towards_the_target_and_red_where_against(tmp_path, towards_side):
    values = np.zeros((1, 1, 32, 32))
    left, right = slice(0, 8), slice(24, 32)
    values[..., 8:24, left], values[..., 8:24, right] = (1.0, -1.0) if towards_side == "left" else (-1.0, 1.0)
    image = textured_images(1, 32)
    drawn = png(image_attribution_png(image, values, tmp_path / "map.png"))
    panel = slice(0, int(0.75 * drawn.height))  # the colour bar, blue and red too, lies in the bottom quarter
    blue, red = (mask[panel] for mask in blue_and_red_pixels(drawn))
    assert blue.sum() > 1000 and red.sum() > 1000  # two patches of 16 x 8 pixels, drawn about 6 x larger
    blue_x, red_x = np.nonzero(blue)[1].mean(), np.nonzero(red)[1].mean()
    assert (blue_x < red_x - 100) if towards_side == "left" else (red_x < blue_x - 100)
    zero = png(image_attribution_png(image, np.zeros((1, 1, 32, 32)), tmp_path / "zero.png"))
    assert sum(mask[panel].sum() for mask in blue_and_red_pixels(zero)) == 0  # a zero map leaves the image grey


# --- shapes: what fits is drawn, what does not is refused with both shapes named -------------------------------------
def test_one_image_may_come_without_batch_or_channel_dimensions(tmp_path):
    colour = RNG.uniform(0, 1, (3, 16, 16))
    for image, values in ((colour, RNG.normal(size=(16, 16))), (colour, RNG.normal(size=(3, 16, 16))),
                          (colour[0], RNG.normal(size=(16, 16))), (colour[None], torch.randn(1, 1, 16, 16))):
        assert png(image_attribution_png(image, values, tmp_path / "one.png")).size == (450, 265)


@pytest.mark.parametrize("images, values, named", [
    ((2, 3, 16, 16), (2, 2, 16, 16), "(2, 2, 16, 16)"),  # 2 channels for RGB images
    ((2, 1, 16, 16), (3, 1, 16, 16), "(3, 1, 16, 16)"),  # a map too many
    ((2, 1, 16, 16), (2, 1, 8, 8), "(2, 1, 8, 8)"),  # a Grad-CAM map not upsampled to the image
    ((1, 3, 16, 16), (16, 15), "(16, 15)"),
    ((5, 16, 16, 2), (5, 16, 16), "(5, 16, 16)"),  # channels last: read as (n, C, H, W) = (5, 16, 16, 2)
])
def test_a_map_that_does_not_fit_its_images_is_refused_naming_both_shapes(tmp_path, images, values, named):
    with pytest.raises(DataError, match=re.escape(named)) as refused:
        image_attribution_png(np.zeros(images), np.zeros(values), tmp_path / "x.png")
    assert str(images) in str(refused.value) and "one map per image" in str(refused.value)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("draw, message", [
    (lambda p: image_attribution_png(np.zeros((2, 1, 4, 4)), np.zeros((2, 1, 4, 4)), p, titles=["only one"]),
     "1 titles for 2 images"),
    (lambda p: image_attribution_png(np.zeros((1, 1, 4, 4)), np.full((1, 1, 4, 4), np.nan), p), "16 of 16 values"),
    (lambda p: spectrogram_attribution_png(np.zeros((40, 90)), np.zeros((40, 93)), p), "(40, 90)"),
    (lambda p: spectrogram_attribution_png(np.zeros((2, 40, 90)), np.zeros((2, 40, 90)), p), "(mel bins, frames)"),
    (lambda p: series_attribution_png(np.zeros((12, 2)), ["passengers"], p), "1 channel names for 2 channels"),
    (lambda p: column_importance_png(["a", "b"], [0.1], p), "2 names for 1 scores"),
    (lambda p: column_importance_png(["a"], [0.1], p, intervals=[(0.2, 0.0)]), "low <= high"),
    (lambda p: attention_png(np.zeros((1, 1, 4, 4)), ["a", "b"], p), "2 tokens for 4 key positions"),
    (lambda p: attention_png(np.zeros((1, 1, 4, 4)), list("abcd"), p, rollout=np.zeros((3, 4))), "(3, 4)"),
    (lambda p: faithfulness_png({"deletion": ([1.0], [1.0])}, p), "has 1 points"),
    (lambda p: token_attribution_html([["a", "b"]], [[0.1]], p), "2 tokens but 1 scores"),
    (lambda p: token_attribution_html([["a"]], [[0.1]], p, titles=[]), "0 titles for 1 sentences"),
])
def test_inputs_that_do_not_fit_are_refused_with_a_clear_message(tmp_path, draw, message):
    with pytest.raises(DataError, match=re.escape(message)):
        draw(tmp_path / "x.out")
    assert not (tmp_path / "x.out").exists()


def test_series_and_spectrogram_accept_what_an_explanation_holds(tmp_path):
    """A batch of one (1, mels, frames) is a spectrogram; a one-channel window may be (lookback,)."""
    assert png(spectrogram_attribution_png(torch.rand(1, 40, 50), torch.randn(1, 40, 50), tmp_path / "s.png"))
    assert png(series_attribution_png(torch.randn(12), [], tmp_path / "t.png")).size == (670, 205)
    assert explain_maps._steps_back_ticks(24) == [24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 1]


# --- a failed drawing leaves nothing half-written --------------------------------------------------------------------
def test_a_drawing_that_fails_while_saving_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    path = tmp_path / "map.png"
    first = image_attribution_png(textured_images(2), RNG.normal(size=(2, 1, 16, 16)), path).read_bytes()

    def broken_save(self, target, **options):
        with open(target, "wb") as handle:
            handle.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_save)
    with pytest.raises(OSError, match="disk full"):
        image_attribution_png(textured_images(2), RNG.normal(size=(2, 1, 16, 16)), path)
    assert path.read_bytes() == first
    assert [f.name for f in tmp_path.iterdir()] == ["map.png"]


# --- text: a self-contained page, tokens escaped, every score printed ------------------------------------------------
def test_the_token_page_escapes_tokens_prints_every_score_and_loads_nothing(tmp_path, page):
    sentences = [["not", "good", "at", "all"], ["a", "<script>alert(1)</script>", "gem", "&", "\"x\""]]
    scores = [[-0.8, 0.31, 0.0, -0.0125], torch.tensor([0.05, 0.0, 0.9, 0.2, -0.4])]
    path = token_attribution_html(sentences, scores, tmp_path / "tokens.html",
                                  titles=["negative (p=0.97)", "<b>positive</b> (p=0.99)"])
    html = path.read_text(encoding="utf-8")
    page.assert_self_contained(html)  # also: no "<script" anywhere, so the token is text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;positive&lt;/b&gt; (p=0.99)" in html
    boxes = re.findall(r"<span class=\"tok\" style=\"background:#(\w{6});color:#\w{6}\" title=\"[^\"]*\">(.*?)"
                       r"<small>(.*?)</small></span>", html)
    assert [(token, score) for _, token, score in boxes] == [
        ("not", "-0.8"), ("good", "+0.31"), ("at", "+0"), ("all", "-0.013"),
        ("a", "+0.05"), ("&lt;script&gt;alert(1)&lt;/script&gt;", "+0"), ("gem", "+0.9"), ("&amp;", "+0.2"),
        ("&quot;x&quot;", "-0.4")]
    rgb = {token: tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4)) for colour, token, _ in boxes}
    assert rgb["good"][2] > rgb["good"][0] and rgb["not"][0] > rgb["not"][2]  # blue towards, red against
    assert rgb["at"] == (255, 255, 255)  # a zero score has no colour
    assert "red: against the target" in html and "blue: towards the target" in html  # the legend


# --- a real example: eight MNIST test digits, gradient x input of a small MLP trained here ---------------------------
@pytest.fixture
def one_thread():
    """A tiny model trains ~8x faster on one thread than on two when the cores are shared (no spin-waiting)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_real_mnist_digits_get_their_maps_on_the_strokes(tmp_path, data_dir, one_thread):
    from deepscope.data.sources.idx import read_idx

    # the test split only (reading the training file takes seconds): 2000 digits to fit, the first 8 to explain
    images = torch.tensor(read_idx(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz"), dtype=torch.float32)
    images = images.div(255).unsqueeze(1)  # (10000, 1, 28, 28) in [0, 1]
    labels = torch.as_tensor(read_idx(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").astype(np.int64))
    train, labels, digits = images[8:2008], labels[8:2008], images[:8]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(30):  # full-batch steps: under a second, and the digits are told apart well enough
        loss = torch.nn.functional.cross_entropy(model(train), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x = digits.clone().requires_grad_(True)
    probabilities = model(x).softmax(1)
    predicted = probabilities.argmax(1)
    probabilities.gather(1, predicted[:, None]).sum().backward()
    maps = x.grad * digits  # gradient x input: zero wherever the digit is (black) zero
    titles = [f"{int(c)} (p={float(p):.2f})" for c, p in zip(predicted, probabilities.detach().max(1).values)]
    drawn = png(image_attribution_png(digits, maps, tmp_path / "mnist.png", titles=titles))
    assert drawn.size == (1320, 265)
    blue, red = blue_and_red_pixels(drawn)
    assert blue.sum() > 2000 and red.sum() > 200  # both directions show on eight digits
    # the same layout with a map that is zero but for one background pixel (so it has a sign and the same colour
    # bar): its dark pixels are the digits' black background, where gradient x input is zero, so no colour
    nearly_zero = torch.zeros_like(maps)
    nearly_zero[0, 0, 0, 0] = -1e-6
    reference = np.asarray(png(image_attribution_png(digits, nearly_zero, tmp_path / "ref.png", titles=titles)))
    background = reference.max(axis=2) < 40
    assert background.sum() > 8 * 100 * 100  # most of each 160 x 160 pixel panel
    assert (blue | red)[background].mean() < 0.01
