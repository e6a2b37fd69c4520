"""Feature types, one per file, registered in `FEATURES` by the name configs use."""

# Imported for their side effect: each module registers its feature type in FEATURES.
from deepscope.data.features import (  # noqa: F401  (registration)
    audio,
    binary,
    category,
    forecast,
    image,
    number,
    sequence,
    signal,
    text,
    timeseries,
    tokens,
)
from deepscope.data.features.base import FEATURES, Feature, describe_features

__all__ = ["FEATURES", "Feature", "describe_features"]
