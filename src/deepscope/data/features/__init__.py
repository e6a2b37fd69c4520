"""Feature types, one per file, registered in `FEATURES` by the name configs use."""

from deepscope.data.features.base import FEATURES, Feature, describe_features
from deepscope.data.features import binary, category, image, number, text  # noqa: F401  (registration)
from deepscope.data.features import audio  # noqa: F401  (registration)
from deepscope.data.features import forecast, timeseries  # noqa: F401  (registration)

__all__ = ["FEATURES", "Feature", "describe_features"]
