"""Melodies as tokens (data/music.py) and their source (data/sources/music.py): the encoding round-trips, pieces
are split whole, MIDI files read back with the same notes, and each mistake in the files or the voice is one
clear DataError naming the file."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("music21")

from deepscope.config.schema import DataConfig  # noqa: E402
from deepscope.data.music import (  # noqa: E402
    PIECE,
    Note,
    music_vocabulary,
    nearest_duration,
    note_tokens,
    piece_stream,
    token_notes,
)
from deepscope.data.prepare import prepare_data  # noqa: E402
from deepscope.data.sources.music import read_voice, split_pieces  # noqa: E402
from deepscope.errors import DataError, UserError  # noqa: E402
from deepscope.models.melody import Melody, write_midi  # noqa: E402

TUNE = [Note(67, 1.0), Note(69, 0.5), Note(71, 0.5), Note(None, 1.0), Note(72, 2.0)]


def write_score(path: Path, parts: dict[str, list[Note]]) -> Path:
    """A MusicXML file with one part per name, written by music21 as a notation program would."""
    from music21 import metadata, note, stream

    score = stream.Score()
    score.metadata = metadata.Metadata(title=path.stem)
    for name, notes in parts.items():
        part = stream.Part()
        part.partName = name
        for n in notes:
            part.append(note.Rest(quarterLength=n.quarters) if n.is_rest
                        else note.Note(n.pitch, quarterLength=n.quarters))
        score.insert(0, part)
    score.write("musicxml", fp=str(path))
    return path


def test_the_encoding_is_two_tokens_a_note_and_reads_back():
    tokens = note_tokens(TUNE)
    assert tokens == ["p67", "d1", "p69", "d0.5", "p71", "d0.5", "rest", "d1", "p72", "d2"]
    assert token_notes(tokens) == TUNE
    stream = piece_stream([TUNE, TUNE[:2]])
    assert stream[0] == PIECE and stream[-1] == PIECE and stream.count(PIECE) == 3
    assert token_notes(["d1", "p67", "p69", "d1", "<unk>", "d2"]) == [Note(69, 1.0)]  # out of place: passed over


def test_durations_snap_to_the_nearest_of_the_fixed_list():
    quarters = (0.125, 0.25, 1.0, 1.4, 4.5, 5.0, 100.0)
    assert [nearest_duration(q) for q in quarters] == [0.25, 0.25, 1.0, 1.5, 4.0, 6.0, 8.0]


def test_the_vocabulary_lists_specials_then_pitches_then_durations_in_order():
    vocabulary = music_vocabulary(piece_stream([TUNE]))
    assert vocabulary == ["<unk>", PIECE, "rest", "p67", "p69", "p71", "p72", "d0.5", "d1", "d2"]


def test_a_musicxml_voice_reads_as_its_notes_ties_joined_and_leading_rests_dropped(tmp_path):
    from music21 import note, stream, tie

    part = stream.Part()
    part.partName = "Soprano"
    part.append(note.Rest(quarterLength=1))
    first, second = note.Note(64, quarterLength=1), note.Note(64, quarterLength=1)
    first.tie, second.tie = tie.Tie("start"), tie.Tie("stop")
    part.append([first, second, note.Note(62, quarterLength=2)])
    score = stream.Score([part])
    score.write("musicxml", fp=str(tmp_path / "tied.musicxml"))
    assert read_voice(tmp_path / "tied.musicxml", "soprano") == [Note(64, 2.0), Note(62, 2.0)]


def test_a_voice_is_chosen_by_name_or_number(tmp_path):
    path = write_score(tmp_path / "two.musicxml", {"Soprano": TUNE, "Alto": [Note(60, 4.0)]})
    assert read_voice(path, "alto") == [Note(60, 4.0)]
    assert read_voice(path, "2") == [Note(60, 4.0)]
    assert read_voice(path, "Soprano") == TUNE


def test_pieces_are_split_whole_by_a_seeded_shuffle():
    parts = split_pieces(50, val=0.1, test=0.1, seed=3)
    assert sorted(sum(parts.values(), [])) == list(range(50))  # every piece once, no piece in two splits
    assert (len(parts["val"]), len(parts["test"])) == (5, 5)
    assert split_pieces(50, val=0.1, test=0.1, seed=3) == parts != split_pieces(50, val=0.1, test=0.1, seed=4)


def test_a_folder_becomes_windows_with_held_out_pieces_and_a_training_vocabulary(tmp_path):
    for i in range(10):
        write_score(tmp_path / f"piece{i}.musicxml", {"Soprano": [Note(40 + i, 1.0)] * 6 + TUNE})
    data = prepare_data(DataConfig(source=str(tmp_path), music={"context": 8, "val": 0.2, "seed": 0}))
    tokens = data.inputs["tokens"]
    assert tokens.fitted["unit"] == "notes"
    val_pitches = {t for t in data.raw.splits["val"]["tokens"].ids.tolist()}
    held_out = [int(name[1:]) for name in tokens.fitted["vocabulary"] if name.startswith("p")]
    # the two held-out pieces' own pitches (40 + i) are not in the training vocabulary: they read as <unk>
    assert 0 in val_pitches and len([p for p in held_out if p < 60]) == 8
    assert data.splits["train"].tensors["tokens"].shape[1] == 8
    assert "train 8 pieces" in data.raw.description and "val 2 pieces" in data.raw.description


def test_transposition_augments_the_training_pieces_only(tmp_path):
    for i in range(10):
        write_score(tmp_path / f"piece{i}.musicxml", {"Soprano": TUNE * 3})
    plain = prepare_data(DataConfig(source=str(tmp_path), music={"context": 8}))
    shifted = prepare_data(DataConfig(source=str(tmp_path), music={"context": 8, "transpose": 2}))
    assert len(shifted.raw.splits["train"]["tokens"]) > 4 * len(plain.raw.splits["train"]["tokens"])
    assert np.array_equal(shifted.raw.splits["val"]["tokens"].ids != 0, plain.raw.splits["val"]["tokens"].ids != 0)
    assert "p65" in shifted.inputs["tokens"].fitted["vocabulary"]  # 67 - 2


def test_a_midi_file_reads_back_with_the_same_notes(tmp_path):
    path = write_midi(TUNE, tmp_path / "tune.mid")
    assert path.read_bytes()[:4] == b"MThd"
    assert read_voice(path, "1") == TUNE
    assert Melody.from_tokens([PIECE, *note_tokens(TUNE), PIECE, "p60", "d1"]).notes == TUNE  # the first piece


def test_a_file_without_notes_in_the_voice_names_the_file_and_the_voice(tmp_path):
    path = write_score(tmp_path / "silent.musicxml", {"Soprano": [Note(None, 4.0)], "Alto": TUNE})
    with pytest.raises(DataError, match=r"silent\.musicxml has no notes in the voice 'soprano'"):
        read_voice(path, "soprano")


def test_an_unknown_voice_lists_the_parts(tmp_path):
    write_score(tmp_path / "piece.musicxml", {"Soprano": TUNE, "Alto": TUNE})
    with pytest.raises(DataError, match=r"piece\.musicxml has no part 'descant'; its parts: 'Soprano', 'Alto'"):
        prepare_data(DataConfig(source=str(tmp_path), music={"voice": "descant"}))


def test_a_folder_without_music_files_says_which_files_count(tmp_path):
    (tmp_path / "notes.txt").write_text("C D E")
    with pytest.raises(DataError, match=r"holds no music files \(\.musicxml, \.xml, \.mxl, \.mid, \.midi\)"):
        prepare_data(DataConfig(source=str(tmp_path), music={}))


def test_a_damaged_file_is_named(tmp_path):
    (tmp_path / "broken.xml").write_text("<score-partwise><part")
    with pytest.raises(DataError, match=r"broken\.xml could not be read as music"):
        prepare_data(DataConfig(source=str(tmp_path), music={}))


def test_without_music21_the_message_names_the_extra(tmp_path, monkeypatch):
    write_score(tmp_path / "piece.musicxml", {"Soprano": TUNE})
    monkeypatch.setitem(sys.modules, "music21", None)  # as if it were not installed: importing it fails
    with pytest.raises(UserError, match=r'pip install "deepscope\[music\]"'):
        prepare_data(DataConfig(source=str(tmp_path), music={}))
    with pytest.raises(UserError, match=r'pip install "deepscope\[music\]"'):
        write_midi(TUNE, tmp_path / "tune.mid")
