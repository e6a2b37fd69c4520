"""Folders of text: one file per example in class sub-folders, or one file per class with one example per line.

    reviews/                     aclImdb/                       rt-polarity/
      pos/ 1.txt 2.txt ...         train/ pos/ neg/ [unsup/]      pos.txt   (one example per line;
      neg/ 3.txt ...               test/  pos/ neg/               neg.txt    the file name is the label)

    raw = load_text_folder("aclImdb")          # splits train and test, as the folders give them
    raw.splits["train"]["text"][:1]            # array(['I rented I AM CURIOUS-YELLOW ...'], dtype=object)
    raw.splits["train"]["label"][:1]           # array(['neg'], dtype=object)

Either layout may sit under train/ and test/ (and optionally val/) folders. The label of a line file is its
name without the suffix (`pos.txt` -> "pos"), or the suffix for `.pos` / `.neg` files (`rt-polarity.neg` ->
"neg"). A folder named `unsup` (IMDB's unlabelled reviews) is not a class and is left out.

Encodings (data/sources/encoding.py): by default a file or line that is not UTF-8 is read as Windows-1252, and
one console line counts them. With `encoding` given, a file (or, in a line file, a line) that is not valid in it
is left out. A file that cannot be read or is empty does not stop training on thousands of good ones either:
what is left out is listed in `RawData.skipped` as "<path>: <reason>" (or "<path>, line N: <reason>") and
counted in one console line per kind of problem, not one line per file; blank lines are ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepscope.data.sources.base import SPLITS, RawData
from deepscope.data.sources.encoding import LINES_NAMED, decode_text, report_decoding
from deepscope.data.sources.image_folder import _skip, _split_folders, _sub_folders
from deepscope.data.suffixes import TEXT_SUFFIXES
from deepscope.errors import DataError

UNLABELLED_FOLDERS = frozenset({"unsup", "unlabeled", "unlabelled"})
LABEL_SUFFIXES = frozenset({".pos", ".neg"})
LAYOUT = (
    "expected one sub-folder per class with one text file per example (e.g. {path}/pos/1.txt), or one text "
    "file per class with one example per line (e.g. {path}/pos.txt, {path}/neg.txt), either of them optionally "
    "under train/ and test/ (and val/) folders"
)

Examples = list[tuple[str, str]]  # (label, text)
log = logging.getLogger("deepscope")


@dataclass
class _Reading:
    """How the files are read, and what reading them found, for the summary lines at the end."""

    encoding: str | None
    skipped: list[str] = field(default_factory=list)
    legacy_files: list[Path] = field(default_factory=list)  # example files read as Windows-1252
    bad_files: list[Path] = field(default_factory=list)  # example files not valid in `encoding`: left out


def load_text_folder(path: str | Path, *, encoding: str | None = None) -> RawData:
    """Read every text under `path`, labelled by its class folder or its file name.

    Args:
        path: the folder (see the layouts above). Files with suffixes other than .txt, .text, .pos and .neg,
            and hidden files, are ignored.
        encoding: the files' text encoding (`cp1252`, `latin-1`, ...); None: UTF-8, else Windows-1252.

    Returns:
        RawData with columns `text` and `label` (object arrays of `str`), suggested inputs {"text": "text"}
        and outputs {"label": "category"}.

    Raises:
        DataError: the folder is missing, holds neither layout, or holds no readable text.

    Example:
        >>> raw = load_text_folder("rt-polarity")   # doctest: +SKIP
        >>> sorted(set(raw.splits["train"]["label"]))  # doctest: +SKIP
        ['neg', 'pos']
    """
    path = Path(path)
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "no such folder"
        raise DataError(f"{path}: {what}; {LAYOUT.format(path=path)}")
    reading = _Reading(encoding)
    skipped = reading.skipped
    splits = {}
    for split, folder in _split_folders(path).items():
        examples = _read_split(folder, path, reading)
        if examples:
            splits[split] = _to_columns(examples)
    _summarise(path, reading)
    if "train" not in splits:
        reasons = "; ".join(skipped[:3]) or "no text files"
        raise DataError(f"{path}: no readable training texts ({reasons}). {LAYOUT.format(path=path)}")
    splits = {split: splits[split] for split in SPLITS if split in splits}
    count = sum(len(columns["text"]) for columns in splits.values())
    return RawData(
        splits, inputs={"text": "text"}, outputs={"label": "category"}, skipped=skipped,
        description=f"texts from {path} ({count:,} examples)",
    )


def _read_split(folder: Path, root: Path, reading: _Reading) -> Examples:
    """Class sub-folders of files if there are any, else the folder's text files read line by line."""
    classes = []
    for sub_folder in _sub_folders(folder):
        if sub_folder.name.lower() in UNLABELLED_FOLDERS:
            _skip(reading.skipped, sub_folder, "unlabelled examples (a folder of this name is not a class)")
        else:
            classes.append(sub_folder)
    if classes:
        return [example for c in classes for example in _read_class_folder(c, reading)]
    files = _text_files(folder, recursive=False)
    if not files:
        raise DataError(f"{folder}: no class sub-folders and no text files; {LAYOUT.format(path=root)}")
    return [example for file in files for example in _read_line_file(file, reading)]


