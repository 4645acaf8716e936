"""The one CSV writer of every export (licence consumers, call history, batch reports): rows
are streamed as they are read, so a large export starts at once and never sits in memory."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse

from .db import scope_carried

# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"): a display name like `=HYPERLINK(...)` typed by anyone would run in the
# spreadsheet of whoever opens the export.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer to stream through."""

    def write(self, value: str) -> str:
        return value


def neutralise(value: object) -> object:
    """A text cell that would start a formula, prefixed with a single quote (OWASP's advice:
    spreadsheets show it as text). Numbers and dates, which the code writes, are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    # Streamed after the view returns: the rows are read in the view's scope (the replica's for
    # an export under portal.db.replica_view) all the same.
    carried = scope_carried(rows)

    def stream() -> Iterator[str]:
        yield writer.writerow([neutralise(cell) for cell in header])
        for row in carried:
            yield writer.writerow([neutralise(cell) for cell in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
