"""Reading the CSV files partners upload (the bulk invitation, the batch tool's address list):
the encodings spreadsheets save and the separators they use.

Excel saves "CSV UTF-8" with a byte-order mark, "CSV (Comma delimited)" in the Windows code
page (Windows-1252 in Western Europe and the Americas) and "Unicode Text" as UTF-16 with a
byte-order mark; where the decimal separator is a comma, its list separator is a semicolon.
`csv_decode` reads the bytes (a BOM decides, then strict UTF-8, then Windows-1252 if
charset-normalizer finds the text plausible in it) and `csv_delimiter` the separator
(`csv.Sniffer`, comma or semicolon). Both say what they read, so that the page can tell the
partner; what cannot be read is a ValidationError that says what to do, never a guess.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes
from django.core.exceptions import ValidationError

# (byte-order mark, codec, how the page names it); UTF-8's first, UTF-16's after it.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
# The one 8-bit code page accepted without a BOM: telling code pages apart by guessing is
# unreliable for short files (a name with "ë" reads as several), so only Excel's default is
# tried, and charset-normalizer says whether the text is plausible in it.
FALLBACK_CODE_PAGE = ("cp1252", "Windows-1252")
DELIMITERS = {",": "comma", ";": "semicolon"}
# Enough lines for csv.Sniffer to see the separator repeat; more only costs time.
SNIFF_LINES = 50
# ... and at most this many characters of each and in all: csv.Sniffer's regular expressions
# take time quadratic in the sample on a line of quotes and separators (hours for a 2 MB upload).
SNIFF_LINE_CHARACTERS = 1024
SNIFF_CHARACTERS = 4096
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
SAVE_AS = "In Excel choose File › Save As › “CSV UTF-8 (Comma delimited)”."


@dataclass(frozen=True)
class CsvText:
    text: str
    encoding: str  # as the page names it: "UTF-8", "UTF-8 with BOM", "UTF-16 LE", ...


def csv_decode(content: bytes) -> CsvText:
    """The text of an uploaded CSV file, and which encoding it was read in."""
    for bom, codec, label in BYTE_ORDER_MARKS:
        if content.startswith(bom):
            return CsvText(_strict(content[len(bom) :], codec, label), label)
    if content.startswith(b"PK\x03\x04"):
        raise ValidationError(f"This is an Excel workbook (.xlsx), not a CSV file. {SAVE_AS}")
    if b"\x00" in content:
        raise ValidationError(
            f"The file is not a text file (it holds NUL bytes), or it is UTF-16 without a "
            f"byte-order mark. {SAVE_AS}"
        )
    try:
        return CsvText(content.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        pass
    codec, label = FALLBACK_CODE_PAGE
    match = from_bytes(content, cp_isolation=[codec]).best()
    if match is None:
        raise ValidationError(
            f"The file's encoding could not be read: it is not UTF-8, UTF-16 or Windows-1252 "
            f"text. {SAVE_AS}"
        )
    return CsvText(str(match), label)


def _strict(content: bytes, codec: str, label: str) -> str:
    try:
        return content.decode(codec)
    except UnicodeDecodeError:
        raise ValidationError(
            f"The file starts like {label} text but is not valid {label}. {SAVE_AS}"
        ) from None


def csv_delimiter(text: str) -> str:
    """The separator of a CSV text: comma or semicolon, as csv.Sniffer sees its first lines;
    a comma when it cannot tell (one column, or nothing repeats)."""
    lines = _LINE_BREAK.split(text.lstrip("\ufeff"), SNIFF_LINES)[:SNIFF_LINES]
    sample = "\n".join(line[:SNIFF_LINE_CHARACTERS] for line in lines)[:SNIFF_CHARACTERS]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","
    return delimiter if delimiter in DELIMITERS else ","


def csv_reading(*, text: str, encoding: str = "") -> str:
    """What the page says it read: "Read as Windows-1252, separated by semicolons." (no
    encoding for pasted text)."""
    separator = f"separated by {DELIMITERS[csv_delimiter(text)]}s"
    return f"Read as {encoding}, {separator}." if encoding else f"Read {separator}."
