"""Handouts as HTML and PDF (real WeasyPrint rendering, text read back with pypdf)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader
from pypdf.generic import NameObject, StreamObject

from consumers import services
from consumers.models import Consumer, ConsumerStatus
from handouts import services as handouts
from handouts.models import DialInNumber, HandoutExport
from licensing.models import LicenceKind
from tests.conftest import add_licence

# What htmx sends with each of its requests: the one signal for a partial-page answer.
HX = {"HX-Request": "true"}


@pytest.fixture
def company(personas, make, foreign_room):
    """Partner A's company with one consumer of each kind and state, and current and retired
    dial-in numbers; partner B has a room that no handout of partner A may show."""
    c = personas.company
    add_licence(c)
    add_licence(c, LicenceKind.ROOM, 5)
    make.user("ann.active", email="ann@x.example", full_name="Ann Active")
    Consumer.objects.filter(alias="ann.active").update(status=ConsumerStatus.ACTIVE)
    make.user("ivy.invited", email="ivy@x.example", full_name="Ivy Invited")
    make.team_vmr("all-hands", display_name="All hands")
    make.endpoint("boardroom-1", display_name="Boardroom One")
    old = make.team_vmr("old-room", display_name="Old room")
    services.consumer_deactivate(actor=personas.regular, consumer=old)
    DialInNumber.objects.create(country="GB", label="London", number="+44 20 3000 0000")
    DialInNumber.objects.create(country="NO", label="Oslo", number="+47 21 00 00 00")
    DialInNumber.objects.create(country="SE", label="Old", number="+46 8 000 000", is_active=False)
    return c


def pdf_text(pdf: bytes, tmp_path=None) -> str:  # type: ignore[no-untyped-def]
    """The PDF's text in reading layout, pages separated by a form feed as pdftotext does
    (pypdf: no command-line tool)."""
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        _read_embedded_cmaps_as_two_byte(page)
    return "\f".join(page.extract_text(extraction_mode="layout") for page in reader.pages)


def _read_embedded_cmaps_as_two_byte(page) -> None:  # type: ignore[no-untyped-def]
    """WeasyPrint names an embedded CMap as the encoding of a font that needs one (ligatures,
    glyphs a font lacks): two-byte codes, each mapped to the CID of the same number. pypdf
    reads such a font's codes as single bytes, which garbles its text; Identity-H is the same
    two-byte reading, so the ToUnicode map gives the text back."""
    fonts = page.get("/Resources", {}).get("/Font", {})
    for ref in fonts.values():
        font = ref.get_object()
        encoding = font.get("/Encoding")
        if encoding is None or not isinstance(encoding.get_object(), StreamObject):
            continue
        if b"<0000> <ffff>" in encoding.get_object().get_data():
            font[NameObject("/Encoding")] = NameObject("/Identity-H")


def test_pdf_holds_exactly_the_company_subscriptions_and_current_numbers(
    company, foreign_room, tmp_path
):
    pdf = handouts.handout_render_pdf(company=company)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    for expected in (
        "ann.active@acme-a.onpexip.com",
        "ann.active.vmr@acme-a.onpexip.com",
        "all-hands@acme-a.onpexip.com",
        "boardroom-1@acme-a.onpexip.com",
        "Boardroom One",
        "+44 20 3000 0000",
        "London",
        "+47 21 00 00 00",
        "Partner A",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    for absent in (foreign_room.alias, "ivy.invited", "old-room", "+46 8 000 000"):
        assert absent not in text, absent


def test_not_active_consumers_can_be_marked_and_sections_chosen(company):
    html = handouts.handout_render_html(
        company=company, not_active="mark", sections=["users", "dial_in"]
    )
    assert "ivy.invited@acme-a.onpexip.com" in html and "invited, not yet active" in html
    assert "all-hands" not in html and "boardroom-1" not in html
    assert "+44 20 3000 0000" in html


def test_long_tables_repeat_headers_page_numbers_and_never_split_rows(company, make, tmp_path):
    for i in range(120):
        make.team_vmr(f"room-number-{i:03}", display_name=f"Room {i:03}")
    text = pdf_text(handouts.handout_render_pdf(company=company, sections=["team_vmrs"]), tmp_path)
    pages = text.split("\f")
    real_pages = [p for p in pages if p.strip()]
    assert len(real_pages) >= 3
    for number, page in enumerate(real_pages, start=1):
        assert f"Page {number} of {len(real_pages)}" in page
        assert "Partner A · Acme A" in page, "the header repeats on each page"
        assert "Name" in page and "Address" in page, "the table header repeats"


def test_every_role_downloads_small_handouts_at_once(company, personas, login):
    for user in (personas.read_only, personas.regular):
        client = login(user)
        response = client.post(
            reverse("handouts:handout", args=[company.public_id]),
            {"sections": ["users", "endpoints"], "not_active": "omit", "fmt": "pdf"},
        )
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
    html = login(personas.read_only).post(
        reverse("handouts:handout", args=[company.public_id]),
        {"sections": ["users"], "not_active": "omit", "fmt": "html"},
    )
    assert b"ann.active@acme-a.onpexip.com" in html.content
    assert "default-src 'none'" in html["Content-Security-Policy"]


def test_large_companies_get_a_task_and_a_download(
    company, personas, login, monkeypatch, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(handouts, "SYNC_LIMIT", 2)
    client = login(personas.read_only)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("handouts:handout", args=[company.public_id]),
            {"sections": ["users"], "not_active": "omit", "fmt": "pdf"},
        )
    export = HandoutExport.objects.get()
    detail = reverse("handouts:export_detail", args=[company.public_id, export.public_id])
    assert response["Location"] == detail
    page = client.get(detail)
    assert f'hx-get="{detail}" hx-trigger="every 2s"'.encode() in page.content
    assert b"Queued" in page.content
    running = client.get(detail, headers=HX)
    assert running.content.decode().startswith('<section id="export-status"')
    assert b'hx-trigger="every 2s"' in running.content and "HX-Request" in running["Vary"]
    handouts.handout_export_run(export_id=export.pk)
    fragment = client.get(detail, headers=HX)
    assert b"<html" not in fragment.content and b"Download PDF" in fragment.content
    assert b"hx-trigger" not in fragment.content, "polling stops once the handout is ready"
    page = client.get(detail)
    assert b"<html" in page.content and b"Download PDF" in page.content
    download = client.get(
        reverse("handouts:export_download", args=[company.public_id, export.public_id])
    )
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert handouts.handout_export_run(export_id=export.pk).status == "done", "re-run harmless"


def test_dial_in_numbers_are_kept_by_ops_in_admin(personas, login):
    client = login(personas.ops)
    client.post(
        reverse("admin:handouts_dialinnumber_add"),
        {
            "country": "DE",
            "label": "Berlin",
            "number": "+49 30 0000",
            "sort_order": 0,
            "is_active": "on",
        },
    )
    assert DialInNumber.objects.get().label == "Berlin"
