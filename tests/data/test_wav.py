"""WAV reading: PCM of every width, stereo to mono, resampling, and a clear error for every unusable file."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from deepscope.data.wav import decode_wav, read_wav, resample
from deepscope.errors import DataError


def write_wav(path: Path, frames: np.ndarray, rate: int = 8000, width: int = 2) -> Path:
    """Integer frames (S,) or (S, channels), `width` bytes a sample, written by Python's own `wave` module."""
    frames = frames.reshape(len(frames), -1)
    if width == 1:
        data = (frames + 128).astype(np.uint8).tobytes()  # 8-bit WAV is unsigned
    elif width == 3:
        data = frames.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()  # low 3 bytes, little-endian
    else:
        data = frames.astype(f"<i{width}").tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(data)
    return path


def riff(fmt: bytes, data: bytes, *extra_chunks: bytes) -> bytes:
    """A WAV file by hand: for the formats and layouts the `wave` module cannot write."""
    body = b"WAVE" + chunk(b"fmt ", fmt) + b"".join(extra_chunks) + chunk(b"data", data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def chunk(name: bytes, payload: bytes) -> bytes:
    return name + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)


def pcm_format(tag: int = 1, channels: int = 1, rate: int = 8000, bits: int = 16) -> bytes:
    block = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)


def test_16_bit_mono_is_scaled_to_minus_one_one(tmp_path):
    frames = np.array([0, 16384, -16384, 32767, -32768], dtype=np.int16)
    recording = read_wav(write_wav(tmp_path / "a.wav", frames, rate=11025))
    assert recording.sample_rate == 11025 and recording.samples.dtype == np.float32
    np.testing.assert_allclose(recording.samples, [0.0, 0.5, -0.5, 32767 / 32768, -1.0])
    assert recording.seconds == pytest.approx(5 / 11025)


