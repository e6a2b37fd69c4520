"""The Spectrogram layer: mel filterbank and DCT against references, shapes, normalisation, SpecAugment, devices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.fft
import torch

from deepscope.models.layers.spectrogram import Spectrogram, dct_matrix, mel_filterbank

# librosa's numbers for the settings below, computed once by tests/fixtures/make_librosa_reference.py (librosa
# and numba are too heavy to install for two comparisons; the fixture lets them run everywhere, CI included)
LIBROSA = dict(np.load(Path(__file__).parents[1] / "fixtures" / "librosa_reference.npz"))
RATE = 8000
SETTINGS = {"n_mels": 40, "n_fft": 256, "hop_length": 80, "win_length": 200, "f_min": 0.0, "f_max": 4000.0, "mfcc": 0}


def description(**settings) -> dict:
    return {"name": "audio", "kind": "audio", "sample_rate": RATE, "n_samples": 4000,
            "spectrogram": {**SETTINGS, **settings}}


def tone(hz: float, seconds: float = 0.5, rate: int = RATE) -> torch.Tensor:
    return torch.sin(2 * torch.pi * hz * torch.arange(int(seconds * rate)) / rate)


def test_mel_filterbank_matches_librosa_htk():
    # librosa.filters.mel(sr=8000, n_fft=16, n_mels=3, fmin=100, fmax=3500, htk=True, norm=None), librosa 0.11
    expected = np.array([
        [0.0, 0.973331, 0.213851, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.786149, 0.610282, 0.079286, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.389718, 0.920714, 0.701586, 0.350793, 0.0, 0.0],
    ])
    np.testing.assert_allclose(mel_filterbank(8000, 16, 3, 100.0, 3500.0), expected, atol=1e-6)


def test_mel_filterbank_matches_librosa_at_a_realistic_size():
    for rate, n_fft, n_mels, f_min, f_max in ((8000, 256, 40, 0.0, 4000.0), (16000, 512, 64, 20.0, 7600.0)):
        expected = LIBROSA[f"mel_{rate}_{n_fft}_{n_mels}"]  # librosa.filters.mel(..., htk=True, norm=None)
        np.testing.assert_allclose(mel_filterbank(rate, n_fft, n_mels, f_min, f_max), expected, atol=1e-6)


def test_mel_bands_are_triangles_rising_in_frequency():
    bank = mel_filterbank(RATE, 256, 40, 0.0, 4000.0)  # (40, 129)
    assert bank.shape == (40, 129) and bank.min() >= 0 and bank.max() <= 1
    peaks = bank.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all() and peaks[-1] > 100  # centres climb to the top of the band
    widths = (bank > 0).sum(axis=1)
    assert (widths >= 1).all() and widths[-1] > widths[0]  # mel bands widen with frequency


def test_dct_matches_scipy_orthonormal_dct_ii():
    x = np.random.default_rng(0).standard_normal((5, 40))
    np.testing.assert_allclose(x @ dct_matrix(13, 40).T, scipy.fft.dct(x, type=2, norm="ortho")[:, :13], atol=1e-5)


def test_shape_normalisation_and_where_a_tone_lands():
    layer = Spectrogram(description()).eval()
    waves = torch.stack([tone(300.0), tone(2000.0)])  # (2, 4000)
    out = layer(waves)  # (2, 40, 51)
    assert out.shape == (2, 40, 4000 // 80 + 1) and out.dtype == torch.float32
    torch.testing.assert_close(out.mean(dim=(1, 2)), torch.zeros(2), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.std(dim=(1, 2)), torch.ones(2), atol=1e-3, rtol=0)
    bank = mel_filterbank(RATE, 256, 40, 0.0, 4000.0)
    for row, hz in enumerate((300.0, 2000.0)):
        loudest = out[row, :, 10:40].mean(dim=1).argmax().item()  # away from the zero-padded edges
        assert loudest == bank[:, round(hz / (RATE / 256))].argmax()


def test_matches_librosa_log_mel_and_mfcc():
    # librosa.feature.melspectrogram (n_fft 256, hop 80, window 200, htk, centred with zero padding), power_to_db
    # (ref 1, top_db 80) and mfcc (13) of this waveform: see tests/fixtures/make_librosa_reference.py
    y = LIBROSA["waveform"]
    for mfcc, expected in ((0, LIBROSA["log_mel"]), (13, LIBROSA["mfcc"])):
        normalised = (expected - expected.mean()) / (expected.std(ddof=1) + 1e-5)
        out = Spectrogram(description(mfcc=mfcc)).eval()(torch.from_numpy(y)[None])[0]
        np.testing.assert_allclose(out.numpy(), normalised, atol=1e-4)


def test_mfcc_rows():
    out = Spectrogram(description(mfcc=13)).eval()(tone(440.0)[None])
    assert out.shape == (1, 13, 51)


def test_spec_augment_masks_only_in_training():
    layer = Spectrogram(description(freq_masks=2, freq_mask_width=8, time_masks=2, time_mask_width=10))
    waves = torch.randn(16, 4000) * 0.1
    layer.eval()
    clean = layer(waves)
    torch.testing.assert_close(layer(waves), clean)  # no randomness at evaluation
    layer.train()
    torch.manual_seed(0)
    masked = layer(waves)
    changed = masked != clean  # (16, 40, 51): masked cells were set to 0 (the mean)
    assert (masked[changed] == 0).all()
    rows, frames = changed.all(dim=2), changed.all(dim=1)  # whole bands, whole frames
    assert rows.sum(dim=1).max() <= 16 and frames.sum(dim=1).max() <= 20
    assert rows.any() and frames.any()
    assert not torch.equal(changed[0], changed[1])  # drawn per example


def test_time_shift_delays_each_training_example_by_whole_frames():
    layer = Spectrogram(description(time_shift=6))
    waves = torch.zeros(32, 4000)
    waves[:, :2000] = tone(700.0)[:2000] * (1 + torch.arange(32)[:, None] / 32)  # sound, then silence
    clean = layer.eval()(waves)  # (32, 40, 51)
    torch.manual_seed(0)
    shifted = layer.train()(waves)
    delays = set()
    for row in range(32):
        delay = next(d for d in range(7) if torch.allclose(shifted[row, :, d:], clean[row, :, : 51 - d]))
        assert (shifted[row, :, :delay] == clean[row].min()).all()  # silence before the sound
        delays.add(delay)
    assert len(delays) > 3 and max(delays) <= 6


def test_padding_is_floored_not_minus_infinity():
    waves = torch.zeros(2, 4000)
    waves[0, :1000] = tone(500.0)[:1000]
    out = Spectrogram(description()).eval()(waves)
    assert torch.isfinite(out).all()
    assert out[0, :, -10:].std() < 1e-3  # silence sits at one floor value, 80 dB below the loudest bin
    assert torch.isfinite(out[1]).all()  # an all-silent clip does not divide by zero


def test_float32_under_bf16_autocast_and_gradients_reach_the_waveform():
    layer = Spectrogram(description()).eval()
    waves = (torch.randn(2, 4000) * 0.1).requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(waves)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, layer(waves))
    out.square().sum().backward()
    assert waves.grad is not None and torch.isfinite(waves.grad).all()


@pytest.mark.gpu
def test_runs_on_the_batch_device():
    layer = Spectrogram(description(freq_masks=1, time_masks=1)).cuda()
    waves = torch.randn(4, 4000)
    out = layer(waves.cuda())
    assert out.device.type == "cuda"
    torch.testing.assert_close(layer.eval()(waves.cuda()).cpu(), layer.cpu()(waves), atol=1e-4, rtol=1e-4)
