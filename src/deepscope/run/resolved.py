"""The config as trained: what a run folder's `config.yaml` holds, so that the file trains the same model again.

What a config leaves to inference is written down once the data is loaded: every input and output column with
its type, the encoder of each input group, and the epochs and batch size chosen from the data's size.

    config = resolved_config(load_config({"data": {"source": "table.csv", "outputs": {"price": {}}}}), data)
    config.data.inputs     # {"age": {type: number}, "job": {type: category}, ...}
    config.model.encoder   # {name: tabular}
    config.train.epochs    # 250 (auto: 124 training rows, batch 32 -> at least 1,000 steps), early_stopping 25
"""

from __future__ import annotations

import logging
from typing import Any

from deepscope.config.schema import Config
from deepscope.data.features import Feature, describe_features
from deepscope.data.prepare import PreparedData
from deepscope.models.builder import resolved_encoders
from deepscope.training.length import training_length

log = logging.getLogger("deepscope")


def resolved_config(config: Config, data: PreparedData) -> Config:
    """`config` with the settings inference chose for `data` written in; a setting the config gives is kept.
    The note on how auto epochs were chosen goes to the console here, once."""
    values = config.model_dump(mode="json")
    values["train"] = _train_section(config, len(data.splits["train"]))
    if not _section_makes_columns(config):
        values["data"]["inputs"] = _feature_specs(values["data"]["inputs"], data.inputs)
        values["data"]["outputs"] = _feature_specs(values["data"]["outputs"], data.outputs)
    values["model"] = _model_section(values["model"], config.model.model_dump(mode="json", exclude_none=True), data)
    return Config.model_validate(values)


def _section_makes_columns(config: Config) -> bool:
    """A series' windows, a corpus' token windows, a translation's sentence pairs, a music corpus's notes: their
    section describes the inputs and outputs, which a config then must not give."""
    data = config.data
    return any(getattr(data, key, None) is not None for key in ("series", "corpus", "translation", "music"))


def _train_section(config: Config, rows: int) -> dict[str, Any]:
    """Epochs and batch size for `rows` training examples; auto epochs also stop early, unless the config says
    how (a long run on small data would otherwise end overfitted)."""
    train = config.train
    length = training_length(rows, epochs=train.epochs, batch_size=train.batch_size)
    section = {**train.model_dump(mode="json"), "epochs": length.epochs, "batch_size": length.batch_size}
    note = length.note
    if length.patience and train.early_stopping is None:
        section["early_stopping"] = {"patience": length.patience}
        note += f"; early stopping after {length.patience} epochs without improvement"
    if note:
        log.info("%s", note)
    return section


def _feature_specs(given: dict[str, Any], features: dict[str, Feature]) -> dict[str, Any]:
    """Each feature's spec as the config gave it (options, head settings), with the type that was used."""
    return {name: {**(given.get(name) or {}), "type": feature.type} for name, feature in features.items()}


def _model_section(model: dict[str, Any], given: dict[str, Any], data: PreparedData) -> dict[str, Any]:
    """The model section with each input group's encoder named: `encoder:` for one group, else `encoders:`.
    `given` is the section as the builder reads it (no None values)."""
    encoders = resolved_encoders(given, describe_features(data.inputs))
    if not encoders:  # a layer list says everything itself
        return model
    if len(encoders) == 1 and not model.get("encoders"):
        return {**model, "encoder": next(iter(encoders.values()))}
    return {**model, "encoder": None, "encoders": encoders}
