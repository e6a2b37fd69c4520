"""Text that is not UTF-8: a Windows-1252 sentiment corpus (rt-polarity's layout: one sentence a line, the file's
suffix the label) whose accented names made 1.9 % of its lines unreadable, tables saved by Excel, UTF-16 files.

Without `data.encoding` nothing is lost: lines that are not UTF-8 are read as Windows-1252 and one console line
per file counts them. With `data.encoding` given, lines not valid in it are left out, counted in one line, and
each recorded: RawData.skipped, diagnosis.json, the report's data section.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

import deepscope as ds
from deepscope.data.sources import load_source
from deepscope.data.sources.csv_table import load_csv
from deepscope.data.sources.encoding import decode_text
from deepscope.data.sources.text_folder import load_text_folder
from deepscope.errors import ConfigError

NAMES = ["Amélie", "Almodóvar", "Renée Zellweger", "Penélope Cruz", "Björk", "Zoë", "Señor Coconut", "Gérard"]
WORDS = {"pos": ["wonderful", "moving", "brilliant", "charming", "gripping"],
         "neg": ["dull", "tedious", "lifeless", "silly", "clumsy"]}
EVERY = 8  # one sentence in 8 names someone with an accent


def sentences(label: str, count: int) -> list[str]:
    words = WORDS[label]
    return [f"a {words[i % 5]} , {words[(i // 5) % 5]} film number {i}"
            + (f" with {NAMES[(i // EVERY) % len(NAMES)]} ." if i % EVERY == 3 else " .") for i in range(count)]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """rt-polarity.pos / .neg in Windows-1252, as Pang and Lee distribute them."""
    folder = tmp_path / "rt-polarity"
    folder.mkdir()
    for label in ("pos", "neg"):
        (folder / f"rt-polarity.{label}").write_bytes(("\n".join(sentences(label, 80)) + "\n").encode("cp1252"))
    return folder


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_by_default_windows_1252_lines_are_read_with_their_accents_and_counted_once_per_file(corpus, caplog):
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        raw = load_source(str(corpus))
    texts = raw.splits["train"]["text"].tolist()
    assert len(texts) == 160 and not raw.skipped  # nothing lost
    assert "a moving , brilliant film number 11 with Almodóvar ." in texts
    assert sum(any(n in t for n in NAMES) for t in texts) == 2 * 10  # every accented sentence is there, intact
    found = warnings(caplog)
    assert len(found) == 2  # one line per file, not one per sentence
    assert all("10 of 80 lines are not UTF-8 (lines 4, 12, 20, 28, 36, ...); read them as Windows-1252" in w
               for w in found)


def test_with_an_encoding_given_the_lines_not_valid_in_it_are_left_out_counted_and_recorded(corpus, caplog):
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        raw = load_text_folder(corpus, encoding="utf-8")
    assert raw.size("train") == 140 and len(raw.skipped) == 20
    first = sentences("neg", 4)[3].encode("cp1252")  # "... film number 3 with Amélie ."
    column = first.index(b"\xe9") + 1
    assert raw.skipped[0] == f"{corpus}/rt-polarity.neg, line 4: not valid utf-8 text (byte 0xe9 at column {column})"
    found = warnings(caplog)
    assert len(found) == 2 and "left out 10 of 80 lines that are not valid utf-8 text (lines 4, 12, 20" in found[0]
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        caplog.clear()
        raw = load_text_folder(corpus, encoding="cp1252")  # the right one: everything, silently
    assert raw.size("train") == 160 and not raw.skipped and not warnings(caplog)


def test_mixed_files_keep_utf8_lines_as_utf8(tmp_path):
    """Files joined from two sources: a UTF-8 line must not be read as Windows-1252 ("Ã©")."""
    data = "café au lait\n".encode() + "Amélie\n".encode("cp1252") + b"\xef\xbb\xbf? no, a BOM mid-file is text\n"
    decoded = decode_text(b"\xef\xbb\xbf" + data, None)
    assert decoded.lines()[:2] == ["café au lait", "Amélie"] and decoded.fallback_lines == [2]


def test_a_windows_1252_csv_from_excel_and_a_utf16_one_read_by_default(tmp_path):
    rows = "name;review;stars\r\nGérard;très bien;5\r\nZoë;naïve but fun;4\r\n"
    excel = tmp_path / "reviews.txt"
    excel.write_bytes(rows.encode("cp1252"))
    raw = load_csv(excel)
    assert raw.splits["train"]["name"].tolist() == ["Gérard", "Zoë"] and not raw.skipped
    notepad = tmp_path / "notepad.csv"  # Windows Notepad's "Unicode": UTF-16 with a byte-order mark
    notepad.write_bytes(rows.replace(";", ",").encode("utf-16"))
    assert load_csv(notepad).splits["train"]["review"].tolist() == ["très bien", "naïve but fun"]


def test_a_table_with_an_encoding_given_leaves_out_bad_rows_and_keeps_line_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"x,y\n1,a\n2,caf\xe9\n3,c\n4,d,extra\n")
    with pytest.raises(Exception, match=r"line 5: 3 fields"):  # line numbers are the file's, after a left-out line
        load_csv(path, encoding="utf-8")
    path.write_bytes(b"x,y\n1,a\n2,caf\xe9\n3,c\n")
    raw = load_csv(path, encoding="utf-8")
    assert raw.splits["train"]["x"].tolist() == ["1", "3"]
    assert raw.skipped == [f"{path}, line 3: not valid utf-8 text (byte 0xe9 at column 6)"]


def test_an_unknown_encoding_names_the_key():
    with pytest.raises(ConfigError, match=r"data.encoding: 'utf8x' is not an encoding Python knows"):
        decode_text(b"a", "utf8x")


def test_skipped_lines_reach_diagnosis_json_and_the_report_and_each_warning_prints_once(corpus, tmp_path, caplog):
    config = {"data": {"source": str(corpus), "encoding": "utf-8"},
              "model": {"encoder": {"name": "cnn1d", "filters": 4, "widths": [2], "embedding": {"dim": 8}}},
              "train": {"epochs": 1, "batch_size": 64},
              "run": {"root": str(tmp_path / "runs")}}
    with caplog.at_level(logging.INFO, logger="deepscope"):
        run = ds.train(config, progress=False)
    left_out = [w for w in warnings(caplog) if "left out" in w]
    assert len(left_out) == 2  # one per file, printed once (they used to be printed by the source and again)
    record = json.loads((run.dir / "diagnosis.json").read_text())
    assert len(record["record"]["data"]["skipped"]) == 20
    finding = next(f for f in record["findings"] if f["code"] == "skipped_inputs")
    assert finding["severity"] == "warning" and finding["evidence"]["skipped"] == 20
    assert finding["evidence"]["reasons"] == {"not valid utf-8 text": 20}
    report = (run.dir / "report.html").read_text()
    data_section = report[report.index('<section id="data">'):]
    data_section = data_section[:data_section.index("</section>")]
    assert len(re.findall(r"rt-polarity\.(?:pos|neg), line \d+</td>", data_section)) == 20
