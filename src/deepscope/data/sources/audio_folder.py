"""A folder of WAV recordings, labelled by class sub-folder or by a file-name pattern.

    speech/                       speech/                          recordings/
      yes/ a.wav b.wav              train/ yes/ ...  no/ ...         0_jackson_0.wav  0_jackson_1.wav ...
      no/  c.wav ...                test/  yes/ ...  no/ ...         (pattern: "{label}_{speaker}_{index}.wav")

    raw = load_audio_folder("speech")                                         # columns audio, label
    raw = load_audio_folder("recordings", pattern="{label}_{speaker}_{index}.wav")  # audio, label, speaker, index
    raw.splits["train"]["audio"][0]        # Recording(recordings/0_jackson_0.wav, 0.37 s at 8000 Hz)

The audio column holds decoded `Recording`s at their own sample rates; the audio feature resamples and pads
them. A pattern's columns hold whole numbers where every value is one (`index`, digits as labels), else text.
With a pattern, train/ test/ [val/] folders still give the splits. A file that cannot be decoded (not PCM,
truncated, not a WAV) or whose name does not fit the pattern is skipped, logged as a warning and listed in
`RawData.skipped`: one bad recording should not stop training on thousands of good ones.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from deepscope.data.sources.base import SPLITS, RawData
from deepscope.data.sources.image_folder import SPLIT_ALIASES
from deepscope.data.suffixes import AUDIO_SUFFIXES
from deepscope.data.wav import Recording, read_wav
from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")

LAYOUT = (
    "expected one sub-folder of WAV files per class (e.g. {path}/yes/1.wav, {path}/no/1.wav), optionally inside "
    "train/ and test/ (and val/) folders, or WAV files whose names carry the label with data.pattern, "
    "e.g. pattern: '{{label}}_{{speaker}}_{{index}}.wav'"
)
Row = dict[str, object]


def load_audio_folder(path: str | Path, *, pattern: str | None = None) -> RawData:
    """Decode every WAV file under `path` into columns per split.

    Args:
        path: the folder (see the layouts above); hidden files and non-WAV files are ignored.
        pattern: file names that carry columns, e.g. "{label}_{speaker}_{index}.wav"; each `{name}` becomes a
            column. Without it, the class sub-folders give the `label` column.

    Returns:
        RawData with columns `audio` (object array of Recording) and `label` (or the pattern's columns),
        suggested inputs {"audio": "audio"} and outputs {"label": "category"} when there is a label.

    Raises:
        DataError: the folder is missing, is laid out in neither way, or holds no readable recording.
        ConfigError: the pattern has no `{name}` fields or names a field twice.

    Example:
        >>> raw = load_audio_folder("recordings", pattern="{label}_{speaker}_{index}.wav")  # doctest: +SKIP
        >>> sorted(raw.columns)                                                             # doctest: +SKIP
        ['audio', 'index', 'label', 'speaker']
    """
    path = Path(path)
    matcher = compile_pattern(pattern) if pattern else None
    skipped: list[str] = []
    splits = {}
    for split, folder in _split_folders(path).items():
        rows = _rows_by_pattern(folder, matcher, skipped) if matcher else _rows_by_class(folder, path, skipped)
        if rows:
            splits[split] = to_columns(rows)
    if "train" not in splits:
        reasons = "; ".join(skipped[:3]) or "no WAV files"
        raise DataError(f"{path}: no readable training recordings ({reasons}). {LAYOUT.format(path=path)}")
    columns = list(splits["train"])
    return RawData(
        splits, inputs={"audio": "audio"}, outputs={"label": "category"} if "label" in columns else {},
        skipped=skipped,
        description=f"recordings from {path} ({sum(len(c['audio']) for c in splits.values())} files)",
    )


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """"{label}_{speaker}_{index}.wav" -> a regex with one named group per field, matched against file names.

    Example:
        >>> compile_pattern("{label}_{speaker}_{index}.wav").fullmatch("7_jackson_32.wav").groupdict()
        {'label': '7', 'speaker': 'jackson', 'index': '32'}
    """
    parts = re.split(r"\{([^{}]*)\}", pattern)  # literal, field, literal, field, ..., literal
    fields = parts[1::2]
    bad = [f for f in fields if not f.isidentifier() or f == "audio"]
    if not fields or bad or len(set(fields)) != len(fields):
        problem = (f"{{{bad[0]}}} is not a usable column name" if bad else "it names a field twice" if fields
                   else "it has no {name} fields")
        raise ConfigError(f"data.pattern: {pattern!r}: {problem}; write the file names with a {{name}} for each "
                          "column, e.g. '{label}_{speaker}_{index}.wav' (the column 'audio' is the recording itself)")
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(regex, re.IGNORECASE)


def to_columns(rows: list[Row]) -> dict[str, np.ndarray]:
    """Rows (dicts with the same keys) -> one array per key: audio as objects, whole numbers as int64, else text."""
    columns = {}
    for key in rows[0]:
        values = [row[key] for row in rows]
        if key != "audio" and all(isinstance(v, str) and v.isdigit() for v in values):
            columns[key] = np.array([int(v) for v in values], dtype=np.int64)
        else:
            columns[key] = np.empty(len(values), dtype=object)
            columns[key][:] = values
    return columns


def _split_folders(path: Path) -> dict[str, Path]:
    """{"train": path} for a plain layout, or {"train": path/train, "test": path/test, ...}."""
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "no such folder"
        raise DataError(f"{path}: {what}; {LAYOUT.format(path=path)}")
    names = {SPLIT_ALIASES.get(c.name.lower(), c.name.lower()): c for c in _sub_folders(path)}
    if "train" in names and ("test" in names or "val" in names):  # a lone train/ would be a class named "train"
        return {split: names[split] for split in SPLITS if split in names}
    return {"train": path}


def _sub_folders(folder: Path) -> list[Path]:
    return sorted(c for c in folder.iterdir() if c.is_dir() and not c.name.startswith("."))


def _wav_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.rglob("*")
                  if f.suffix.lower() in AUDIO_SUFFIXES and not f.name.startswith(".") and f.is_file())


def _rows_by_class(folder: Path, root: Path, skipped: list[str]) -> list[Row]:
    classes = _sub_folders(folder)
    if not classes:
        loose = "WAV files but no class sub-folders" if _wav_files(folder) else "no class sub-folders"
        raise DataError(f"{folder}: {loose}; {LAYOUT.format(path=root)}")
    rows = []
    for class_folder in classes:
        files = _wav_files(class_folder)
        if not files:
            note_skipped(skipped, class_folder, "no WAV files in this class folder")
        rows += [{"audio": recording, "label": class_folder.name}
                 for file in files if (recording := _decode(file, skipped)) is not None]
    return rows


def _rows_by_pattern(folder: Path, matcher: re.Pattern[str], skipped: list[str]) -> list[Row]:
    rows = []
    for file in _wav_files(folder):
        fields = _match(matcher, file.name)
        if fields is None:
            note_skipped(skipped, file, f"the name does not fit data.pattern ({_pattern_text(matcher)})")
        elif (recording := _decode(file, skipped)) is not None:
            rows.append({"audio": recording, **fields})
    return rows


def _match(matcher: re.Pattern[str], name: str) -> dict[str, str] | None:
    """The fields of a file name; a pattern without the .wav suffix is matched against the name without it."""
    found = matcher.fullmatch(name) or matcher.fullmatch(Path(name).stem)
    return found.groupdict() if found else None


def _pattern_text(matcher: re.Pattern[str]) -> str:
    return re.sub(r"\(\?P<(\w+)>\.\+\?\)", r"{\1}", matcher.pattern).replace("\\", "")


def _decode(file: Path, skipped: list[str]) -> Recording | None:
    try:
        return read_wav(file)
    except DataError as error:
        note_skipped(skipped, file, str(error).removeprefix(f"{file}: "))
        return None


def note_skipped(skipped: list[str], path: Path, reason: str) -> None:
    log.warning("skipped %s: %s", path, reason)
    skipped.append(f"{path}: {reason}")
