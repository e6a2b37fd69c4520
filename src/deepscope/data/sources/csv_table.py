"""CSV / TSV tables: every column as text, `None` where a value is missing; types are decided elsewhere.

    raw = load_csv("examples/data/customers.csv")
    raw.splits["train"]["age"][:3]                     # array(['38', '45', None], dtype=object)
    infer_feature_type(raw.splits["train"]["smoker"])  # 'binary'
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.data.sources.base import RawData
from deepscope.errors import DataError

# Spellings of "no value" in the wild (after stripping spaces). Case matters only where the world agrees on it.
MISSING = frozenset({"", "NA", "N/A", "nan", "NaN", "null", "None", "?"})
DELIMITERS_BY_SUFFIX = {".tsv": "\t", ".tab": "\t", ".csv": ","}
SNIFFED_DELIMITERS = (",", "\t", ";", "|")
MAX_CATEGORY_NUMBERS = 10  # integer columns with at most this many distinct values are categories
TEXT_MIN_WORDS = 4  # string columns of mostly distinct values this many words long on average are free text


def load_csv(path: str | Path, *, delimiter: str | None = None, quoting: bool | None = None) -> RawData:
    """Read a delimited text table with a header row into one "train" split of text columns.

    Args:
        path: a .csv, .tsv or .txt file (UTF-8; a byte-order mark is fine).
        delimiter: the field separator; default: tab for .tsv, comma for .csv, and for other names the most
            frequent of `, TAB ; |` in the header line.
        quoting: whether `"` quotes fields (RFC 4180). Default: yes, except in tab-separated files whose
            fields are not wrapped in quotes in the first lines: there `"` is plain text (IANA TSV, GLUE).

    Returns:
        RawData whose columns are object arrays of `str` (stripped), with `None` for missing values
        ("", NA, N/A, nan, NaN, null, None, ?). Blank lines are ignored.

    Raises:
        DataError: the file is missing, empty, not UTF-8, has a blank or repeated column name, or a row with
            a different number of fields than the header (the message gives the line number).

    Example:
        >>> Path("t.csv").write_text("x,y\\n1,a\\nNA,b\\n")  # doctest: +SKIP
        >>> load_csv("t.csv").splits["train"]["x"]           # doctest: +SKIP
        array(['1', None], dtype=object)
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header_line = handle.readline()
            handle.seek(0)
            delimiter = delimiter or _delimiter_for(path, header_line)
            quoting = _quotes_fields(handle, delimiter) if quoting is None else quoting
            handle.seek(0)
            style = csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE
            header, rows = _read_rows(path, csv.reader(handle, delimiter=delimiter, quoting=style))
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error}); save the file as UTF-8") from error
    columns = {name: _column([row[i] for row in rows]) for i, name in enumerate(header)}
    return RawData({"train": columns}, description=f"table {path.name} ({len(rows)} rows)")


def _delimiter_for(path: Path, header_line: str) -> str:
    if path.suffix.lower() in DELIMITERS_BY_SUFFIX:
        return DELIMITERS_BY_SUFFIX[path.suffix.lower()]
    return max(SNIFFED_DELIMITERS, key=header_line.count) if header_line.strip() else ","


def _quotes_fields(handle: Any, delimiter: str, lines: int = 200) -> bool:
    """CSV quotes fields; a TSV only if some field of its first lines is wrapped in quotes, as CSV writers do.
    Else a sentence starting with `"` would swallow the rest of the file as one quoted field."""
    if delimiter != "\t":
        return True
    head = [handle.readline() for _ in range(lines)]
    fields = (f for line in head for f in line.rstrip("\r\n").split(delimiter))
    return any(len(f) >= 2 and f[0] == f[-1] == '"' for f in fields)


def _read_rows(path: Path, reader: Any) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows, each row checked to have one field per column."""
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            raise DataError(f"{path}: the file is empty; it needs a header row naming the columns")
        header = _check_header(path, header)
        rows = []
        for row in reader:
            if not row:
                continue  # csv gives [] for a blank line
            if len(row) != len(header):
                raise DataError(
                    f"{path}, line {reader.line_num}: {len(row)} fields, but the header has {len(header)} "
                    f"({', '.join(header)}). Quote values that contain the delimiter, or fill in the missing field."
                )
            rows.append(row)
    except csv.Error as error:
        raise DataError(f"{path}, line {reader.line_num}: {error}") from error
    if not rows:
        raise DataError(f"{path}: there is a header but no data rows")
    return header, rows


def _check_header(path: Path, header: list[str]) -> list[str]:
    names = [name.strip() for name in header]
    for number, name in enumerate(names, start=1):
        if not name:
            raise DataError(f"{path}, line 1: column {number} has no name; give every column a name")
        if names.count(name) > 1:
            raise DataError(f"{path}, line 1: the column name {name!r} appears twice; column names must differ")
    return names


def _column(values: list[str]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)  # filled element-wise: np.array would guess a str dtype
    column[:] = [None if v.strip() in MISSING else v.strip() for v in values]
    return column


def infer_feature_type(values: np.ndarray) -> str:
    """Guess a feature type for a column: "binary", "number", "text", "category" ("image" for (N, H, W[, C])).

    Rules, on the non-missing values: exactly 2 distinct values -> "binary"; all numbers and either some are
    not whole or there are more than 10 distinct values -> "number"; strings, at least half of them distinct,
    of 4 or more words on average -> "text"; anything else -> "category" (so a column of 0..9 digit labels is
    a category, ages are numbers, and reviews are text).

    Args:
        values: a column, e.g. an object array of strings with None for missing values, or a numeric array.

    Example:
        >>> infer_feature_type(np.array(["yes", "no", None, "yes"], dtype=object))
        'binary'
        >>> infer_feature_type(np.array(["1.5", "2", "3"], dtype=object))
        'number'
    """
    values = _as_column(np.asarray(values))
    if values.ndim >= 3:
        return "image"
    if values.dtype.kind in "biuf":  # numeric arrays (npz, sklearn): np.unique is fast on 60k labels
        distinct = set(np.unique(values[~np.isnan(values)] if values.dtype.kind == "f" else values).tolist())
    else:
        distinct = {v for v in values if not _is_missing(v)}
    if len(distinct) == 2:
        return "binary"
    numbers = [_as_float(v) for v in distinct]
    if distinct and all(n is not None for n in numbers):
        if len(distinct) > MAX_CATEGORY_NUMBERS or any(not float(n).is_integer() for n in numbers):
            return "number"
    if _is_free_text(distinct, values):
        return "text"
    return "category"


def _is_free_text(distinct: set, values: np.ndarray) -> bool:
    """Sentences, not labels: most values differ from each other and average TEXT_MIN_WORDS words or more."""
    texts = [v for v in distinct if isinstance(v, str)]
    if len(texts) < 2 or len(texts) < 0.5 * sum(not _is_missing(v) for v in values):
        return False
    return sum(len(t.split()) for t in texts) >= TEXT_MIN_WORDS * len(texts)


def _as_column(values: np.ndarray) -> np.ndarray:
    """(N,) as is, (N, 1) flattened; (N, H, W[, C]) left for the caller; (N, k) cannot be guessed."""
    if values.ndim == 2 and values.shape[1] == 1:
        return values.reshape(-1)
    if values.ndim == 2 or values.ndim == 0:
        raise DataError(
            f"cannot guess the feature type of a column of shape {values.shape}; give its type in the config "
            "(e.g. inputs: {name: number})"
        )
    return values


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() in MISSING
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
