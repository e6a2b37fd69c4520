"""Hostile-input suite, prediction inputs: what a user hands to `deepscope predict RUN INPUT` against small real runs
(a table with a number column, a text model, an image model, an audio model). Each case ends exactly as its row
says: refused with exit code 2 and a message naming the file and the row, column or limit, or (for a paragraph of
text, which is an input and not a path) a prediction; never a traceback, never a NaN, nothing outside the run root
touched. The inputs that could exhaust memory run in a fresh process under an address-space limit."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.hostile.harness import refused, run_bounded, snapshot, succeeded, untouched
from tests.hostile.trained_runs import audio_run, image_run, table_run, text_run

PARAGRAPH = ("A gripping, funny film: the story is wonderfully told, warm and moving from start to end, and the "
             "actors carry it with ease. ") * 18  # about 2 KB, far past the 255 bytes a file name may have


def table_file(text: str) -> Callable[[Path], str]:
    def plant(folder: Path) -> str:
        (folder / "input.csv").write_text(text)
        return "input.csv"
    return plant


def png_claiming(width: int, height: int) -> Callable[[Path], str]:
    """A PNG whose header claims width x height greyscale pixels; its data is a few rows (the header is enough)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    def plant(folder: Path) -> str:
        header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
        rows = zlib.compress(b"\0" * (width + 1) * 4)
        data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
        (folder / "claims.png").write_bytes(data)
        return "claims.png"
    return plant


def cut_png(folder: Path) -> str:
    from PIL import Image

    Image.new("L", (64, 64), 90).save(folder / "cut.png")
    (folder / "cut.png").write_bytes((folder / "cut.png").read_bytes()[:40])
    return "cut.png"


def wav_claiming(rate: int, *, cut: int = 0) -> Callable[[Path], str]:
    """100,000 16-bit samples (200 KB) under a header claiming `rate` Hz; `cut` bytes missing from the end."""
    def plant(folder: Path) -> str:
        samples = (np.random.default_rng(0).standard_normal(100_000) * 3000).astype("<i2").tobytes()
        fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2 % 2**32, 2, 16)
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples))
        data = b"RIFF" + struct.pack("<I", len(body) + len(samples)) + body + samples
        (folder / "claims.wav").write_bytes(data[: len(data) - cut])
        return "claims.wav"
    return plant


def argument(text: str) -> Callable[[Path], str]:
    return lambda folder: text


@dataclass(frozen=True)
class Case:
    name: str
    run: str  # which trained run: table, text, image or audio
    plant: Callable[[Path], str]  # writes the input into the folder, returns the INPUT argument
    places: tuple[str, ...]  # what the refusal must name; () for an input that must be predicted
    bomb: bool = False  # could exhaust memory: a fresh process under a memory limit


CASES = [
    Case("inf-cell", "table", table_file("age,job\n41,nurse\ninf,cook\n"), ("input.csv", "line 3", "'age'", "'inf'")),
    Case("minus-inf-cell", "table", table_file("age,job\n41,nurse\n35,cook\n-inf,admin\n"),
         ("input.csv", "line 4", "'age'", "'-inf'")),
    Case("overflowing-cell", "table", table_file("age,job\n1e309,nurse\n"), ("input.csv", "line 2", "'age'", "1e309")),
    Case("infinity-spelled-out", "table", table_file("age,job\n41,nurse\n\nInfinity,cook\n"),
         ("input.csv", "line 4", "'age'")),  # the blank line is counted, as a text editor counts
    Case("semicolon-separated", "table", table_file("age;job\n41;nurse\n"),
         ("input.csv", 'separated by ";"', 'data.delimiter: ";"')),
    Case("tab-separated-as-csv", "table", table_file("age\tjob\n41\tnurse\n"),
         ("input.csv", 'separated by "\\t"', "data.delimiter")),
    Case("missing-cells-are-fine", "table", table_file("age,job\n,nurse\nnan,cook\n"), ()),
    Case("a-paragraph-of-text", "text", argument(PARAGRAPH), ()),
    Case("empty-text", "text", argument(""), ("the text is empty", "review")),
    Case("blank-text", "text", argument("   "), ("empty", "review")),
    Case("png-claiming-30000x30000", "image", png_claiming(30000, 30000), ("claims.png", "50 Mpixel"), bomb=True),
    Case("png-claiming-13000x13000", "image", png_claiming(13000, 13000),
         ("claims.png", "13,000 x 13,000", "50 Mpixel"), bomb=True),
    Case("png-cut-short", "image", cut_png, ("cut.png",)),
    Case("wav-claiming-1-hz", "audio", wav_claiming(1), ("claims.wav", "1 Hz", "1,000-384,000 Hz"), bomb=True),
    Case("wav-claiming-4-ghz", "audio", wav_claiming(4_000_000_000), ("claims.wav", "4,000,000,000 Hz"), bomb=True),
    Case("wav-cut-short", "audio", wav_claiming(8000, cut=50_000), ("claims.wav", "truncated")),
]
TRAINERS = {"table": table_run, "text": text_run, "image": image_run, "audio": audio_run}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    return {kind: train(tmp_path_factory.mktemp(kind)) for kind, train in TRAINERS.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_hostile_prediction_input_ends_as_its_row_says(case, runs, tmp_path, deepscope_in_process):
    source = case.plant(tmp_path)
    before = snapshot(tmp_path)
    args = ["predict", str(runs[case.run]), source, "--output", str(runs[case.run] / "predictions.csv")]
    result = run_bounded(*args, cwd=tmp_path) if case.bomb else deepscope_in_process(*args, cwd=tmp_path)
    if case.places:
        refused(result, *case.places)
    else:
        text = succeeded(result)
        assert "nan" not in (runs[case.run] / "predictions.csv").read_text().lower(), text
    untouched(before, snapshot(tmp_path))
