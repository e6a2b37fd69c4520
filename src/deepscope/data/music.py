"""Melodies as tokens: the encoding a music language model reads and writes (data.music, config/music.py).

A melody is a list of notes; a note is a pitch (its MIDI number, 60 = middle C) or a rest, and a duration in
quarter notes. Each note is TWO tokens, its pitch then its duration:

    pitch      "p<MIDI number>"       p67 = G4; a rest is "rest"
    duration   "d<quarter notes>"     one of DURATIONS: d0.25 (a sixteenth) ... d1 (a quarter) ... d8 (two whole notes)
    "<piece>"  between pieces: before each piece of a split and after the last one

    G4 quarter, A4 eighth, B4 eighth, a quarter rest, C5 half  ->
    ["p67", "d1", "p69", "d0.5", "p71", "d0.5", "rest", "d1", "p72", "d2"]
    a split with two pieces -> <piece> p67 d1 ... p72 d2 <piece> p62 d1 ... <piece>

How a written voice becomes notes (data/sources/music.py reads the files): tied notes are one note (their
durations added); a chord gives its highest note (a melody is one line); grace notes (no duration) are left out;
rests before the first note and after the last are left out (the <piece> token marks the start); a duration
becomes the nearest one in DURATIONS (nearest by ratio: 0.125 -> 0.25, 4.5 -> 4, 5 -> 6), so every token is from a
fixed list. Decoding reads the tokens back in pairs: a pitch or rest, then a duration, is a note; a token out of
place (a duration without a pitch, say, which a sampled melody may hold) is passed over.

The vocabulary is <unk>, <piece>, rest, then the pitches and the durations the TRAINING pieces use, in order
(data/corpus.py's <unk> is id 0 for any model): a held-out pitch outside the training range reads as <unk>.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from deepscope.data.corpus import UNK
from deepscope.errors import UserError

PIECE, REST = "<piece>", "rest"
DURATIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)  # quarter notes: every value the chorales use
# (but 18 thirty-second notes of 21,600 notes); 0.75 and 1.5 are dotted, 3 and 6 dotted halves and wholes
MUSIC_INSTALL = 'pip install "deepscope[music]"'


@dataclass(frozen=True)
class Note:
    """One note of a melody: `pitch` a MIDI number (None for a rest), `quarters` its duration in quarter notes."""

    pitch: int | None
    quarters: float

    @property
    def is_rest(self) -> bool:
        return self.pitch is None


def nearest_duration(quarters: float) -> float:
    """The value of DURATIONS nearest to `quarters` by ratio (on a log scale: 5 is as near 4 as 6.25 is)."""
    return min(DURATIONS, key=lambda d: abs(math.log(d / quarters)))


def note_tokens(notes: Iterable[Note]) -> list[str]:
    """Notes -> their tokens, two per note (the module docstring gives the names)."""
    tokens: list[str] = []
    for note in notes:
        tokens += [REST if note.is_rest else f"p{note.pitch}", f"d{nearest_duration(note.quarters):g}"]
    return tokens


def token_notes(tokens: Sequence[str]) -> list[Note]:
    """Tokens -> notes: a pitch or rest token followed by a duration token is a note; other tokens are passed
    over (<piece>, <unk>, one out of place)."""
    notes, pitch = [], None
    for token in tokens:
        if token == REST or _is_pitch(token):
            pitch = token
        elif _is_duration(token) and pitch is not None:
            notes.append(Note(None if pitch == REST else int(pitch[1:]), float(token[1:])))
            pitch = None
        else:
            pitch = None
    return notes


def piece_stream(pieces: Iterable[Sequence[Note]]) -> list[str]:
    """The tokens of a split: <piece> before each piece's tokens and once after the last."""
    stream: list[str] = []
    for notes in pieces:
        stream += [PIECE, *note_tokens(notes)]
    return [*stream, PIECE]


def music_vocabulary(tokens: Iterable[str]) -> list[str]:
    """<unk>, <piece>, rest, then the pitches and durations among `tokens` (the training stream), each in order."""
    seen = set(tokens)
    pitches = sorted((t for t in seen if _is_pitch(t)), key=lambda t: int(t[1:]))
    durations = sorted((t for t in seen if _is_duration(t)), key=lambda t: float(t[1:]))
    return [UNK, PIECE, REST, *pitches, *durations]


def duration_ids(vocabulary: Sequence[str]) -> list[int]:
    """The ids of the duration tokens: each note (or rest) has exactly one, so they count the notes."""
    return [i for i, token in enumerate(vocabulary) if _is_duration(token)]


def transposed(notes: Sequence[Note], semitones: int) -> list[Note]:
    return [note if note.is_rest else Note(note.pitch + semitones, note.quarters) for note in notes]


def is_music_token(token: str) -> bool:
    return token in (PIECE, REST) or _is_pitch(token) or _is_duration(token)


def require_music21() -> None:
    """Reading and writing music files needs music21, an optional extra: say how to install it."""
    try:
        import music21  # noqa: F401
    except ImportError:
        raise UserError(f"melodies (data.music, .mid files) need the music21 package, which is not installed: "
                        f"{MUSIC_INSTALL}") from None


def _is_pitch(token: str) -> bool:
    return token[:1] == "p" and token[1:].isdigit() and int(token[1:]) <= 127


def _is_duration(token: str) -> bool:
    try:
        return token[:1] == "d" and float(token[1:]) in DURATIONS
    except ValueError:
        return False
