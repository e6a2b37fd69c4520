"""Random bytes and random JSON fed to the readers of untrusted files: only clean errors, never a crash or a hang.

A clean error is the reader's own `UserError` (what the CLI prints as one message, exit code 2); anything else
(a RecursionError from deep nesting, a MemoryError from a claimed size, safetensors' own exception) is a bug.
Hypothesis shrinks any failure to the smallest input that shows it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepscope.errors import UserError
from deepscope.io import load_tensors, read_lines, safetensors_problem

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
# entries shaped like safetensors' own, with every field sometimes of the wrong kind
tensor_entries = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "I64", "BF16", "Q7"]) | json_values,
    "shape": st.lists(st.integers(-2, 2**40), max_size=3) | json_values,
    "data_offsets": st.lists(st.integers(-2, 2**40), min_size=2, max_size=2) | json_values,
})
headers = st.dictionaries(st.text(max_size=8), tensor_entries | json_values, max_size=3) | json_values


def _safetensors(header_bytes: bytes, body: bytes, claimed: int | None = None) -> bytes:
    return struct.pack("<Q", len(header_bytes) if claimed is None else claimed) + header_bytes + body


def _load(path: Path) -> None:
    try:
        load_tensors(path)
    except UserError:
        pass


@FUZZ
@given(header=headers, body=st.binary(max_size=64))
def test_the_safetensors_reader_refuses_any_header_cleanly(tmp_path: Path, header, body: bytes) -> None:
    path = tmp_path / "weights.safetensors"
    path.write_bytes(_safetensors(json.dumps(header).encode(), body))
    problem = safetensors_problem(path)
    assert problem is None or isinstance(problem, str)
    _load(path)


@FUZZ
@given(data=st.binary(max_size=256), claimed=st.none() | st.integers(0, 2**64 - 1))
def test_the_safetensors_reader_refuses_random_bytes_cleanly(tmp_path: Path, data: bytes, claimed) -> None:
    path = tmp_path / "weights.safetensors"
    path.write_bytes(data if claimed is None else _safetensors(data, b"", claimed))
    _load(path)


@FUZZ
@given(lines=st.lists(st.binary(max_size=80) | json_values.map(json.dumps).map(str.encode)
                      | st.integers(1, 5000).map(lambda n: b"[" * n), max_size=8))
def test_the_metrics_reader_keeps_only_objects_whatever_the_lines(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b"\n".join(lines))
    rows = read_lines(path)
    assert all(isinstance(row, dict) for row in rows)


@FUZZ
@given(text=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1"))
       | json_values.map(json.dumps))
def test_the_config_parser_gives_a_value_or_a_config_error(text: str) -> None:
    from deepscope.config.loading import parse_yaml

    try:
        parse_yaml(text, "config.yaml")
    except UserError:
        pass


@FUZZ
@given(data=st.binary(max_size=300))
def test_the_wav_reader_refuses_random_bytes_cleanly(data: bytes) -> None:
    from deepscope.data.wav import decode_wav

    try:
        decode_wav(b"RIFF" + data[:4] + b"WAVE" + data[4:], "sound.wav")
    except UserError:
        pass


@FUZZ
@given(rate=st.integers(0, 2**32 - 1), channels=st.integers(0, 2**16 - 1), bits=st.sampled_from([0, 8, 16, 24, 32, 7]),
       frames=st.binary(max_size=64))
def test_the_wav_reader_refuses_any_claimed_format_cleanly(rate: int, channels: int, bits: int, frames: bytes) -> None:
    """A well-formed RIFF file whose `fmt ` chunk claims any rate, channel count and width (1 Hz, 4 GHz, 0)."""
    from deepscope.data.wav import decode_wav

    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * max(channels, 1) * bits // 8 % 2**32,
                      max(channels, 1) * bits // 8 % 2**16, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(frames)) + frames
    try:
        recording = decode_wav(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks, "sound.wav")
    except UserError:
        return
    assert recording.sample_rate > 0


@pytest.mark.parametrize("depth", [10, 1000, 100_000])
def test_deep_nesting_is_junk_not_a_crash(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("[" * depth + "\n" + '{"epoch": 1, "train.loss": 0.5}\n')
    assert read_lines(path) == [{"epoch": 1, "train.loss": 0.5}]
