"""A `data.music` config -> the raw splits (token windows of one voice per split) and the unfitted token features.

The source is a folder of MusicXML / MIDI files (one piece each, read with music21, never from its pickle
cache) or the builtin `bach-chorales`: the MusicXML Bach pieces music21 ships that have a soprano part (409; the
one without, a keyboard prelude, is not a chorale). Pieces are split whole by a seeded shuffle
(config/music.py); data/music.py says how a voice becomes tokens.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.data.corpus import TokenWindows
from deepscope.data.music import Note, music_vocabulary, piece_stream, require_music21, transposed
from deepscope.data.sources.builtin import cache_folder
from deepscope.data.timeseries import expand_path
from deepscope.errors import ConfigError, DataError
from deepscope.io import write_json

log = logging.getLogger("deepscope")

TOKENS, NEXT = "tokens", "next"  # as for a corpus (data/sources/corpus.py): the window, and each next token
BUILTIN = "bach-chorales"
SUFFIXES = (".musicxml", ".xml", ".mxl", ".mid", ".midi")
MAX_FILE_BYTES = 20_000_000  # a score of a symphony is a few MB; more is not one piece of music
MAX_FILES = 100_000


def load_music_splits(config: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """`data:` with a `music:` section -> (RawData of TokenWindows per split, {tokens: feature}, {next: feature}),
    the features not yet fitted. `config` is a DataConfig."""
    from deepscope.data.features.tokens import NextTokenFeature, TokensFeature
    from deepscope.data.sources.base import RawData

    m = config.music
    _check_music_config(config)
    require_music21()
    pieces = builtin_pieces(m.voice) if config.source == BUILTIN else read_folder(config.source, m.voice)
    order = list(pieces)
    parts = split_pieces(len(order), val=m.val, test=m.test, seed=m.seed)
    by_split = {split: [pieces[order[i]] for i in index] for split, index in parts.items()}
    train = [transposed(notes, k) for notes in by_split["train"] for k in range(-m.transpose, m.transpose + 1)]
    streams = {split: piece_stream(train if split == "train" else notes) for split, notes in by_split.items()}
    vocabulary = music_vocabulary(streams["train"])
    splits = {}
    for split, stream in streams.items():
        stride = (m.stride or max(1, m.context // 2)) if split == "train" else m.context  # held out: no overlap
        ids = np.array([vocabulary.index(t) if t in vocabulary else 0 for t in stream], dtype=np.int64)
        windows = TokenWindows.over(ids, vocabulary, context=m.context, stride=stride, unit="notes")
        if not len(windows):
            raise DataError(f"data.music: the {split} pieces of {config.source} hold {len(stream):,} tokens, and a "
                            f"window needs context + 1 = {m.context + 1}; lower data.music.context or hold out more "
                            "pieces")
        splits[split] = {TOKENS: windows, NEXT: windows}
    inputs = {TOKENS: TokensFeature(TOKENS, {}, where="data.music")}
    outputs = {NEXT: NextTokenFeature(NEXT, {}, where="data.music")}
    counts = ", ".join(f"{split} {len(notes):,} pieces ({sum(map(len, notes)):,} notes)"
                       for split, notes in by_split.items())
    augmented = f"; training pieces also transposed by up to {m.transpose} semitones" if m.transpose else ""
    description = f"music {config.source}, voice {m.voice}: {counts}{augmented}"
    return RawData(splits, {TOKENS: "tokens"}, {NEXT: "next_token"}, description=description), inputs, outputs


def read_folder(source: str, voice: str) -> dict[str, list[Note]]:
    """{file name: notes of `voice`} for every music file under the folder `source`, in name order."""
    folder = expand_path(source)
    return {str(path.relative_to(folder)): read_voice(path, voice) for path in music_files(folder)}


def builtin_pieces(voice: str) -> dict[str, list[Note]]:
    """{file name: notes of `voice`} for the chorales music21 ships that have that voice. Reading them takes most of
    a minute, so the notes are kept in the cache ($DEEPSCOPE_CACHE/bach-chorales/, JSON), per music21 version and
    voice; a cache file that does not read back as notes is read again from the scores."""
    import music21
    from music21 import corpus

    name = re.sub(r"[^a-z0-9]+", "-", voice.strip().lower())  # a file name, whatever the voice is called
    cache = cache_folder() / BUILTIN / f"{name}-music21-{music21.__version__}.json"
    kept = _cached_pieces(cache)
    if kept is not None:
        return kept
    files = sorted(p for p in corpus.getComposer("bach") if p.suffix in (".mxl", ".xml"))
    log.info("reading %d Bach scores from music21's corpus (once; kept in %s)", len(files), cache)
    pieces = {path.name: notes for path in files if (notes := read_voice(path, voice, builtin=True)) is not None}
    if not pieces:
        raise DataError(f"data.music.voice: no chorale has a part {voice!r}; their voices are soprano, alto, tenor "
                        "and bass (or a part's number from 1)")
    try:
        write_json(cache, {name: [[n.pitch, n.quarters] for n in notes] for name, notes in pieces.items()})
    except OSError as error:  # a read-only cache costs the next run a minute, nothing more
        log.warning("could not keep the chorales' notes in %s: %s", cache, error)
    return pieces


def music_files(folder: Path) -> list[Path]:
    """The music files under `folder`, sorted."""
    if not folder.is_dir():
        raise DataError(f"data.source: {folder}: no such folder; data.music reads a folder of MusicXML or MIDI files "
                        f"({', '.join(SUFFIXES)}), or the builtin {BUILTIN!r}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()
                   and not p.is_symlink())[:MAX_FILES]
    if not files:
        raise DataError(f"data.source: {folder} holds no music files ({', '.join(SUFFIXES)}); give a folder of "
                        f"MusicXML or MIDI files, or source: {BUILTIN}")
    return files


def read_voice(path: Path, voice: str, *, builtin: bool = False) -> list[Note] | None:
    """The notes of `voice` in the piece at `path` (data/music.py says how). A piece without that voice or without
    notes in it is a DataError naming the file, except in the builtin corpus, where it is left out (None)."""
    score = _parse(path)
    part = _part(score, voice, path, builtin)
    if part is None:
        return None
    notes = _notes(part)
    if not any(not n.is_rest for n in notes):
        raise DataError(f"data.music.voice: {path} has no notes in the voice {voice!r} (part "
                        f"{part.partName or 'without a name'!r}); choose another voice or leave the file out")
    return notes


def split_pieces(n: int, *, val: float, test: float, seed: int) -> dict[str, list[int]]:
    """Piece indices per split: a seeded shuffle; the first round(n * val) pieces (at least one when val > 0)
    validate, the next round(n * test) test, the rest train."""
    n_val, n_test = (max(1, round(n * f)) if f > 0 else 0 for f in (val, test))
    if n - n_val - n_test < 1:
        raise DataError(f"data.music: {n} piece(s) cannot give {n_val} for validation and {n_test} for test and "
                        "still train; give more pieces or lower data.music.val / data.music.test")
    order = np.random.default_rng(seed).permutation(n).tolist()
    parts = {"train": sorted(order[n_val + n_test:]), "val": sorted(order[:n_val]),
             "test": sorted(order[n_val:n_val + n_test])}
    return {split: index for split, index in parts.items() if index or split == "train"}


def _cached_pieces(path: Path) -> dict[str, list[Note]] | None:
    """The pieces kept at `path`, or None when there are none or they are not notes (never trusted blindly)."""
    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
        return None
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        pieces = {str(name): [_cached_note(*pair) for pair in notes] for name, notes in kept.items()}
    except (ValueError, TypeError, AttributeError):
        return None
    return pieces if pieces and all(pieces.values()) else None


def _cached_note(pitch: Any, quarters: Any) -> Note:
    if not (pitch is None or (type(pitch) is int and 0 <= pitch <= 127)):
        raise ValueError(f"not a MIDI pitch: {pitch!r}")
    if type(quarters) not in (int, float) or not 0 < quarters < 1000:
        raise ValueError(f"not a duration: {quarters!r}")
    return Note(pitch, float(quarters))


def _parse(path: Path) -> Any:
    from music21 import converter

    if path.stat().st_size > MAX_FILE_BYTES:
        raise DataError(f"data.source: {path} is {path.stat().st_size:,} bytes, more than one piece of music "
                        f"({MAX_FILE_BYTES:,} at most); leave it out")
    reader = converter.Converter()
    try:
        reader.parseFileNoPickle(path, forceSource=True)  # music21's cache holds pickles: never read them
    except Exception as error:  # a damaged or foreign file: music21's parsers raise many kinds
        raise DataError(f"data.source: {path} could not be read as music ({type(error).__name__}: "
                        f"{str(error)[:200]}); fix or remove the file") from None
    return reader.stream


def _part(score: Any, voice: str, path: Path, builtin: bool) -> Any:
    """The part `voice` names: its number from 1, or a part name (any case; "soprano" also matches "Soprano 1");
    soprano falls back to the first part, except in the builtin corpus, whose chorales all name their soprano."""
    parts = list(getattr(score, "parts", [])) or [score]
    names = [(p.partName or "").strip().lower() for p in parts]
    wanted = voice.strip().lower()
    if wanted.isdigit() and 1 <= int(wanted) <= len(parts):
        return parts[int(wanted) - 1]
    for match in (lambda name: name == wanted, lambda name: name.startswith(wanted)):
        found = [p for p, name in zip(parts, names) if name and match(name)]
        if found:
            return found[0]
    if builtin:
        return None
    if wanted == "soprano":
        return parts[0]
    shown = ", ".join(repr(p.partName or f"part {i + 1}") for i, p in enumerate(parts))
    raise DataError(f"data.music.voice: {path} has no part {voice!r}; its parts: {shown} (or give a part's number "
                    f"from 1 to {len(parts)})")


def _notes(part: Any) -> list[Note]:
    """The part's notes in order (ties joined, a chord's highest note, no grace notes), without leading and
    trailing rests."""
    notes = []
    for element in part.stripTies().flatten().notesAndRests:
        quarters = float(element.quarterLength)
        if quarters <= 0:  # a grace note
            continue
        if element.isRest:
            notes.append(Note(None, quarters))
        elif element.isChord:
            notes.append(Note(max(p.midi for p in element.pitches), quarters))
        else:
            notes.append(Note(int(element.pitch.midi), quarters))
    sounding = [i for i, n in enumerate(notes) if not n.is_rest]
    return notes[sounding[0]:sounding[-1] + 1] if sounding else []


def _check_music_config(config: Any) -> None:
    if not _own_features(config.inputs, TOKENS, "tokens") or not _own_features(config.outputs, NEXT, "next_token"):
        raise ConfigError("data.inputs / data.outputs: with data.music, the input is a window of the melody's tokens "
                          "and the output each position's next token; remove them")
    for other in ("series", "corpus"):
        if getattr(config, other) is not None:
            raise ConfigError(f"data.{other} and data.music: a config models one kind of data; keep one")
    for key in ("test_source", "weights"):
        if getattr(config, key) is not None:
            raise ConfigError(f"data.{key}: does not apply to melodies, whose held-out pieces are chosen by "
                              "data.music.val, data.music.test and data.music.seed; leave it out")
    if config.split != type(config.split)():
        raise ConfigError("data.split: melodies are split by piece: set data.music.val, data.music.test and "
                          "data.music.seed")


def _own_features(specs: dict[str, Any], name: str, kind: str) -> bool:
    """No features given, or exactly the ones this source makes (a run's resolved config.yaml names them)."""
    return not specs or (list(specs) == [name] and getattr(specs[name], "type", specs[name]) == kind)
