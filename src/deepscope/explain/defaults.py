"""The methods each modality gets when none is named: the first explains single examples, the rest are added to
the view of a whole split (`deepscope explain RUN --split test`)."""

from __future__ import annotations

DEFAULT_METHODS: dict[str, tuple[str, ...]] = {
    "image": ("integrated_gradients", "grad_cam"),  # grad_cam where the encoder is convolutional
    "text": ("integrated_gradients",),  # on the token embeddings
    "audio": ("integrated_gradients",),  # on the spectrogram
    "table": ("integrated_gradients", "permutation"),  # per row; permutation importance for the whole split
    "series": ("integrated_gradients", "permutation"),  # over lookback steps x channels; channels (if several)
}


def default_method(modality: str) -> str:
    return DEFAULT_METHODS[modality][0]
