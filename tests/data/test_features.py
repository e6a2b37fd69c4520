import numpy as np
import pytest
import torch
from PIL import Image

from deepscope.data.features import FEATURES, Feature, describe_features
from deepscope.errors import ConfigError, DataError


def fitted(kind: str, values, where: str = "data.inputs", **options) -> Feature:
    return FEATURES.get(kind)("col", options, where=where).fit(values)


def round_trip(feature: Feature) -> Feature:
    import json

    return Feature.from_state(json.loads(json.dumps(feature.state())))


def test_number_standardises_with_training_statistics_and_fills_missing():
    feature = fitted("number", np.array(["1", "2", "3", None], dtype=object))
    assert feature.fitted["mean"] == pytest.approx(2.0)
    encoded = feature.encode(np.array(["2", None, "4"], dtype=object))
    assert encoded.tolist() == pytest.approx([0.0, 0.0, 2 / np.std([1, 2, 3])])
    assert torch.equal(round_trip(feature).encode([1.0, 5.0]), feature.encode([1.0, 5.0]))


def test_number_rejects_text_naming_the_row():
    with pytest.raises(DataError, match=r"data.inputs.col: row 1: 'abc' is not a number"):
        fitted("number", np.array(["1", "abc"], dtype=object))


@pytest.mark.parametrize("values", [[41.0, float("inf")], np.array([41.0, -np.inf]), ["41", "1e309"]])
def test_number_refuses_infinite_values_naming_the_value(values):
    """Dicts and arrays given to `predict` (and to training): one inf would make every prediction it touches NaN."""
    feature = fitted("number", np.array(["30", "50"], dtype=object), where="prediction input")
    with pytest.raises(DataError, match=r"prediction input.col: value 2 of 2 is -?inf, not a finite number"):
        feature.encode(values)
    with pytest.raises(DataError, match="value 2 of 2"):
        fitted("number", values)
    assert feature.encode([float("nan"), None]).tolist() == [0.0, 0.0]  # NaN and None stay missing values


def test_category_input_maps_unseen_and_missing_to_unknown():
    feature = fitted("category", np.array(["b", "a", "b", None], dtype=object))
    assert feature.fitted["vocabulary"] == ["<unknown>", "b", "a"]  # most frequent first
    assert feature.encode(["a", "zzz", None]).tolist() == [2, 0, 0]
    assert round_trip(feature).encode(["b"]).tolist() == [1]


def test_category_output_classes_and_unseen_label_error():
    feature = fitted("category", np.array([3, 1, 2, 1]), where="data.outputs")
    assert feature.classes == [1, 2, 3]
    assert feature.encode(np.array([3, 1])).tolist() == [2, 0]
    decoded = feature.decode({"probabilities": torch.tensor([[0.1, 0.2, 0.7]])})
    assert decoded[0]["col"] == 3 and decoded[0]["probabilities"]["3"] == pytest.approx(0.7)
    with pytest.raises(DataError, match="never appear in the training split"):
        feature.encode([4])


def test_binary_picks_the_obvious_positive_value():
    feature = fitted("binary", np.array(["no", "yes", "yes"], dtype=object))
    assert feature.fitted["positive"] == "yes"
    assert feature.encode(["yes", "no"]).tolist() == [1.0, 0.0]
    assert fitted("binary", np.array([0, 1, 1])).encode([1, 0]).tolist() == [1.0, 0.0]
    with pytest.raises(DataError, match="exactly two distinct values"):
        fitted("binary", np.array(["a", "b", "c"], dtype=object))
    with pytest.raises(DataError, match="neither"):
        feature.encode(["maybe"])


