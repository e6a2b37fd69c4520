"""Audio: recordings in, waveforms of one length at one sample rate out (N, S); the model makes spectrograms.

    feature = AudioFeature("audio", {"n_mels": 40})
    feature.fit(load_source("fsdd").splits["train"]["audio"])   # 8000 Hz, 0.92 s (99th percentile) -> S = 7390
    feature.encode(["7_jackson_32.wav"]).shape                  # (1, 7390)
    feature.describe()["shape"]                                 # [1, 40, 93]: what the encoder sees, (1, F, T)

Fitting fixes the sample rate (the training clips' most common) and the clip length (the 99th percentile of
the training clips, at most MAX_SECONDS): clips are resampled to that rate, cut at the end to that length,
scaled to unit loudness (RMS 1), and zero-padded at the end. The spectrogram settings are resolved here to
plain numbers (a 25 ms window every 10 ms by default) and travel in `describe()` to
`models/layers/spectrogram.py`, which computes them on the device.

Values are `Recording`s (what the audio sources give), WAV file paths, or arrays of samples, which are taken
to be at the fitted sample rate. A file that cannot be read is an error here: sources skip bad files, but a
file given for prediction must be readable.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field

from deepscope.data.features.base import FEATURES, Feature, FeatureOptions
from deepscope.data.wav import MAX_SAMPLE_RATE, MAX_SAMPLES, MIN_SAMPLE_RATE, Recording, read_wav, resample
from deepscope.errors import ConfigError

log = logging.getLogger("deepscope")

MAX_SECONDS = 10.0  # the default clip length is never longer: 10 s of 16 kHz audio is 640 kB a clip
LENGTH_PERCENTILE = 99.0  # the default clip length covers this share of the training clips whole
MAX_N_FFT = 2**16  # the longest FFT and window: 1.6 s at 40 kHz; the filterbank is (n_mels, n_fft / 2 + 1) floats
SILENCE_RMS = 1e-4  # quieter than this (-80 dB of full scale) is silence, not scaled up


class AudioOptions(FeatureOptions):
    sample_rate: int | None = Field(None, ge=MIN_SAMPLE_RATE, le=MAX_SAMPLE_RATE,
                                    description="Hz; default: training clips' most common")
    max_seconds: float | None = Field(None, gt=0, description="clip length; default: 99th percentile of the training "
                                      "clips, at most 10 s")
    n_mels: int = Field(40, ge=1, le=512, description="mel bands")
    n_fft: int | None = Field(None, ge=8, le=MAX_N_FFT,
                              description="FFT size; default: the power of two >= win_length")
    hop_length: int | None = Field(None, ge=1, description="samples between frames; default 10 ms")
    win_length: int | None = Field(None, ge=8, le=MAX_N_FFT, description="window length in samples; default 25 ms")
    f_min: float = Field(0.0, ge=0.0, description="lowest frequency of the mel bands, Hz")
    f_max: float | None = Field(None, gt=0.0, description="highest frequency, Hz; default: half the sample rate")
    mfcc: int = Field(0, ge=0, description="number of MFCCs; 0 gives the log-mel spectrogram itself")
    time_shift: int = Field(0, ge=0, description="training examples start up to this many frames late (0: off)")
    time_masks: int = Field(0, ge=0, description="SpecAugment: time spans masked per training example")
    time_mask_width: int = Field(10, ge=0, description="SpecAugment: widest time mask, in frames")
    freq_masks: int = Field(0, ge=0, description="SpecAugment: frequency bands masked per training example")
    freq_mask_width: int = Field(8, ge=0, description="SpecAugment: widest frequency mask, in mel bands or MFCCs")


@FEATURES.register("audio")
class AudioFeature(Feature):
    type = "audio"
    kind = "audio"
    Options = AudioOptions

    @property
    def fitted(self) -> dict[str, Any]:
        return self._fitted

    @fitted.setter
    def fitted(self, state: dict[str, Any]) -> None:
        """A fitted state read back from a model.json may come from anyone: the sizes a spectrogram layer is built
        from (numpy arrays, allocated even when the model is built on the meta device) are checked first."""
        if state:
            self._check_sizes(state)
        self._fitted = state

    def _check_sizes(self, state: dict[str, Any]) -> None:
        spectrogram = state.get("spectrogram")
        if not isinstance(spectrogram, dict):
            raise self._error("the fitted state has no spectrogram settings")
        bounds = {"sample_rate": (state, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE), "n_samples": (state, 1, MAX_SAMPLES),
                  "n_fft": (spectrogram, 8, MAX_N_FFT), "win_length": (spectrogram, 8, MAX_N_FFT),
                  "hop_length": (spectrogram, 1, MAX_N_FFT), "n_mels": (spectrogram, 1, 512),
                  "mfcc": (spectrogram, 0, 512)}
        for key, (where, low, high) in bounds.items():
            value = where.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise self._error(f"the fitted {key} is {str(value)[:40]}, not a whole number from {low:,} to "
                                  f"{high:,}")

    def _fit(self, values: Any) -> dict[str, Any]:
        o = self.options
        recordings = self._recordings(values, o.sample_rate)
        sample_rate = o.sample_rate or Counter(r.sample_rate for r in recordings).most_common(1)[0][0]
        seconds = o.max_seconds or self._default_seconds(recordings)
        n_samples = max(1, math.ceil(seconds * sample_rate))
        spectrogram = self._spectrogram_settings(sample_rate)
        frames = n_samples // spectrogram["hop_length"] + 1  # torch.stft with center=True
        features = spectrogram["mfcc"] or spectrogram["n_mels"]
        return {"sample_rate": sample_rate, "n_samples": n_samples, "spectrogram": spectrogram,
                "shape": [1, features, frames]}

    def _default_seconds(self, recordings: list[Recording]) -> float:
        lengths = np.array([r.seconds for r in recordings])
        seconds = float(np.percentile(lengths, LENGTH_PERCENTILE))
        if seconds > MAX_SECONDS:
            log.info("%s.%s: clips are cut to %g s (%d%% of training clips are longer); set max_seconds to change it",
                     self.where, self.name, MAX_SECONDS, round(100 * float(np.mean(lengths > MAX_SECONDS))))
        return min(seconds, MAX_SECONDS)

    def _spectrogram_settings(self, sample_rate: int) -> dict[str, Any]:
        """Every setting as a plain number, checked against the sample rate."""
        o = self.options
        win_length = o.win_length or round(0.025 * sample_rate)
        n_fft = o.n_fft or 2 ** math.ceil(math.log2(win_length))
        f_max = o.f_max or sample_rate / 2
        place = f"{self.where}.{self.name}"
        if win_length > n_fft:
            raise ConfigError(f"{place}.win_length: {win_length} is longer than n_fft ({n_fft}); "
                              "make n_fft at least as long")
        if not o.f_min < f_max <= sample_rate / 2:
            raise ConfigError(f"{place}.f_max: the band {o.f_min:g}-{f_max:g} Hz must lie within "
                              f"0-{sample_rate / 2:g} Hz (half the sample rate, {sample_rate} Hz) with f_min "
                              "below f_max")
        if o.mfcc > o.n_mels:
            raise ConfigError(f"{place}.mfcc: {o.mfcc} coefficients from {o.n_mels} mel bands; "
                              "mfcc can be at most n_mels")
        self._check_mel_bands(sample_rate, n_fft, o.f_min, f_max, place)
        return {
            "n_mels": o.n_mels, "n_fft": n_fft, "hop_length": o.hop_length or round(0.010 * sample_rate),
            "win_length": win_length, "f_min": o.f_min, "f_max": f_max, "mfcc": o.mfcc,
            "time_shift": o.time_shift, "time_masks": o.time_masks, "time_mask_width": o.time_mask_width,
            "freq_masks": o.freq_masks, "freq_mask_width": o.freq_mask_width,
        }

    def _check_mel_bands(self, sample_rate: int, n_fft: int, f_min: float, f_max: float, place: str) -> None:
        """Every mel band must span an FFT bin, or its row of the spectrogram is always empty."""
        def mel(hz: float) -> float:  # the HTK mel scale, as the layer's filterbank
            return 2595.0 * np.log10(1.0 + hz / 700.0)

        edges = 700.0 * (10 ** (np.linspace(mel(f_min), mel(f_max), self.options.n_mels + 2) / 2595.0) - 1.0)
        bins = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)  # (K,) Hz
        empty = int((~((bins > edges[:-2, None]) & (bins < edges[2:, None])).any(axis=1)).sum())
        if empty:
            raise ConfigError(
                f"{place}.n_mels: {empty} of {self.options.n_mels} mel bands hold no FFT bin (bins are "
                f"{sample_rate / n_fft:.1f} Hz apart with n_fft {n_fft}), so their rows would always be empty; use "
                "fewer n_mels or a larger n_fft"
            )

    def encode(self, values: Any) -> torch.Tensor:
        """Recordings, WAV paths or sample arrays -> float32 (N, n_samples) at the fitted sample rate, RMS 1."""
        rate, length = self.fitted["sample_rate"], self.fitted["n_samples"]
        recordings = self._recordings(values, rate)
        waveforms = np.zeros((len(recordings), length), dtype=np.float32)  # zero padding at the end
        for row, recording in enumerate(recordings):
            samples = resample(recording.samples, recording.sample_rate, rate, keep=length,
                               name=recording.source or "a recording")
            rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
            # unit loudness: the recording level carries no label, and inputs on one scale are what the data
            # checks compare (near-duplicates are rows equal to 0.1); a silent clip is left as it is
            waveforms[row, : len(samples)] = samples / rms if rms > SILENCE_RMS else samples
        return torch.from_numpy(waveforms)

    def _recordings(self, values: Any, sample_rate: int | None) -> list[Recording]:
        """One Recording per value; arrays of samples are taken to be at `sample_rate`."""
        if isinstance(values, (str, Path, Recording)):
            values = [values]
        elif isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        if isinstance(values, np.ndarray) and values.dtype != object:
            values = [values] if values.ndim == 1 else list(values)  # one clip (S,), or a batch (N, S)
        recordings = [self._recording(value, sample_rate) for value in values]
        if not recordings:
            raise self._error("no recordings given")
        return recordings

    def _recording(self, value: Any, sample_rate: int | None) -> Recording:
        if isinstance(value, Recording):
            return value
        if isinstance(value, (str, Path)):
            return read_wav(value)
        samples = np.asarray(value)
        if samples.dtype.kind not in "if" or samples.ndim != 1 or not len(samples):
            raise self._error(
                f"audio values must be WAV file paths or 1-D arrays of samples, got {type(value).__name__} "
                f"{getattr(samples, 'shape', '')} of {samples.dtype}"
            )
        if sample_rate is None:
            raise self._error("arrays of samples do not say their sample rate; set the option sample_rate (Hz)")
        if samples.dtype.kind == "i":  # integer PCM, e.g. int16 from another reader: scale to [-1, 1)
            samples = samples / float(np.iinfo(samples.dtype).max + 1)
        if not np.isfinite(samples).all():
            raise self._error("the samples hold NaN or infinite values")
        return Recording(samples.astype(np.float32, copy=False), sample_rate)
