"""CSV / TSV tables: every column as text, `None` where a value is missing; types are decided elsewhere.

    raw = load_csv("examples/data/customers.csv")
    raw.splits["train"]["age"][:3]                     # array(['38', '45', None], dtype=object)
    infer_feature_type(raw.splits["train"]["smoker"])  # 'binary'
"""

from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.data.sources.base import RawData
from deepscope.data.sources.encoding import decode_text, report_decoding
from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")

# Spellings of "no value" in the wild (after stripping spaces). Case matters only where the world agrees on it.
MISSING = frozenset({"", "NA", "N/A", "nan", "NaN", "null", "None", "?"})
DELIMITERS_BY_SUFFIX = {".tsv": "\t", ".tab": "\t", ".csv": ","}
SNIFFED_DELIMITERS = (",", "\t", ";", "|")
MAX_CATEGORY_NUMBERS = 10  # integer columns with at most this many distinct values are categories
TEXT_MIN_WORDS = 4  # string columns of mostly distinct values this many words long on average are free text


def load_csv(path: str | Path, *, delimiter: str | None = None, quoting: bool | None = None,
             header: bool | None = None, columns: list[str] | None = None, encoding: str | None = None,
             strip: dict[str, str] | None = None) -> RawData:
    """Read a delimited text table into one "train" split of text columns.

    Args:
        path: a .csv, .tsv or .txt file.
        delimiter: the field separator; default: tab for .tsv, comma for .csv, and for other names the most
            frequent of `, TAB ; |` in the first line.
        quoting: whether `"` quotes fields (RFC 4180). Default: yes, except in tab-separated files whose
            fields are not wrapped in quotes in the first lines: there `"` is plain text (IANA TSV, GLUE).
        header: whether the first line names the columns. None (the default): it does, and a warning says so
            when some of its names are numbers (the first line is then often data, as in UCI files).
        columns: the columns' names, in order: for a file without a header row, or instead of the header's.
            Without a header and without `columns`, the columns are named column_1, column_2, ...
        encoding: the file's text encoding (`cp1252`, `latin-1`, `utf-8`, ...); lines not valid in it are left
            out and listed in `RawData.skipped`. None: UTF-8, and any line that is not UTF-8 read as Windows-1252
            (see data/sources/encoding.py); a byte-order mark is fine.
        strip: column -> characters stripped from both ends of its values (`{"income": "."}`: `>50K.` -> `>50K`),
            after the spaces; a value left empty is missing. A column the file does not have is passed over (a
            file to predict from has no output column); `load_splits` checks the names against the data.

    Returns:
        RawData whose columns are object arrays of `str` (stripped), with `None` for missing values
        ("", NA, N/A, nan, NaN, null, None, ?). Blank lines are ignored.

    Raises:
        DataError: the file is missing or empty, has a blank or repeated column name, or a row with a different
            number of fields than there are columns (the message gives the line number); a first line of one
            field holding another delimiter (`age;job`: the message names it and data.delimiter); an infinite
            number (`inf`, `-inf`, `1e309`) in a column of numbers (the message gives the line and the column).
        ConfigError: an unknown encoding, or `columns` with a blank or repeated name.

    Example:
        >>> Path("t.csv").write_text("x,y\\n1,a\\nNA,b\\n")  # doctest: +SKIP
        >>> load_csv("t.csv").splits["train"]["x"]           # doctest: +SKIP
        array(['1', None], dtype=object)
        >>> load_csv("adult.data", header=False, columns=["age", "workclass", ...])  # doctest: +SKIP
    """
    path = Path(path)
    skipped: list[str] = []
    reader = _reader(path, delimiter=delimiter, quoting=quoting, encoding=encoding, skipped=skipped)
    names, rows, lines = _read_rows(path, reader, header=header, columns=columns)
    table = {name: _column([row[i] for row in rows], (strip or {}).get(name, "")) for i, name in enumerate(names)}
    for name, values in table.items():
        _refuse_infinite(path, name, values, lines)
    return RawData({"train": table}, skipped=skipped, description=f"table {path.name} ({len(rows)} rows)")


def first_fields(path: str | Path, *, delimiter: str | None = None,
                 encoding: str | None = None) -> tuple[list[str], str]:
    """(the fields of the file's first non-blank line, split as `load_csv` splits them, the delimiter used)."""
    reader = _reader(Path(path), delimiter=delimiter, quoting=None, encoding=encoding, skipped=[])
    try:
        return next((row for row in reader if row), []), reader.dialect.delimiter
    except csv.Error as error:
        raise DataError(f"{path}, line {reader.line_num}: {error}") from error


