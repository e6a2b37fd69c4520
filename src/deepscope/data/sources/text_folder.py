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

A file that is not UTF-8, cannot be read, or is empty does not stop training on thousands of good ones: it
is skipped, logged as a warning, and listed in `RawData.skipped` as "<path>: <reason>". In a line file only
the lines that are not UTF-8 are skipped; blank lines are ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepscope.data.sources.base import SPLITS, RawData
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


def load_text_folder(path: str | Path) -> RawData:
    """Read every text under `path`, labelled by its class folder or its file name.

    Args:
        path: the folder (see the layouts above). Files with suffixes other than .txt, .text, .pos and .neg,
            and hidden files, are ignored.

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
    skipped: list[str] = []
    splits = {}
    for split, folder in _split_folders(path).items():
        examples = _read_split(folder, path, skipped)
        if examples:
            splits[split] = _to_columns(examples)
    if "train" not in splits:
        reasons = "; ".join(skipped[:3]) or "no text files"
        raise DataError(f"{path}: no readable training texts ({reasons}). {LAYOUT.format(path=path)}")
    splits = {split: splits[split] for split in SPLITS if split in splits}
    count = sum(len(columns["text"]) for columns in splits.values())
    return RawData(
        splits, inputs={"text": "text"}, outputs={"label": "category"}, skipped=skipped,
        description=f"texts from {path} ({count:,} examples)",
    )


def _read_split(folder: Path, root: Path, skipped: list[str]) -> Examples:
    """Class sub-folders of files if there are any, else the folder's text files read line by line."""
    classes = []
    for sub_folder in _sub_folders(folder):
        if sub_folder.name.lower() in UNLABELLED_FOLDERS:
            _skip(skipped, sub_folder, "unlabelled examples (a folder of this name is not a class)")
        else:
            classes.append(sub_folder)
    if classes:
        return [example for c in classes for example in _read_class_folder(c, skipped)]
    files = _text_files(folder, recursive=False)
    if not files:
        raise DataError(f"{folder}: no class sub-folders and no text files; {LAYOUT.format(path=root)}")
    return [example for file in files for example in _read_line_file(file, skipped)]


def _read_class_folder(folder: Path, skipped: list[str]) -> Examples:
    """One example per file below `folder`, labelled with the folder's name."""
    files = _text_files(folder, recursive=True)
    if not files:
        _skip(skipped, folder, f"no text files ({', '.join(sorted(TEXT_SUFFIXES))}) in this class folder")
    examples = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8-sig").strip()  # -sig: a byte-order mark is not text
        except UnicodeDecodeError as error:
            _skip(skipped, file, f"not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8")
            continue
        except OSError as error:
            _skip(skipped, file, f"cannot be read ({error.strerror or error})")
            continue
        if not text:
            _skip(skipped, file, "empty file")
            continue
        examples.append((folder.name, text))
    return examples


def _read_line_file(file: Path, skipped: list[str]) -> Examples:
    """One example per non-blank line, labelled with the file's name (or its .pos / .neg suffix)."""
    label = file.suffix.lower()[1:] if file.suffix.lower() in LABEL_SUFFIXES else file.stem
    try:
        lines = file.read_bytes().splitlines()
    except OSError as error:
        _skip(skipped, file, f"cannot be read ({error.strerror or error})")
        return []
    examples = []
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8-sig").strip()
        except UnicodeDecodeError as error:
            _skip(skipped, file, f"line {number} is not UTF-8 text ({error.reason} at byte {error.start})")
            continue
        if text:
            examples.append((label, text))
    if not examples:
        _skip(skipped, file, "no readable lines")
    return examples


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
