"""Text files in whatever encoding they were saved in: UTF-8 first, else the legacy encoding of the era, said once.

With no `data.encoding` (the default), a file that starts with a UTF-16 or UTF-32 byte-order mark is read in that
encoding. Any other is read line by line as UTF-8 (a byte-order mark is not text), and a line that is not valid
UTF-8 as Windows-1252: the encoding of Windows and of most pre-2010 English corpora, such as the rt-polarity
sentiment sentences with their accented names. Nothing is dropped, and one console line per file says how many
lines that was. Line by line, not file by file, because files joined from several sources mix the two, and a UTF-8
line read as Windows-1252 would turn "é" into "Ã©"; a Windows-1252 line with an accent is practically never valid
UTF-8 (an accented byte must be followed by 0x80-0xBF), so the two readings do not get mixed up.

With `data.encoding` given (`latin-1`, `cp1250`, `shift_jis`, `utf-8`, ...), every line is read in it, and a
line that is not valid in it is left out: counted, named by line number in one console line, and recorded in
`RawData.skipped` (so in diagnosis.json and the report).

    decoded = decode_text(Path("rt-polarity.neg").read_bytes(), None)
    decoded.lines()[:1], decoded.fallback_lines[:3]     # ['simplistic , silly and tedious . '], [the lines' numbers]
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from deepscope.errors import ConfigError, DataError

log = logging.getLogger("deepscope")

UTF8 = "utf-8"
LEGACY = "cp1252"  # the automatic second choice: Windows-1252, a superset of Latin-1's printable characters
LAST_RESORT = "latin-1"  # decodes any byte: for the five bytes Windows-1252 leaves undefined (0x81, 0x8D, ...)
LINES_NAMED = 5  # line numbers (or files) a console summary names before "..."


@dataclass
class Decoded:
    """A file's text, with what reading it took. A left-out line stays as its bare line ending, so line numbers
    (and a table's row numbers) are those of the file."""

    text: str
    encoding: str  # what was asked for: "utf-8" for the automatic choice, else `data.encoding`'s codec name
    line_count: int
    fallback_lines: list[int] = field(default_factory=list)  # 1-based: read as Windows-1252 (automatic choice)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, reason): left out

    def lines(self) -> list[str]:
        """The lines without their endings, cut at LF, CRLF or CR as the bytes were (and as a table reader cuts)."""
        lines = LINE_BREAK.split(self.text)
        return lines[:-1] if lines[-1] == "" else lines  # a final line break ends the last line, it starts none


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def check_encoding(encoding: str | None, where: str = "data.encoding") -> str | None:
    """The codec's canonical name (`latin1` -> `iso8859-1`), or a ConfigError naming the unknown encoding."""
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"{where}: {encoding!r} is not an encoding Python knows; common ones are utf-8, cp1252 "
                          "(Windows), latin-1, cp1250 (Central European), shift_jis, gb18030, utf-16") from None


def decode_text(data: bytes, encoding: str | None, where: str = "") -> Decoded:
    """Decode `data` line by line (see the module docstring); `encoding` None is the automatic choice.

    Raises:
        ConfigError: an unknown encoding. DataError: a file in an encoding whose line endings are not single
            bytes (UTF-16, UTF-32) that is not valid in it.
    """
    encoding = check_encoding(encoding) or _unicode_by_bom(data)
    asked = encoding or UTF8
    lines = _count_lines(data)
    if encoding is not None and not _keeps_ascii_lines(encoding):  # UTF-16: lines cannot be cut as bytes
        text = _decode_whole(data, encoding, where)
        return Decoded(text, asked, len(text.splitlines()))
    try:  # the usual case, in one fast call
        return Decoded(_strip_bom(data.decode(asked)), asked, lines)
    except UnicodeDecodeError:
        pass
    decoded = Decoded("", asked, lines)
    parts = [_decode_line(line, number, encoding, decoded)
             for number, line in enumerate(data.splitlines(keepends=True), start=1)]
    decoded.text = _strip_bom("".join(parts))
    return decoded


def _count_lines(data: bytes) -> int:
    """What `len(data.splitlines())` says, without a list of every line of a large file."""
    breaks = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return breaks + (bool(data) and not data.endswith((b"\n", b"\r")))


def _decode_line(line: bytes, number: int, encoding: str | None, decoded: Decoded) -> str:
    try:
        return line.decode(encoding or UTF8)
    except UnicodeDecodeError as error:
        if encoding is not None:
            decoded.bad_lines.append((number, f"not valid {encoding} text (byte 0x{line[error.start]:02x} at "
                                              f"column {error.start + 1})"))
            return line[len(line.rstrip(b"\r\n")):].decode("ascii")  # the bare line ending
    decoded.fallback_lines.append(number)
    try:
        return line.decode(LEGACY)
    except UnicodeDecodeError:
        return line.decode(LAST_RESORT)


def _decode_whole(data: bytes, encoding: str, where: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise DataError(f"{where}: not valid {encoding} text ({error.reason} at byte {error.start}); check "
                        "data.encoding") from None


def _unicode_by_bom(data: bytes) -> str | None:
    """"utf-32" / "utf-16" for a file that starts with their byte-order mark (Windows Notepad's "Unicode")."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    return "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else None


def _keeps_ascii_lines(encoding: str) -> bool:
    """Whether line endings are the bytes they are in ASCII, so that lines can be cut before decoding."""
    try:
        return "a\n\r".encode(encoding) == b"a\n\r"
    except UnicodeEncodeError:
        return False


def _strip_bom(text: str) -> str:
    return text.removeprefix("\ufeff")  # a byte-order mark says "UTF-8"; it is not text


def report_decoding(path: Path, decoded: Decoded, skipped: list[str], *, what: str = "line") -> None:
    """One console line for the lines read as Windows-1252, one for the lines left out (each also recorded in
    `skipped` as "<path>, line N: <reason>")."""
    total = decoded.line_count
    if decoded.fallback_lines:
        log.warning("%s: %s of %s %ss are not UTF-8 (%s); read them as Windows-1252 (cp1252). If accented "
                    "letters look wrong, give the file's encoding as data.encoding (latin-1, cp1250, ...)",
                    path, f"{len(decoded.fallback_lines):,}", f"{total:,}", what,
                    numbered(what, decoded.fallback_lines))
    if decoded.bad_lines:
        log.warning("%s: left out %s of %s %ss that are not valid %s text (%s); each is listed in the run's "
                    "diagnosis.json and report",
                    path, f"{len(decoded.bad_lines):,}", f"{total:,}", what, decoded.encoding,
                    numbered(what, [n for n, _ in decoded.bad_lines]))
        skipped.extend(f"{path}, {what} {number}: {reason}" for number, reason in decoded.bad_lines)


def numbered(what: str, numbers: list[int]) -> str:
    """"lines 3, 8, 12, 40, 51, ..." — the first few, for a console line."""
    shown = ", ".join(str(n) for n in numbers[:LINES_NAMED])
    return f"{what}{'s' if len(numbers) > 1 else ''} {shown}{', ...' if len(numbers) > LINES_NAMED else ''}"