def _reader(path: Path, *, delimiter: str | None, quoting: bool | None, encoding: str | None,
            skipped: list[str]) -> Any:
    """A csv reader over the decoded file, with the delimiter and quoting `load_csv` documents."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    decoded = decode_text(path.read_bytes(), encoding, str(path))
    report_decoding(path, decoded, skipped)
    handle = io.StringIO(decoded.text, newline="")
    first_line = handle.readline()
    handle.seek(0)
    delimiter = delimiter or _delimiter_for(path, first_line)
    quoting = _quotes_fields(handle, delimiter) if quoting is None else quoting
    handle.seek(0)
    style = csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE
    return csv.reader(handle, delimiter=delimiter, quoting=style)


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


def _read_rows(path: Path, reader: Any, *, header: bool | None,
               columns: list[str] | None) -> tuple[list[str], list[list[str]], list[int]]:
    """The column names, the data rows, each checked to have one field per column, and the line of the file
    each row starts on (1 is the first line, the header where there is one: as a text editor counts)."""
    try:
        first = next((row for row in reader if row), None)
        if first is None:
            raise DataError(f"{path}: the file is empty; it needs a header row naming the columns, or rows and "
                            "data.header: false")
        if header is not False or (columns and len(columns) > 1):  # a lone column of sentences may hold a ;
            check_delimiter(path, first, reader.dialect.delimiter)
        names = _column_names(path, first, header, columns)
        rows, lines = ([], []) if header is not False else ([first], [reader.line_num])
        if rows and len(first) != len(names):
            raise DataError(_field_count(path, reader.line_num, first, names, header))
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1  # a quoted field may run over several lines
            if not row:
                continue  # csv gives [] for a blank line
            if len(row) != len(names):
                raise DataError(_field_count(path, reader.line_num, row, names, header))
            rows.append(row)
            lines.append(line)
    except csv.Error as error:
        raise DataError(f"{path}, line {reader.line_num}: {error}") from error
    if not rows:
        raise DataError(f"{path}: there is a header but no data rows; if the one line is data, say "
                        "data.header: false")
    return names, rows, lines


def check_delimiter(path: Path, first: list[str], delimiter: str) -> None:
    """A first line of one field holding another delimiter: the file is separated by that one, and every column
    the config names would be reported missing although the header shows them all."""
    if len(first) != 1:
        return
    others = [d for d in SNIFFED_DELIMITERS if d != delimiter and d in first[0]]
    if others:
        found = max(others, key=first[0].count)
        raise DataError(
            f"{path}: this file seems to be separated by {_quoted(found)}, not {_quoted(delimiter)} (its first "
            f"line is one column, {first[0][:80]!r}); set data.delimiter: {_quoted(found)} in the config, or save "
            f"the file separated by {_quoted(delimiter)}"
        )


def _quoted(delimiter: str) -> str:
    """As YAML writes it in double quotes: a tab is \\t there."""
    return '"' + delimiter.replace("\t", "\\t") + '"'


def _refuse_infinite(path: Path, name: str, values: np.ndarray, lines: list[int]) -> None:
    """A column of numbers holding `inf`, `-inf` or `1e309` (which overflows to inf): refused, naming the line.
    Python reads them as numbers, and one infinite input turns every prediction it touches into NaN, silently.
    (`nan` is a missing value, as everywhere in this file.)"""
    infinite = None
    for row, value in enumerate(values):
        if value is None:
            continue
        number = _as_number(value)
        if number is None:
            return  # not a column of numbers: "inf" may be a word there
        if infinite is None and math.isinf(number):
            infinite = row
    if infinite is not None:
        raise DataError(
            f"{path}, line {lines[infinite]}, column {name!r}: {values[infinite][:40]!r} is not a finite number "
            "(the column holds numbers); fix the value, or leave the cell empty for a missing value"
        )


def _column_names(path: Path, first: list[str], header: bool | None, columns: list[str] | None) -> list[str]:
    """The names from `columns`, else from the header row, else column_1, column_2, ..."""
    if header is not False:
        found = _check_header(path, first, explicit=header is not None or columns is not None)
        if columns is not None and len(columns) != len(found):
            raise DataError(f"data.columns: names {len(columns)} columns, but the header of {path} has "
                            f"{len(found)} ({', '.join(found)})")
    if columns is not None:
        return _check_names(columns)
    if header is False:
        return [f"column_{number}" for number in range(1, len(first) + 1)]
    return found


def _check_names(columns: list[str]) -> list[str]:
    names = [str(name).strip() for name in columns]
    for number, name in enumerate(names, start=1):
        if not name:
            raise ConfigError(f"data.columns: name {number} is blank; give every column a name")
        if names.count(name) > 1:
            raise ConfigError(f"data.columns: the name {name!r} appears twice; column names must differ")
    return names


def _field_count(path: Path, line: int, row: list[str], names: list[str], header: bool | None) -> str:
    where = "the header has" if header is not False else "there are"
    return (f"{path}, line {line}: {len(row)} fields, but {where} {len(names)} columns ({', '.join(names)}). "
            "Quote values that contain the delimiter, or fill in the missing field.")


def _check_header(path: Path, header: list[str], *, explicit: bool) -> list[str]:
    names = [name.strip() for name in header]
    numbers = [name for name in names if _as_float(name) is not None]
    looks_like_data = (f"the first line looks like data, not names ({', '.join(names[:4])}, ...): if the file has "
                       "no header row, say data.header: false and name the columns in data.columns: [...]")
    for number, name in enumerate(names, start=1):
        if not name:
            raise DataError(f"{path}, line 1: column {number} has no name; give every column a name"
                            + (f"; {looks_like_data}" if numbers else ""))
        if names.count(name) > 1:
            raise DataError(f"{path}, line 1: the column name {name!r} appears twice; column names must differ"
                            + (f"; {looks_like_data}" if numbers else ""))
    if numbers and not explicit:  # real headers rarely hold numbers; UCI files have no header at all
        log.warning("%s: %d of the header's %d names are numbers (%s): %s; if they are names, say data.header: "
                    "true", path, len(numbers), len(names), ", ".join(numbers[:4]), looks_like_data)
    return names


def _column(values: list[str], strip: str = "") -> np.ndarray:
    """Text values stripped of spaces (then of the characters `strip` names), None where missing."""
    column = np.empty(len(values), dtype=object)  # filled element-wise: np.array would guess a str dtype
    stripped = (v.strip().strip(strip).strip() if strip else v.strip() for v in values)
    column[:] = [None if v in MISSING else v for v in stripped]
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


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
