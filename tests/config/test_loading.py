from pathlib import Path

import pytest

from deepscope.config.loading import config_to_yaml, load_config
from deepscope.errors import ConfigError

BASE = {"data": {"source": "digits", "inputs": {"image": "image"}, "outputs": {"label": "category"}}}


def test_compact_forms_expand():
    config = load_config({**BASE, "model": {"encoder": "cnn"}, "train": {"optimizer": "sgd", "schedule": "cosine"}})
    assert config.model.encoder.name == "cnn"
    assert config.train.optimizer.name == "sgd"
    assert config.train.schedule.name == "cosine"
    assert config.data.inputs["image"].type == "image"


def test_dotted_overrides_parse_yaml_values():
    config = load_config(BASE, ["train.epochs=3", "train.optimizer.lr=0.05", "train.optimizer.momentum=0.8",
                                "model.encoder=resnet", "data.split.val=0"])
    assert config.train.epochs == 3
    assert config.train.optimizer.lr == 0.05
    assert config.train.optimizer.model_extra == {"momentum": 0.8}
    assert config.train.optimizer.name == "adam"  # the default stays when only an option is given
    assert config.model.encoder.name == "resnet"
    assert config.data.split.val == 0


def test_unknown_key_names_the_path_and_the_allowed_keys():
    with pytest.raises(ConfigError) as error:
        load_config({**BASE, "train": {"epocs": 3}})
    message = str(error.value)
    assert "train.epocs" in message and "unknown key" in message
    assert "epochs" in message and "batch_size" in message


def test_bad_value_names_the_allowed_values():
    with pytest.raises(ConfigError, match=r"train.precision: got 'fp8'.*'fp32', 'bf16' or 'fp16'"):
        load_config(BASE, ["train.precision=fp8"])


def test_both_model_forms_is_an_error():
    with pytest.raises(ConfigError, match="either `layers`"):
        load_config({**BASE, "model": {"encoder": "cnn", "layers": ["relu"]}})


def test_malformed_override_and_yaml(tmp_path: Path):
    with pytest.raises(ConfigError, match="key.path=value"):
        load_config(BASE, ["train.epochs"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {source: digits\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_resolved_config_round_trips_through_yaml(tmp_path: Path):
    config = load_config(BASE, ["train.epochs=2", "train.optimizer.momentum=0.9"])
    path = tmp_path / "config.yaml"
    path.write_text(config_to_yaml(config))
    assert load_config(path) == config
