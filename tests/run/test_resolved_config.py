"""The resolved config names what inference chose: each input group's encoder, each column's type, the length."""

from __future__ import annotations

from deepscope.config.loading import load_config
from deepscope.data.prepare import prepare_data
from deepscope.models.builder import resolved_encoders
from deepscope.run.resolved import resolved_config

MIXED = {"photo": {"kind": "image"}, "age": {"kind": "tabular"}, "job": {"kind": "tabular"}}


def test_each_input_group_gets_its_default_encoder():
    assert resolved_encoders({}, MIXED) == {"photo": {"name": "cnn"}, "tabular": {"name": "tabular"}}


def test_one_encoder_for_mixed_inputs_applies_where_it_can():
    """`encoder: cnn` with image and table inputs: the image gets it (with its options), the table its default."""
    found = resolved_encoders({"encoder": {"name": "cnn", "filters": [8]}}, MIXED)
    assert found == {"photo": {"name": "cnn", "filters": [8]}, "tabular": {"name": "tabular"}}


def test_encoders_by_input_win_and_a_layer_list_needs_nothing():
    found = resolved_encoders({"encoders": {"tabular": {"name": "mlp"}}}, MIXED)
    assert found == {"photo": {"name": "cnn"}, "tabular": {"name": "mlp"}}
    assert resolved_encoders({"layers": ["relu"]}, MIXED) == {}


def test_a_builtin_dataset_left_to_inference_is_written_down():
    config = load_config({"data": {"source": "digits"}})
    resolved = resolved_config(config, prepare_data(config.data))
    assert resolved.data.inputs["image"].type == "image" and resolved.data.outputs["label"].type == "category"
    assert resolved.model.encoder.name == "cnn"
    assert resolved.train.epochs is not None and resolved.train.batch_size is not None
    assert resolved_config(resolved, prepare_data(resolved.data)) == resolved  # nothing left to choose
