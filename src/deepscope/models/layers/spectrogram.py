"""Waveforms to log-mel spectrograms or MFCCs, in torch on the batch's device, with SpecAugment in training.

    description = {"sample_rate": 8000, "spectrogram": {"n_mels": 40, "n_fft": 256, "hop_length": 80,
                   "win_length": 200, "f_min": 0.0, "f_max": 4000.0, "mfcc": 0}}
    spectrogram = Spectrogram(description)
    spectrogram(torch.randn(8, 7360)).shape      # (8, 40, 93): (B, F, T), T = S // hop_length + 1

The description is what the audio feature's `describe()` gives; every setting is spelled out there, so a
saved model computes exactly the features it was trained on. The mel filterbank uses the HTK mel scale
(mel = 2595 log10(1 + f / 700)) with triangles of peak 1, as librosa's `filters.mel(htk=True, norm=None)`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

TOP_DB = 80.0  # decibels kept below each example's loudest bin: silence and zero padding floor out there
AMIN = 1e-10  # power floor before the log (-100 dB)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float32: triangles evenly spaced in mel from f_min to f_max, peak 1.

    Example:
        >>> mel_filterbank(8000, 256, 40, 0.0, 4000.0).shape
        (40, 129)
    """
    bins = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)  # (K,) the FFT bins' frequencies, Hz
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))  # (M + 2,) Hz
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # (M, 1) each
    rising = (bins - left) / (centre - left)  # (M, K)
    falling = (right - bins) / (right - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def dct_matrix(n_mfcc: int, n_mels: int) -> np.ndarray:
    """(n_mfcc, n_mels) float32: the orthonormal DCT-II, as `scipy.fft.dct(x, type=2, norm="ortho")[:n_mfcc]`."""
    n = np.arange(n_mels)
    k = np.arange(n_mfcc)[:, None]
    basis = np.cos(math.pi / n_mels * (n + 0.5) * k) * math.sqrt(2.0 / n_mels)
    basis[0] /= math.sqrt(2.0)
    return basis.astype(np.float32)


class Spectrogram(nn.Module):
    """(B, S) waveform -> (B, F, T) log-mel in dB (F = n_mels) or MFCC (F = mfcc), normalised per example.

    In training mode, each example is delayed by 0 to `time_shift` frames (silence before it, the end cut), so
    that the model does not learn where in the clip a word starts; then SpecAugment (Park et al. 2019) zeroes
    `freq_masks` bands of up to `freq_mask_width` rows and `time_masks` spans of up to `time_mask_width`
    frames, each drawn per example; zero is the example's mean after normalisation. Buffers (window,
    filterbank, DCT) are saved with the weights.
    """

    def __init__(self, description: dict[str, Any]):
        super().__init__()
        s = description["spectrogram"]
        self.n_fft, self.hop_length, self.win_length = s["n_fft"], s["hop_length"], s["win_length"]
        self.time_masks, self.time_mask_width = s.get("time_masks", 0), s.get("time_mask_width", 0)
        self.freq_masks, self.freq_mask_width = s.get("freq_masks", 0), s.get("freq_mask_width", 0)
        self.time_shift = s.get("time_shift", 0)
        self.register_buffer("window", torch.hann_window(self.win_length))  # periodic Hann, as for STFTs
        filterbank = mel_filterbank(description["sample_rate"], self.n_fft, s["n_mels"], s["f_min"], s["f_max"])
        self.register_buffer("filterbank", torch.from_numpy(filterbank))  # (M, K)
        self.register_buffer("dct", torch.from_numpy(dct_matrix(s["mfcc"], s["n_mels"])) if s["mfcc"] else None)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        # float32 even under autocast: power spectra span 10 orders of magnitude, too many for bf16 / fp16
        with torch.autocast(waveform.device.type, enabled=False):
            power = torch.stft(
                waveform.float(), self.n_fft, self.hop_length, self.win_length, self.window,
                center=True, pad_mode="constant", return_complex=True,
            ).abs().square()  # (B, K, T), K = n_fft // 2 + 1
            mel = torch.matmul(self.filterbank, power)  # (B, M, T)
            db = 10.0 * torch.log10(mel.clamp_min(AMIN))
            db = torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - TOP_DB)
            features = db if self.dct is None else torch.matmul(self.dct, db)  # (B, F, T)
            mean = features.mean(dim=(1, 2), keepdim=True)
            std = features.std(dim=(1, 2), keepdim=True)
            features = (features - mean) / (std + 1e-5)
            if self.training:
                features = self.augment(features)
        return features

    def augment(self, features: torch.Tensor) -> torch.Tensor:
        """Random delays and SpecAugment masks on (B, F, T), drawn on the features' device with torch's generator."""
        if self.time_shift:
            features = _delay(features, self.time_shift)
        for _ in range(self.freq_masks):
            features = features.masked_fill(_random_spans(features, 1, self.freq_mask_width)[:, :, None], 0.0)
        for _ in range(self.time_masks):
            features = features.masked_fill(_random_spans(features, 2, self.time_mask_width)[:, None, :], 0.0)
        return features

    def extra_repr(self) -> str:
        n_mels = self.filterbank.shape[0]
        what = f"mfcc={self.dct.shape[0]}, n_mels={n_mels}" if self.dct is not None else f"n_mels={n_mels}"
        return f"{what}, n_fft={self.n_fft}, hop_length={self.hop_length}, win_length={self.win_length}"


def _delay(features: torch.Tensor, max_frames: int) -> torch.Tensor:
    """(B, F, T) -> (B, F, T), each example moved later by 0..max_frames frames; its quietest value fills the start."""
    batch, bands, frames = features.shape
    shift = torch.randint(0, min(max_frames, frames - 1) + 1, (batch, 1), device=features.device)  # (B, 1)
    source = torch.arange(frames, device=features.device) - shift  # (B, T): the frame each output frame comes from
    moved = features.gather(2, source.clamp_min(0)[:, None, :].expand(batch, bands, frames))
    silence = features.amin(dim=(1, 2), keepdim=True)  # (B, 1, 1): the floor, 80 dB below the loudest bin
    return torch.where((source >= 0)[:, None, :], moved, silence)


def _random_spans(features: torch.Tensor, dim: int, max_width: int) -> torch.Tensor:
    """(B, size) bool: one span per example along `dim`, of a width drawn from 0..max_width, at a random start."""
    batch, size = features.shape[0], features.shape[dim]
    width = torch.randint(0, min(max_width, size) + 1, (batch, 1), device=features.device)
    start = (torch.rand(batch, 1, device=features.device) * (size - width + 1)).floor()
    position = torch.arange(size, device=features.device)  # (size,)
    return (position >= start) & (position < start + width)
