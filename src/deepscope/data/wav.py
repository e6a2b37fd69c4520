"""WAV recordings: integer PCM (8, 16, 24 or 32 bits), any sample rate, mono or stereo -> float32 mono in [-1, 1].

    recording = read_wav("7_jackson_32.wav")
    recording.samples.shape, recording.sample_rate      # (3520,), 8000
    resample(recording.samples, 8000, 16000).shape      # (7040,)

The RIFF chunks are read here rather than with Python's `wave` module, because `wave` returns fewer frames
than the header promises when a file is cut off, without a word, and names float or compressed files only by
a number. A file that cannot be used raises a DataError that says what is wrong with it and how to convert it.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepscope.errors import DataError

PCM, EXTENSIBLE = 0x0001, 0xFFFE
FORMAT_NAMES = {  # WAVE format tags a user may meet, by the name converters use
    0x0002: "Microsoft ADPCM", 0x0003: "IEEE float", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10", 0x0050: "MPEG", 0x0055: "MP3", 0x0161: "WMA", 0x1610: "AAC",
}
UNKNOWN_LENGTH = 0xFFFFFFFF  # written by programs that stream a WAV before they know its length
# Bounds on what a header may claim, so that a 200 KB file cannot decode into gigabytes. 1 kHz-384 kHz spans
# telephone speech to studio masters; a header claiming 1 Hz would be resampled 8,000-fold to a model's 8 kHz.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 384_000
# samples (all channels) a file may decode to, and a resampling may give: 200 MB of float32, 52 min at 16 kHz
MAX_SAMPLES = 50_000_000
CONVERT = ("convert it to 16-bit PCM, e.g. `ffmpeg -i {name} -c:a pcm_s16le out.wav` or "
           "`sox {name} -b 16 -e signed-integer out.wav`")


@dataclass(eq=False)  # compared (and hashed) by identity: two takes of the same word are not "the same value"
class Recording:
    """One decoded recording: `samples` (S,) float32 mono in [-1, 1] at `sample_rate` Hz; `source` names it."""

    samples: np.ndarray
    sample_rate: int
    source: str = ""

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    def __repr__(self) -> str:
        return f"Recording({self.source or 'array'}, {self.seconds:.2f} s at {self.sample_rate} Hz)"


@dataclass(frozen=True)
class _Format:
    tag: int
    channels: int
    sample_rate: int
    bits: int


def read_wav(path: str | Path) -> Recording:
    """Read a WAV file; see `decode_wav`.

    Example:
        >>> read_wav("recordings/7_jackson_32.wav").sample_rate  # doctest: +SKIP
        8000
    """
    try:
        size = Path(path).stat().st_size
        if size > 4 * MAX_SAMPLES + 2**20:  # 32-bit samples at most, and a megabyte of other chunks
            raise DataError(f"{path}: {size:,} bytes, more than the {MAX_SAMPLES:,} samples deepscope decodes "
                            "from one recording; cut it into shorter clips")
        data = Path(path).read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read this file ({error.strerror or error})") from None
    return decode_wav(data, str(path))


def decode_wav(data: bytes, name: str = "<bytes>") -> Recording:
    """The bytes of a WAV file -> a mono float32 Recording (channels are averaged).

    Raises:
        DataError: the bytes are empty, not a WAV, a WAV of float or compressed samples, truncated (the data
            chunk is shorter than its header says), or hold no samples. `name` starts the message.

    Example:
        >>> decode_wav(open("tone.wav", "rb").read(), "tone.wav").samples.dtype  # doctest: +SKIP
        dtype('float32')
    """
    if not data:
        raise DataError(f"{name}: empty file (0 bytes), not a WAV recording; record or export it again")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise DataError(f"{name}: not a WAV file (it starts with {data[:12]!r}, not RIFF....WAVE); "
                        + CONVERT.format(name=name))
    fmt, start, size = _chunks(data, name)
    frame_bytes = fmt.channels * fmt.bits // 8
    available = len(data) - start
    size = available if size == UNKNOWN_LENGTH else size
    if available < size:
        raise DataError(
            f"{name}: truncated: its header promises {size:,} bytes of audio ({_seconds(size, fmt):.2f} s) but "
            f"the file holds only {available:,} ({_seconds(available, fmt):.2f} s); it was cut off while being "
            "copied, downloaded or recorded: copy or export it again"
        )
    frames = size // frame_bytes
    if frames * fmt.channels > MAX_SAMPLES:
        raise DataError(f"{name}: {frames * fmt.channels:,} samples, more than the {MAX_SAMPLES:,} deepscope decodes "
                        "from one recording; cut it into shorter clips")
    if frames == 0:
        raise DataError(f"{name}: the WAV holds no audio samples (an empty data chunk); record or export it again")
    samples = _pcm_to_float(data, start, frames * fmt.channels, fmt.bits)  # (frames * channels,) interleaved
    mono = samples.reshape(frames, fmt.channels).mean(axis=1, dtype=np.float32)  # (frames,)
    return Recording(mono, fmt.sample_rate, name)


def _chunks(data: bytes, name: str) -> tuple[_Format, int, int]:
    """(the fmt chunk, where the audio starts, its declared size in bytes), walking the RIFF chunks."""
    fmt, offset = None, 12
    while offset + 8 <= len(data):
        chunk, size = struct.unpack_from("<4sI", data, offset)
        if chunk == b"fmt ":
            fmt = _parse_format(data, offset + 8, size, name)
        elif chunk == b"data":
            if fmt is None:
                raise DataError(f"{name}: damaged WAV header (the data chunk comes before the fmt chunk); "
                                + CONVERT.format(name=name))
            return fmt, offset + 8, size
        offset += 8 + size + (size & 1)  # chunks are padded to an even length
    what = ("no fmt chunk (the header is damaged)" if fmt is None
            else "no data chunk (the file holds no audio, or was cut off before it)")
    raise DataError(f"{name}: {what}; record or export it again")


def _parse_format(data: bytes, start: int, size: int, name: str) -> _Format:
    if size < 16 or start + 16 > len(data):
        raise DataError(f"{name}: damaged WAV header (a fmt chunk of {size} bytes, fewer than 16); "
                        + CONVERT.format(name=name))
    tag, channels, sample_rate, _, _, bits = struct.unpack_from("<HHIIHH", data, start)
    if tag == EXTENSIBLE and size >= 26 and start + 26 <= len(data):
        tag = struct.unpack_from("<H", data, start + 24)[0]  # the sub-format GUID starts with the real tag
    if tag != PCM:
        what = FORMAT_NAMES.get(tag, "an unknown encoding")
        raise DataError(f"{name}: a WAV of {what} samples (format tag {tag:#06x}), not integer PCM, which is what "
                        "deepscope reads; " + CONVERT.format(name=name))
    if bits not in (8, 16, 24, 32):
        raise DataError(f"{name}: {bits}-bit PCM; deepscope reads 8, 16, 24 or 32-bit PCM: "
                        + CONVERT.format(name=name))
    if channels == 0 or sample_rate == 0:
        raise DataError(f"{name}: damaged WAV header ({channels} channels at {sample_rate} Hz); "
                        + CONVERT.format(name=name))
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise DataError(f"{name}: its header claims a sample rate of {sample_rate:,} Hz, outside the "
                        f"{MIN_SAMPLE_RATE:,}-{MAX_SAMPLE_RATE:,} Hz of real recordings (a damaged header?); "
                        + CONVERT.format(name=name))
    return _Format(tag, channels, sample_rate, bits)


def _pcm_to_float(data: bytes, start: int, count: int, bits: int) -> np.ndarray:
    """`count` little-endian PCM samples from `start` -> float32 in [-1, 1)."""
    if bits == 8:  # 8-bit WAV is unsigned, silence at 128
        return (np.frombuffer(data, np.uint8, count, start).astype(np.float32) - 128.0) / 128.0
    if bits == 24:  # no numpy dtype: assemble 3 bytes into int32, then shift up and back to extend the sign
        raw = np.frombuffer(data, np.uint8, count * 3, start).reshape(count, 3).astype(np.int32)
        values = ((raw[:, 0] | raw[:, 1] << 8 | raw[:, 2] << 16) << 8) >> 8
        return values.astype(np.float32) / float(1 << 23)
    dtype = np.dtype(f"<i{bits // 8}")
    return np.frombuffer(data, dtype, count, start).astype(np.float32) / float(1 << (bits - 1))


def _seconds(size: int, fmt: _Format) -> float:
    return size / (fmt.channels * fmt.bits // 8) / fmt.sample_rate


def resample(samples: np.ndarray, from_rate: int, to_rate: int, *, keep: int | None = None,
             name: str = "recording") -> np.ndarray:
    """(S,) at `from_rate` Hz -> (S * to_rate / from_rate,) at `to_rate`, with scipy's polyphase filter.

    `keep`: only the first `keep` output samples are wanted (a clip cut to the model's length), so only the
    input they depend on is resampled: a long recording is not resampled whole to be cut. More than
    MAX_SAMPLES output samples is a DataError naming `name`.

    Example:
        >>> resample(np.zeros(8000, np.float32), 8000, 16000).shape
        (16000,)
    """
    if from_rate == to_rate:
        return samples if keep is None else samples[:keep]
    divisor = math.gcd(from_rate, to_rate)
    up, down = to_rate // divisor, from_rate // divisor
    if keep is not None:  # the filter reaches 10 * max(up, down) up-sampled steps either side (scipy's default)
        margin = math.ceil(10 * max(up, down) / up) + 2
        samples = samples[: math.ceil(keep * down / up) + margin]
    out_length = math.ceil(len(samples) * up / down)
    if out_length > MAX_SAMPLES:
        raise DataError(f"{name}: resampling {len(samples):,} samples from {from_rate:,} Hz to {to_rate:,} Hz "
                        f"gives {out_length:,}, more than the {MAX_SAMPLES:,} deepscope decodes from one recording; "
                        "cut it into shorter clips")
    from scipy.signal import resample_poly  # here: scipy.signal takes 1.5 s to import; most runs have no audio

    out = resample_poly(samples, up, down).astype(np.float32)
    return out if keep is None else out[:keep]