def _read_class_folder(folder: Path, reading: _Reading) -> Examples:
    """One example per file below `folder`, labelled with the folder's name."""
    files = _text_files(folder, recursive=True)
    if not files:
        _skip(reading.skipped, folder, f"no text files ({', '.join(sorted(TEXT_SUFFIXES))}) in this class folder")
    examples = []
    for file in files:
        try:
            decoded = decode_text(file.read_bytes(), reading.encoding, str(file))
        except OSError as error:
            _skip(reading.skipped, file, f"cannot be read ({error.strerror or error})")
            continue
        except DataError as error:  # UTF-16 that is not: one bad file among thousands
            reading.bad_files.append(file)
            reading.skipped.append(str(error))  # "<file>: not valid utf-16 text (...)"
            continue
        if decoded.bad_lines:  # with data.encoding given: the example is damaged, not just one of many lines
            reading.bad_files.append(file)
            number, reason = decoded.bad_lines[0]
            reading.skipped.append(f"{file}, line {number}: {reason}")
            continue
        if decoded.fallback_lines:
            reading.legacy_files.append(file)
        text = decoded.text.strip()
        if not text:
            _skip(reading.skipped, file, "empty file")
            continue
        examples.append((folder.name, text))
    return examples


def _read_line_file(file: Path, reading: _Reading) -> Examples:
    """One example per non-blank line, labelled with the file's name (or its .pos / .neg suffix)."""
    label = file.suffix.lower()[1:] if file.suffix.lower() in LABEL_SUFFIXES else file.stem
    try:
        decoded = decode_text(file.read_bytes(), reading.encoding, str(file))
    except OSError as error:
        _skip(reading.skipped, file, f"cannot be read ({error.strerror or error})")
        return []
    except DataError as error:
        _skip(reading.skipped, file, str(error).removeprefix(f"{file}: "))
        return []
    report_decoding(file, decoded, reading.skipped)  # one line per file: its count and first line numbers
    examples = [(label, text) for line in decoded.lines() if (text := line.strip())]
    if not examples:
        _skip(reading.skipped, file, "no readable lines")
    return examples


def _summarise(root: Path, reading: _Reading) -> None:
    """One console line for the example files read as Windows-1252, one for those left out."""
    for files, what in ((reading.legacy_files, "not UTF-8, read as Windows-1252 (cp1252); if accented letters "
                                               "look wrong, give the files' encoding as data.encoding"),
                        (reading.bad_files, f"not valid {reading.encoding} text, left out (each is listed in the "
                                            "run's diagnosis.json and report)")):
        if files:
            named = ", ".join(str(f.relative_to(root)) for f in files[:LINES_NAMED])
            log.warning("%s: %s of the text files %s: %s%s", root, f"{len(files):,}", what, named,
                        ", ..." if len(files) > LINES_NAMED else "")


def _text_files(folder: Path, *, recursive: bool) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        f for f in found if f.suffix.lower() in TEXT_SUFFIXES and not f.name.startswith(".") and f.is_file()
    )


def _to_columns(examples: Examples) -> dict[str, np.ndarray]:
    texts, labels = np.empty(len(examples), dtype=object), np.empty(len(examples), dtype=object)
    texts[:] = [text for _, text in examples]
    labels[:] = [label for label, _ in examples]
    return {"text": texts, "label": labels}
