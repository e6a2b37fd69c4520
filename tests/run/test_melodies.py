"""A melody run end to end: `data.music` trains the same next-token model on notes' tokens, reports nats per
note, `ds.load(run).generate` gives melodies (notes, tokens, MIDI), `deepscope generate --out` writes .mid files
and a piano roll, the report draws the training samples as piano rolls, and a voice without notes is exit 2."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("music21")

import deepscope as ds  # noqa: E402
from deepscope.data.music import Note  # noqa: E402
from deepscope.data.sources.music import read_voice  # noqa: E402
from deepscope.models.melody import Melody  # noqa: E402
from deepscope.track.runinfo import read_run  # noqa: E402
from tests.data.test_music import write_score  # noqa: E402

# a tune every piece sings: G A B, a held C, then down again
PHRASE = [Note(67, 1.0), Note(69, 1.0), Note(71, 1.0), Note(72, 2.0), Note(71, 0.5), Note(69, 0.5), Note(67, 2.0)]


@pytest.fixture(scope="module")
def music_run(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("tunes")
    for i in range(10):
        write_score(folder / f"tune{i}.musicxml", {"Soprano": PHRASE * 3, "Bass": [Note(48, 4.0)]})
    run = ds.train({"data": {"source": str(folder), "music": {"context": 16, "val": 0.2}},
                    "model": {"encoder": {"name": "transformer", "d_model": 48, "heads": 2, "layers": 2,
                                          "dropout": 0.0}},
                    "train": {"epochs": 15, "batch_size": 8, "optimizer": {"name": "adamw", "lr": 0.01}},
                    "run": {"root": str(folder / "runs")}}, progress=False)
    return str(run.dir)


def test_a_music_run_reports_nats_per_token_and_per_note(music_run):
    val = read_run(music_run).finals["val"]
    assert val["nats_per_note"] == pytest.approx(val["nats"] * val["n"] / round(val["n"] / 2), rel=0.05)
    assert val["nats_per_note"] < 1.0  # the phrase is learnt: far below a uniform guess (2 ln 14 = 5.3 a note)
    assert val["perplexity"] == pytest.approx(math.exp(val["nats"]))
    assert "bits_per_char" not in val  # its tokens are not characters


def test_generate_gives_melodies_that_follow_the_phrase_and_repeat_with_a_seed(music_run):
    model = ds.load(music_run)
    greedy = model.generate(max_tokens=14, temperature=0)[0]
    assert isinstance(greedy, Melody) and greedy.notes == PHRASE  # ends at the phrase's end: the next <piece>
    one, two = (model.generate(n=2, max_tokens=30, seed=5) for _ in range(2))
    assert [m.tokens for m in one] == [m.tokens for m in two] and len(one) == 2
    prompted = model.generate("p67 d1 p69 d1", max_tokens=4, temperature=0)[0]  # the prompt's notes come first
    assert prompted.notes == PHRASE[:4]


def test_the_cli_writes_midi_files_that_read_back_and_a_piano_roll(music_run, deepscope_in_process, tmp_path):
    result = deepscope_in_process("generate", music_run, "--n", "2", "--seed", "1", "--out", str(tmp_path / "m"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("--- sample") == 2 and "wrote" in result.stdout
    melodies = ds.load(music_run).generate(n=2, seed=1)
    for i, melody in enumerate(melodies):
        notes = melody.notes
        while notes and notes[-1].is_rest:  # a MIDI file ends with its last sounding note
            notes = notes[:-1]
        assert read_voice(tmp_path / "m" / f"melody-{i + 1}.mid", "1") == notes
    assert (tmp_path / "m" / "melodies.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_draws_the_training_samples_as_piano_rolls(music_run):
    html = (read_run(music_run).path / "report.html").read_text()
    assert "Melodies written with the same seed" in html and "time (quarter notes)" in html


def test_an_unknown_prompt_token_is_refused(music_run, deepscope_in_process):
    result = deepscope_in_process("generate", music_run, "--prompt", "p67 d7")
    assert result.returncode == 2 and "'d7'" in result.stderr and "Traceback" not in result.stderr


def test_a_voice_without_notes_is_exit_2_naming_the_file(tmp_path, deepscope_in_process):
    for i in range(3):
        write_score(tmp_path / f"tune{i}.musicxml", {"Soprano": PHRASE, "Alto": PHRASE if i else [Note(None, 4.0)]})
    config = tmp_path / "tunes.yaml"
    config.write_text(f"data: {{source: {tmp_path}, music: {{voice: alto}}}}\nrun: {{root: {tmp_path / 'runs'}}}\n")
    result = deepscope_in_process("train", str(config))
    assert result.returncode == 2 and "tune0.musicxml has no notes in the voice 'alto'" in result.stderr
    assert "Traceback" not in result.stderr
