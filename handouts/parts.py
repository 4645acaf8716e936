"""A large PDF handout in parts: how its rows are split, and how the parts' PDFs become one.

WeasyPrint renders one document on one core, so the 25,000-consumer handout takes as long as
the longest single render (README, Benchmarks). In parts it takes that time divided by the
worker processes free to render them: `plan_parts` splits the handout's rows, in order, into
parts of about `HANDOUT_PART_ROWS` rows (the sections stay in order; a section split across
parts carries on under a "(continued)" heading, with its table header); each part is rendered
by a task of its own (handouts.services), and `merge_pdfs` joins the parts' PDFs with pypdf and
stamps the running page numbers ("Page 3 of 812") that no part could know, with reportlab, in
the handout's own font and place.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TypedDict

from django.conf import settings

logger = logging.getLogger(__name__)

# What a row of each section costs WeasyPrint, in rows of the endpoints' table (one line each):
# a room (a user's, a team VMR's) is a group of two lines kept together, and a QR code card is
# an image with its caption; measured on the 25,000-consumer handout (README, Benchmarks). Parts
# of the same cost keep the workers busy to the end.
ROW_WEIGHTS = {"users": 3, "team_vmrs": 3, "qr_codes": 3}
# Where the handout prints its page numbers (static/css/handout.css): the page's bottom-right
# margin box, 15 mm from the right edge, in the middle of the 20 mm bottom margin; 9 pt, #555.
MM = 72 / 25.4
FOOTER_RIGHT = 15 * MM
FOOTER_BASELINE = 10 * MM - 3.2  # the middle of the margin, less half the text's height
FOOTER_SIZE = 9
FOOTER_GREY = 0x55 / 255
FOOTER_FONT_NAME = "HandoutFooter"


class Segment(TypedDict):
    """A section's rows within one part: the consumers' ids, in order, and whether the section
    starts here (its heading) or carries on from the part before ("continued")."""

    section: str
    ids: list[int]
    start: bool


def plan_parts(sections: Sequence[tuple[str, list[int]]], part_rows: int) -> list[list[Segment]]:
    """The handout's sections (each with its rows' ids, in order) split into parts of about
    the same cost, none over `part_rows` rows of the endpoints' table (ROW_WEIGHTS): one part
    when it all fits. A section without rows (none of its kind, the dial-in numbers) goes in
    the part where it falls."""

    def weight(section: str) -> int:
        return ROW_WEIGHTS.get(section, 1)

    total = sum(len(ids) * weight(section) for section, ids in sections)
    count = max(1, math.ceil(total / part_rows))
    size = math.ceil(total / count)  # the same size for each part: no small last part
    parts: list[list[Segment]] = [[]]
    room = size
    for section, ids in sections:
        if not ids:
            parts[-1].append({"section": section, "ids": [], "start": True})
            continue
        done, each = 0, weight(section)
        while done < len(ids):
            if room < each and parts[-1] and len(parts) < count:  # not one more row here
                parts.append([])
                room = size
            # The last part takes what is left (the sizes are rounded up: a few rows at most).
            take = len(ids) - done if len(parts) == count else max(1, room // each)
            chunk = ids[done : done + take]
            parts[-1].append({"section": section, "ids": chunk, "start": done == 0})
            room -= len(chunk) * each
            done += len(chunk)
    return parts


def merge_pdfs(pdfs: Sequence[bytes]) -> bytes:
    """The parts' PDFs as one, in order, with their bookmarks, each page stamped with its
    running number."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    bookmarks: list[tuple[str, int]] = []
    readers = [PdfReader(io.BytesIO(pdf)) for pdf in pdfs]
    for reader in readers:
        bookmarks += [(title, len(writer.pages) + page) for title, page in _bookmarks(reader)]
        writer.append(reader, import_outline=False)
    _add_outline(writer, bookmarks)
    count = len(writer.pages)
    # The numbers are drawn on pages of their own, added to this writer so that every page
    # shares their one font, then laid over the handout's pages and dropped.
    writer.append(PdfReader(io.BytesIO(_page_numbers([p.mediabox for p in writer.pages]))))
    for number in range(count):
        writer.pages[number].merge_page(writer.pages[count + number])
    for extra in range(len(writer.pages) - 1, count - 1, -1):
        del writer.pages[extra]
    for page in writer.pages:
        page.compress_content_streams()  # merging leaves each page's drawing uncompressed
    first = readers[0].metadata  # the title and the producer, as the whole render has them
    if first:
        writer.add_metadata({key: str(value) for key, value in first.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _bookmarks(reader: object) -> list[tuple[str, int]]:
    """A part's bookmarks (its headings), in order, each with its page in the part."""
    found: list[tuple[str, int]] = []

    def walk(items: list[object]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((item.title, reader.get_destination_page_number(item)))  # type: ignore[attr-defined]

    walk(reader.outline)  # type: ignore[attr-defined]
    return found


def _add_outline(writer: object, bookmarks: list[tuple[str, int]]) -> None:
    """The handout's outline as one document has it: its title (the first part's first
    heading), and each section under it. A part after the first has no title of its own, so
    its sections would otherwise stand beside the title, not under it."""
    if not bookmarks:
        return
    (title, page), sections = bookmarks[0], bookmarks[1:]
    root = writer.add_outline_item(title=title, page_number=page)  # type: ignore[attr-defined]
    for name, number in sections:
        writer.add_outline_item(title=name, page_number=number, parent=root)  # type: ignore[attr-defined]


def _page_numbers(boxes: Sequence[object]) -> bytes:
    """A PDF of `len(boxes)` pages of each box's size, each with only "Page n of N" where the
    handout prints it."""
    from reportlab.pdfgen.canvas import Canvas

    font = _footer_font()
    out = io.BytesIO()
    canvas = Canvas(out)
    total = len(boxes)
    for number, box in enumerate(boxes, start=1):
        width, height = float(box.width), float(box.height)  # type: ignore[attr-defined]
        canvas.setPageSize((width, height))
        canvas.setFont(font, FOOTER_SIZE)
        canvas.setFillGray(FOOTER_GREY)
        canvas.drawRightString(width - FOOTER_RIGHT, FOOTER_BASELINE, f"Page {number} of {total}")
        canvas.showPage()
    canvas.save()
    return out.getvalue()


@cache
def _footer_font() -> str:
    """The handout's font for the numbers (HANDOUT_FOOTER_FONT), registered once per process;
    Helvetica, one of the fonts every PDF reader has, if that file is missing."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = Path(settings.HANDOUT_FOOTER_FONT)
    try:
        pdfmetrics.registerFont(TTFont(FOOTER_FONT_NAME, str(path)))
    except Exception:  # reportlab's own error types: a missing or unreadable font file
        logger.warning("handout page numbers: %s cannot be read, Helvetica instead", path)
        return "Helvetica"
    return FOOTER_FONT_NAME
