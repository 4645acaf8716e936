"""A large PDF handout rendered in parts (a task per part, on as many workers as are free) and
merged: it reads as one document, the progress counts the parts, and a part whose worker died
is rendered again. Real WeasyPrint, pypdf and storage; the tasks run in-process on commit."""

from __future__ import annotations

import io
import re
from contextlib import contextmanager

import pytest
from django.urls import reverse
from pypdf import PdfReader

from handouts import services as handouts
from handouts.models import EXPORT_STALE_AFTER, HandoutExport, HandoutPart
from handouts.parts import plan_parts
from licensing.models import LicenceKind
from portal import events
from tests.api.conftest import api, manager_token  # noqa: F401  (the API client fixtures)
from tests.conftest import add_licence
from tests.handouts.test_handouts import HX, pdf_text
from tests.test_faults_jobs import after_stale

ROOMS, USERS = 30, 12
ADDRESS = re.compile(r"\b(room-\d{4}|user-\d{3})@")


@pytest.fixture
def big(personas, make, settings, tmp_path):
    """Partner A's company with 12 users and 30 team VMRs, split into parts of at most 10 rooms:
    five parts of 8 (the last of 10), the users running into the team VMRs."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HANDOUT_PART_ROWS = 30  # a room counts as three rows
    company = personas.company
    add_licence(company, LicenceKind.ENTERPRISE_USER, USERS)
    add_licence(company, LicenceKind.ROOM, ROOMS)
    for i in range(USERS):
        make.user(f"user-{i:03}", email=f"u{i}@x.example", full_name=f"User {i:03}")
    make.team_vmrs(ROOMS, prefix="room")
    return company


def addresses(text: str) -> list[str]:
    return ADDRESS.findall(text)


def export_pdf(export: HandoutExport) -> bytes:
    export.refresh_from_db()
    assert (export.status, export.error) == ("done", ""), export.error
    with export.file.open("rb") as f:
        return f.read()


def start(personas, company, sections=("users", "team_vmrs", "dial_in")) -> HandoutExport:
    return handouts.handout_export_start(
        actor=personas.read_only,
        company=company,
        fmt="pdf",
        options=handouts.HandoutOptions.from_dict(
            {"sections": list(sections), "not_active": "mark"}
        ),
    )


def test_the_plan_keeps_every_row_in_order_in_parts_of_even_weight():
    sections = [
        ("endpoints", list(range(1, 8))),
        ("qr_codes", [2, 5]),
        ("users", list(range(10, 31))),
        ("team_vmrs", []),
        ("dial_in", []),
    ]
    plan = plan_parts(sections, 10)
    assert len(plan) == 8  # 7 endpoints + 2 QR cards and 21 users at three rows each = 76 rows
    flat = [(s["section"], pk) for part in plan for s in part for pk in s["ids"]]
    assert flat == [(section, pk) for section, ids in sections for pk in ids], "order kept"
    weights = [
        sum(len(s["ids"]) * (1 if s["section"] == "endpoints" else 3) for s in p) for p in plan
    ]
    assert all(w <= 10 for w in weights[:-1]) and max(weights) - min(weights) <= 3, weights
    for part in plan:
        names = [s["section"] for s in part]
        assert len(names) == len(set(names)), "a section once in a part"
    starts = [(s["section"], s["start"]) for part in plan for s in part]
    for section, _ in sections:
        flags = [start for name, start in starts if name == section]
        assert flags[0] is True and not any(flags[1:]), f"{section} starts once"
    assert [s["section"] for s in plan[-1]][-2:] == ["team_vmrs", "dial_in"], "empty sections kept"
    assert plan_parts(sections, 100) == [
        [{"section": s, "ids": ids, "start": True} for s, ids in sections]
    ], "one part when it all fits: rendered whole"


def test_a_large_pdf_rendered_in_parts_reads_as_the_whole_one(
    big, personas, django_capture_on_commit_callbacks
):
    whole = pdf_text(
        handouts.handout_render_pdf(
            company=big, sections=["users", "team_vmrs", "dial_in"], not_active="mark"
        )
    )
    with ready_events() as ready, django_capture_on_commit_callbacks(execute=True):
        export = start(personas, big)
    pdf = export_pdf(export)
    assert (export.parts_total, export.parts_done) == (5, 5)
    text = pdf_text(pdf)
    assert addresses(text) == addresses(whole), "every row once, in the same order"
    assert len(addresses(text)) == USERS + ROOMS

    pages = text.split("\f")
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"Page {number} of {len(pages)}\s*$", page), page[-200:]
        assert "Partner A · Acme A" in page, "the header on every page"
    assert text.count("How to join video meetings") == 1, "the title once, at the start"
    assert text.count("Questions? Partner A") == 1 and "Questions?" in pages[-1]
    # Five parts: the users over the first two, the team VMRs from the second to the fifth.
    assert text.count("Users (continued)") == 1 and text.count("Team VMRs (continued)") == 3
    for page in pages:
        if addresses(page):
            assert re.search(r"Name\s+(Video address|Address)", page), "the table's header"
    outline = PdfReader(io.BytesIO(pdf)).outline
    assert repr_outline(outline) == ["Acme A", ["Users", "Team VMRs", "PSTN dial-in numbers"]]

    assert not HandoutPart.objects.exists(), "the parts are deleted once merged"
    assert not list((big_media(export) / "handouts" / "parts").glob("*")), "with their files"
    assert ready == [str(export.public_id)], "handout.ready once"


def repr_outline(items):  # type: ignore[no-untyped-def]
    return [repr_outline(i) if isinstance(i, list) else i.title for i in items]


def big_media(export: HandoutExport):  # type: ignore[no-untyped-def]
    from django.conf import settings

    return settings.MEDIA_ROOT


@contextmanager
def ready_events():  # type: ignore[no-untyped-def]
    """The ids of the exports a handout.ready event was emitted for (webhooks listen there)."""
    seen: list[str] = []

    def handler(emitted) -> None:  # type: ignore[no-untyped-def]
        seen.extend(e.data["id"] for e in emitted if e.type == "handout.ready")

    events.events_handler_register(handler)
    try:
        yield seen
    finally:
        events._handlers.remove(handler)


def test_small_handouts_and_html_are_rendered_whole(
    big, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        small = start(personas, big, sections=("users",))  # 12 rows: two parts
        html = handouts.handout_export_start(
            actor=personas.read_only, company=big, fmt="html", options=handouts.HandoutOptions()
        )
    assert export_pdf(small) and small.parts_total == 2
    html.refresh_from_db()
    assert (html.status, html.parts_total) == ("done", 0), "HTML is fast: one render"


def test_in_parts_only_shared_endpoints_get_a_qr_card(
    big, personas, make, django_capture_on_commit_callbacks
):
    add_licence(big, LicenceKind.ROOM, 2)
    add_licence(big, LicenceKind.ENTERPRISE_USER, 1)  # the Personal endpoint's owner
    make.endpoint("boardroom-1", display_name="Boardroom")
    make.personal(make.endpoint("desk-1", display_name="Desk"))
    sections = ("endpoints", "qr_codes", "users", "team_vmrs", "qr_codes")  # a repeat, ignored
    with django_capture_on_commit_callbacks(execute=True):
        export = start(personas, big, sections=sections)
    text = pdf_text(export_pdf(export))
    assert export.parts_total > 1
    assert text.count("QR codes of shared endpoints") == 1
    cards = text.split("QR codes of shared endpoints")[1].split("Users")[0]
    assert "boardroom-1@" in cards and "desk-1@" not in cards, "the shared endpoint's card only"
    assert not ADDRESS.search(cards), "no card for a user or a team VMR"


def test_the_progress_counts_the_parts_on_the_page_and_in_the_api(
    big,
    personas,
    login,
    django_capture_on_commit_callbacks,
    api,  # noqa: F811
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        export = start(personas, big)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        queued_parts = handouts.handout_export_run(export_id=export.pk)
    assert queued_parts.parts_total == 5 and len(queued) == 5, "a task per part"
    first = HandoutPart.objects.get(export=export, index=0)
    handouts.handout_part_run(part_id=first.pk)

    client = login(personas.read_only)
    detail = reverse("handouts:export_detail", args=[big.public_id, export.public_id])
    fragment = client.get(detail, headers=HX).content.decode()
    assert 'value="1" max="5"' in fragment and "1 of 5 sections rendered" in fragment
    assert 'hx-trigger="every 2s"' in fragment, "still polling"
    status = api.get(f"handout-exports/{export.public_id}")
    assert (status.json()["parts_done"], status.json()["parts_total"]) == (1, 5)

    with django_capture_on_commit_callbacks(execute=True):
        for part in HandoutPart.objects.filter(export=export, index__gt=0):
            handouts.handout_part_run(part_id=part.pk)
    assert b"Download PDF" in client.get(detail, headers=HX).content


def test_a_part_whose_worker_died_is_rendered_again_by_the_recovery_job(
    big, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        export = start(personas, big)
        handouts.handout_export_run(export_id=export.pk)
    parts = list(HandoutPart.objects.filter(export=export))
    # Three parts rendered; the fourth's worker was killed mid-render (the part stays
    # "running"); the fifth's message was lost with it.
    with django_capture_on_commit_callbacks(execute=False) as merge:
        for part in parts[:3]:
            handouts.handout_part_run(part_id=part.pk)
    assert not merge, "no merge before every part is rendered"
    HandoutPart.objects.filter(pk=parts[3].pk).update(status="running", attempts=1)

    assert handouts.handout_exports_recover() == 0, "the parts stamped it: maybe alive"
    with after_stale(EXPORT_STALE_AFTER), django_capture_on_commit_callbacks(execute=True):
        assert handouts.handout_exports_recover() == 1
    pdf = export_pdf(export)
    assert len(addresses(pdf_text(pdf))) == USERS + ROOMS
    assert handouts.handout_part_run(part_id=parts[3].pk) is None, "a late redelivery: gone"


def test_a_part_that_keeps_killing_its_worker_fails_the_export(
    big, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        export = start(personas, big)
        handouts.handout_export_run(export_id=export.pk)
    part = HandoutPart.objects.get(export=export, index=2)
    HandoutPart.objects.filter(pk=part.pk).update(attempts=handouts.MAX_EXPORT_ATTEMPTS)
    handouts.handout_part_run(part_id=part.pk)
    export.refresh_from_db()
    assert (export.status, export.error) == ("failed", handouts.GAVE_UP_ERROR)
    assert not HandoutPart.objects.exists()
    other = HandoutPart(pk=part.pk + 1)
    assert handouts.handout_part_run(part_id=other.pk) is None


def test_a_part_file_lost_before_the_merge_fails_the_export_with_a_reason(
    big, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        export = start(personas, big)
        handouts.handout_export_run(export_id=export.pk)
        for part in HandoutPart.objects.filter(export=export):
            handouts.handout_part_run(part_id=part.pk)
    HandoutPart.objects.filter(export=export, index=1).delete()  # its row and so its file
    handouts.handout_export_run(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "failed" and "missing" in export.error
    assert not export.file