def test_image_normalises_and_resizes_files(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(10, 8, 6), dtype=np.uint8)
    feature = fitted("image", train)
    assert feature.shape == (1, 8, 6)
    encoded = feature.encode(train)
    assert encoded.shape == (10, 1, 8, 6)
    assert encoded.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert encoded.std(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)
    big = tmp_path / "big.png"
    Image.fromarray(rng.integers(0, 256, size=(40, 30, 3), dtype=np.uint8)).save(big)
    assert feature.encode([big]).shape == (1, 1, 8, 6)  # a colour file of another size is converted
    assert feature.encode(train[0]).shape == (1, 1, 8, 6)  # one image without a batch axis
    assert torch.equal(round_trip(feature).encode(train), encoded)


def test_an_image_file_claiming_more_pixels_than_the_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setattr("deepscope.data.images.MAX_PIXELS", 99)
    Image.new("L", (10, 10), 7).save(tmp_path / "big.png")
    feature = fitted("image", np.zeros((2, 4, 4), dtype=np.uint8), where="prediction input")
    with pytest.raises(DataError, match=r"prediction input.col: .*big.png: 10 x 10 pixels .* more than the 9.9e-05 "
                                        "Mpixel deepscope decodes; shrink it first"):
        feature.encode([tmp_path / "big.png"])
    with pytest.raises(DataError, match="10 x 10 pixels"):
        feature.encode([Image.open(tmp_path / "big.png")])  # a PIL image handed over is checked too


def test_image_array_of_the_wrong_shape_is_a_clear_error():
    feature = fitted("image", np.zeros((4, 28, 28), dtype=np.uint8))
    with pytest.raises(DataError, match=r"expected images of shape .* \(28, 28, 1\), got \(32, 32, 1\)"):
        feature.encode(np.zeros((2, 32, 32), dtype=np.uint8))


def test_unknown_feature_option_names_the_place():
    with pytest.raises(ConfigError,
                       match=r"data.inputs.col.normalisation: unknown key .*options for number: normalization\)"):
        FEATURES.get("number")("col", {"normalisation": "standard"}, where="data.inputs")


def test_an_outputs_head_options_pass_through_and_the_head_checks_them():
    """Head options (loss settings) are declared once, by the head: the feature passes what it does not know on,
    and the head names a wrong one with its place."""
    from deepscope.models.builder import build_model

    feature = FEATURES.get("category")("label", {"label_smoothing": 0.2, "max_categories": 50}, where="data.outputs")
    assert feature.head_config == {"label_smoothing": 0.2} and feature.options.max_categories == 50
    feature.fit(["a", "b", "a"])
    inputs = {"x": {"name": "x", "type": "number", "kind": "tabular"}}
    model = build_model({}, inputs, describe_features({"label": feature}))
    assert model.heads["label"].options.label_smoothing == 0.2
    typo = FEATURES.get("category")("label", {"label_smoothin": 0.2}, where="data.outputs").fit(["a", "b"])
    with pytest.raises(ConfigError, match=r"data\.outputs\.label\.label_smoothin: unknown key .*"
                                          r"options for the category head: class_weights, label_smoothing, top_k"):
        build_model({}, inputs, describe_features({"label": typo}))
    with pytest.raises(ConfigError, match=r"data\.inputs\.age\.label_smoothing: unknown key"):  # inputs have no head
        FEATURES.get("number")("age", {"label_smoothing": 0.2}, where="data.inputs")


def test_a_regression_head_takes_the_registered_value_losses():
    from deepscope.models.builder import build_model
    from deepscope.models.losses import loss_names

    inputs = {"x": {"name": "x", "type": "number", "kind": "tabular"}}
    price = {"name": "price", "type": "number", "kind": "tabular", "shift": 0.0, "scale": 1.0}
    assert loss_names("value") == ["huber", "mae", "mse"]
    model = build_model({}, inputs, {"price": {**price, "head": {"loss": "huber"}}})
    assert model.heads["price"].loss_function.__name__ == "huber"
    with pytest.raises(ConfigError,
                       match=r"data\.outputs\.price\.loss: unknown loss 'l2'; choose one of huber, mae, mse"):
        build_model({}, inputs, {"price": {**price, "head": {"loss": "l2"}}})
