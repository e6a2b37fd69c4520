"""A CSV/TSV table too large for memory: one pass lists each row's byte offset, workers read the rows they need.

    table, sample, outputs = list_table(path, outputs=["income"], header=None, ...)
    table.read([5, 0, 7])        # {"age": array(['38', None, '45'], dtype=object), ...}: rows parsed as load_csv does

The one pass (the file read line by line, never whole) keeps: the offset and line number of every row (12 bytes
a row), the output columns in full (labels are what the splits are stratified on, and outputs are encoded once,
in memory), and a reservoir sample of FIT_ROWS rows at random, on which the input features are fitted and
their types inferred. Values are parsed as `load_csv` parses them (spaces stripped, `data.strip`, missing-value
spellings, UTF-8 with Windows-1252 for lines that are not); a line not valid in `data.encoding` is left out and
listed. A row is one line: a quoted field that runs over several lines is refused (read it with stream: false).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepscope.data.sources import csv_table
from deepscope.data.sources.encoding import decode_text
from deepscope.errors import DataError

FIT_ROWS = 100_000  # rows the input features are fitted on (a reservoir sample of the one pass)


@dataclass
class TableRows:
    """Reads rows of one table by number: what a worker holds (offsets, not values)."""

    path: str
    names: list[str]
    offsets: np.ndarray  # (N,) int64 byte offset of each row
    lines: np.ndarray  # (N,) int64 line number of each row, for messages
    delimiter: str
    quoting: bool
    encoding: str | None
    strip: dict[str, str] = field(default_factory=dict)

    def read(self, rows: list[int]) -> dict[str, np.ndarray]:
        fields = []
        with open(self.path, "rb") as handle:
            for row in rows:
                handle.seek(int(self.offsets[row]))
                fields.append(self.parse(handle.readline(), int(self.lines[row])))
        return self.columns(fields)

    def parse(self, data: bytes, line: int, *, lenient: bool = False) -> list[str] | None:
        """One line's fields; a line not valid in data.encoding is None when `lenient` (left out, as load_csv
        leaves it out), else an error."""
        decoded = decode_text(data, self.encoding, f"{self.path}, line {line}")
        if decoded.bad_lines:
            if lenient:
                return None
            raise DataError(f"{self.path}, line {line}: {decoded.bad_lines[0][1]}")
        style = csv.QUOTE_MINIMAL if self.quoting else csv.QUOTE_NONE
        try:
            row = next(csv.reader([decoded.text.rstrip("\r\n")], delimiter=self.delimiter, quoting=style), [])
        except csv.Error as error:
            raise DataError(f"{self.path}, line {line}: {error}{ONE_LINE}") from None
        if len(row) != len(self.names):
            raise DataError(f"{self.path}, line {line}: {len(row)} fields, but there are {len(self.names)} columns "
                            f"({', '.join(self.names)}){ONE_LINE}")
        return row

    def columns(self, rows: list[list[str]]) -> dict[str, np.ndarray]:
        return {name: csv_table._column([row[i] for row in rows], self.strip.get(name, ""))
                for i, name in enumerate(self.names)}


ONE_LINE = ("; a streamed table reads one row per line: quote values that hold the delimiter, and read a table "
            "whose quoted values run over lines with data.stream: false")


def list_table(path: Path, *, outputs: list[str], delimiter: str | None, header: bool | None,
               columns: list[str] | None, encoding: str | None, strip: dict[str, str] | None,
               seed: int = 0) -> tuple[TableRows, dict[str, np.ndarray], dict[str, np.ndarray], list[int], list[str]]:
    """One pass over the table: (the row reader, the output columns in full, a sample of every column, the sample's
    row numbers, what was left out and why)."""
    first, first_line = _first_row(path)
    delimiter = delimiter or csv_table._delimiter_for(path, first_line)
    with open(path, "rb") as handle:
        head = io.StringIO("".join(decode_text(handle.readline(), encoding).text for _ in range(200)))
    quoting = csv_table._quotes_fields(head, delimiter)
    table = TableRows(str(path), [], np.zeros(0, np.int64), np.zeros(0, np.int64), delimiter, quoting, encoding,
                      dict(strip or {}))
    parsed_first = table_first(table, first, first_line)
    if header is not False:
        csv_table.check_delimiter(path, parsed_first, delimiter)
    table.names = csv_table._column_names(path, parsed_first, header, columns)
    missing = [name for name in outputs if name not in table.names]
    if missing:
        raise DataError(f"data.outputs: no column {missing[0]!r} in the data; columns are: {', '.join(table.names)}")
    wanted = [table.names.index(name) for name in outputs]
    offsets, lines, kept, sample, picked, skipped = [], [], [[] for _ in outputs], [], [], []
    rng = np.random.default_rng(seed)
    with open(path, "rb") as handle:
        offset, number = 0, 0
        for data in handle:
            number += 1
            start, offset = offset, offset + len(data)
            if not data.strip() or (number == first and header is not False):
                continue
            row = table.parse(data, number, lenient=True)
            if row is None:
                skipped.append(f"{path}, line {number}: not valid {encoding} text; left out")
                continue
            index = len(offsets)
            offsets.append(start)
            lines.append(number)
            for values, i in zip(kept, wanted):
                values.append(row[i])
            if index < FIT_ROWS:  # reservoir sampling (Algorithm R): every row equally likely to be fitted on
                sample.append(row)
                picked.append(index)
            elif (slot := int(rng.integers(0, index + 1))) < FIT_ROWS:
                sample[slot], picked[slot] = row, index
    if not offsets:
        raise DataError(f"{path}: there is a header but no data rows; if the one line is data, say data.header: false")
    table.offsets, table.lines = np.asarray(offsets, np.int64), np.asarray(lines, np.int64)
    order = np.argsort(picked)
    sample_columns = table.columns([sample[i] for i in order])
    full = {name: csv_table._column(values, table.strip.get(name, "")) for name, values in zip(outputs, kept)}
    return table, full, sample_columns, [picked[i] for i in order], skipped


def _first_row(path: Path) -> tuple[int, str]:
    """(line number, text) of the first non-blank line."""
    with open(path, "rb") as handle:
        for number, data in enumerate(handle, start=1):
            if data.strip():
                return number, decode_text(data, None).text
    raise DataError(f"{path}: the file is empty; it needs a header row naming the columns, or rows and "
                    "data.header: false")


def table_first(table: TableRows, line: int, text: str) -> list[str]:
    style = csv.QUOTE_MINIMAL if table.quoting else csv.QUOTE_NONE
    return next(csv.reader([text.rstrip("\r\n")], delimiter=table.delimiter, quoting=style), [])