@pytest.mark.parametrize("width,scale", [(1, 128), (3, 1 << 23), (4, 1 << 31)])
def test_8_24_and_32_bit_pcm(tmp_path, width, scale):
    frames = np.array([0, scale // 2, -scale // 2, scale - 1, -scale], dtype=np.int64)
    recording = read_wav(write_wav(tmp_path / "a.wav", frames, width=width))
    np.testing.assert_allclose(recording.samples, frames / scale, atol=1e-7)


def test_stereo_is_averaged_to_mono(tmp_path):
    frames = np.array([[1000, 3000], [-2000, 2000], [0, 0]], dtype=np.int16)
    recording = read_wav(write_wav(tmp_path / "stereo.wav", frames))
    np.testing.assert_allclose(recording.samples, [2000 / 32768, 0.0, 0.0])


def test_extra_chunks_and_extensible_pcm_are_read():
    frames = np.arange(-3, 4, dtype=np.int16)
    # WAVE_FORMAT_EXTENSIBLE: cbSize 22, valid bits, channel mask, then the PCM sub-format GUID
    extensible = pcm_format(tag=0xFFFE) + struct.pack("<HHI", 22, 16, 4) + struct.pack("<H", 1) + bytes(14)
    odd_chunk = chunk(b"LIST", b"INFOabc")  # odd length: a pad byte follows before the next chunk
    recording = decode_wav(riff(extensible, frames.tobytes(), odd_chunk), "x.wav")
    np.testing.assert_allclose(recording.samples, frames / 32768)


def test_a_streamed_wav_of_unknown_length_is_read_to_the_end():
    data = np.arange(10, dtype=np.int16).tobytes()
    wav = bytearray(riff(pcm_format(), data))
    wav[-len(data) - 4 : -len(data)] = struct.pack("<I", 0xFFFFFFFF)
    assert len(decode_wav(bytes(wav), "stream.wav").samples) == 10


def test_truncated_wav_is_an_error_naming_both_lengths(tmp_path):
    path = write_wav(tmp_path / "cut.wav", np.zeros(8000, dtype=np.int16))
    path.write_bytes(path.read_bytes()[:-6000])  # cut off in the middle of the audio
    with wave.open(str(path)) as opened:  # why deepscope does not use `wave`: it reads a shorter clip, silently
        assert len(opened.readframes(8000)) == 16000 - 6000
    promised = r"cut\.wav: truncated: .*16,000 bytes of audio \(1\.00 s\).*10,000 \(0\.62 s\).*again"
    with pytest.raises(DataError, match=promised):
        read_wav(path)


@pytest.mark.parametrize("tag,name", [
    (3, "IEEE float"), (7, "mu-law"), (6, "A-law"), (0x55, "MP3"), (0x1234, "unknown"),
])
def test_non_pcm_wav_names_its_format_and_how_to_convert(tag, name):
    wav = riff(pcm_format(tag=tag, bits=32 if tag == 3 else 8), bytes(64))
    with pytest.raises(DataError) as error:
        decode_wav(wav, "float.wav")
    message = str(error.value)
    assert message.startswith("float.wav: ") and name in message and "not integer PCM" in message
    assert "ffmpeg -i float.wav -c:a pcm_s16le out.wav" in message and "sox" in message


def test_extensible_float_wav_is_named_as_float():
    extensible = pcm_format(tag=0xFFFE, bits=32) + struct.pack("<HHI", 22, 32, 4) + struct.pack("<H", 3) + bytes(14)
    with pytest.raises(DataError, match="IEEE float"):
        decode_wav(riff(extensible, bytes(16)), "f.wav")


@pytest.mark.parametrize("data,message", [
    (b"", "empty file"),
    (b"\x89PNG\r\n\x1a\n" + bytes(40), "not a WAV file"),
    (b"ID3\x04" + bytes(40), "not a WAV file"),
    (riff(pcm_format(), b""), "no audio samples"),
    (riff(pcm_format(bits=12), bytes(8)), "12-bit PCM"),
    (riff(pcm_format(channels=0), bytes(8)), "damaged WAV header"),
    (b"RIFF" + bytes(4) + b"WAVE" + chunk(b"LIST", b"ab"), "no fmt chunk"),
    (b"RIFF" + bytes(4) + b"WAVE" + chunk(b"fmt ", pcm_format()), "no data chunk"),
])
def test_unusable_files_are_clear_errors(data, message):
    with pytest.raises(DataError, match=message):
        decode_wav(data, "bad.wav")


def test_a_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="nothing.wav: cannot read"):
        read_wav(tmp_path / "nothing.wav")


def test_resampling_keeps_the_pitch_and_the_duration():
    rate, hz = 8000, 440.0
    tone = np.sin(2 * np.pi * hz * np.arange(rate) / rate).astype(np.float32)  # 1 s of A4
    for target in (16000, 22050, 4000):
        out = resample(tone, rate, target)
        assert out.dtype == np.float32 and len(out) == target
        spectrum = np.abs(np.fft.rfft(out))
        assert np.argmax(spectrum) * target / len(out) == pytest.approx(hz, abs=1.0)
    assert resample(tone, rate, rate) is tone


@pytest.mark.parametrize("rate", [1, 999, 384_001, 4_000_000_000])
def test_a_header_claiming_an_impossible_sample_rate_is_refused(rate):
    data = riff(struct.pack("<HHIIHH", 1, 1, rate, rate * 2 % 2**32, 2, 16), np.zeros(800, "<i2").tobytes())
    with pytest.raises(DataError, match=f"bad.wav: its header claims a sample rate of {rate:,} Hz, outside the "
                                        "1,000-384,000 Hz"):
        decode_wav(data, "bad.wav")


def test_a_recording_of_more_samples_than_the_limit_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr("deepscope.data.wav.MAX_SAMPLES", 1000)
    data = riff(pcm_format(channels=2), np.zeros(1200, "<i2").tobytes())  # 600 frames x 2 channels
    with pytest.raises(DataError, match="long.wav: 1,200 samples, more than the 1,000 deepscope decodes"):
        decode_wav(data, "long.wav")
    (tmp_path / "huge.wav").write_bytes(data + b"\0" * (2**20 + 5000))  # past 4 bytes a sample and a megabyte of chunks
    with pytest.raises(DataError, match="huge.wav: 1,05.* bytes, more than the 1,000 samples"):  # before reading it
        read_wav(tmp_path / "huge.wav")
    with pytest.raises(DataError, match="tone: resampling 600 samples from 8,000 Hz to 16,000 Hz gives 1,200, more"):
        resample(np.zeros(600, np.float32), 8000, 16000, name="tone")


@pytest.mark.parametrize("from_rate, to_rate", [(8000, 16000), (44100, 16000), (22050, 8000), (1000, 384000)])
def test_resampling_only_what_is_kept_gives_the_same_samples(from_rate, to_rate):
    """A clip cut to the model's length is resampled from the input it needs only, to the same values."""
    samples = np.random.default_rng(0).standard_normal(30_000).astype(np.float32)
    for keep in (100, 7390):
        np.testing.assert_array_equal(resample(samples, from_rate, to_rate, keep=keep),
                                      resample(samples, from_rate, to_rate)[:keep])
