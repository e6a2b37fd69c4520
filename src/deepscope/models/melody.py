"""Melodies from a music run (data.music): `ds.load(run).generate()` gives Melody objects, which write MIDI files.

    melodies = ds.load("runs/chorales-...").generate(n=2, max_tokens=200, seed=0)   # 200 tokens: up to 100 notes
    melodies[0].notes[:2]          # [Note(pitch=67, quarters=1.0), Note(pitch=69, quarters=0.5)]
    melodies[0].write_midi("melody-1.mid")

Every melody starts where a piece does (a <piece> token); a prompt is token names after it ("p67 d1 p69 d0.5",
data/music.py), and its notes begin the melody. The melody ends at the first <piece> the model writes (the end
of its piece) or after `max_tokens` new tokens. MIDI files are written with music21 (the `music` extra): one
track, piano, 100 quarter notes a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepscope.data.music import PIECE, Note, require_music21, token_notes
from deepscope.io import atomic_write
from deepscope.models.generation import generate_text

TEMPO = 100  # quarter notes a minute: a chorale's pace


@dataclass(frozen=True)
class Melody:
    """A written melody: its notes, and the tokens they came from (the prompt's first, without <piece>)."""

    notes: list[Note]
    tokens: list[str]

    @classmethod
    def from_tokens(cls, names: list[str]) -> Melody:
        """The first piece in `names`: the tokens after a leading <piece> up to the next one."""
        start = 1 if names[:1] == [PIECE] else 0
        end = names.index(PIECE, start) if PIECE in names[start:] else len(names)
        return cls(token_notes(names[start:end]), names[start:end])

    def write_midi(self, path: str | Path) -> Path:
        return write_midi(self.notes, path)

    def __str__(self) -> str:
        return " ".join(self.tokens)


def generate_melodies(model: Any, tokens: Any, prompt: str = "", **options: Any) -> list[Melody]:
    """`n` melodies (options as for generate_text, models/generation.py), each with the prompt's notes first."""
    written = generate_text(model, tokens, prompt, **options)
    return [Melody.from_tokens([PIECE, *prompt.split(), *text.split()]) for text in written]


def write_midi(notes: list[Note], path: str | Path) -> Path:
    """A standard MIDI file of `notes` (one track), written atomically."""
    require_music21()
    from music21 import midi, note, stream, tempo

    melody = stream.Stream()
    melody.append(tempo.MetronomeMark(number=TEMPO))
    for n in notes:
        melody.append(note.Rest(quarterLength=n.quarters) if n.is_rest
                      else note.Note(n.pitch, quarterLength=n.quarters))
    data = midi.translate.streamToMidiFile(melody).writestr()
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))
