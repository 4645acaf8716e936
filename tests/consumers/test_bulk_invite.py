from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consumers.models import Consumer, Invitation
from licensing.models import LicenceKind
from tests.conftest import add_licence


@pytest.fixture
def company(personas):
    c = personas.company
    c.evaluation_ends_on = None
    c.save()
    add_licence(c, LicenceKind.ENTERPRISE_USER, 5)
    return c


def url(company):
    return reverse("consumers:user_bulk_invite", args=[company.public_id])


GOOD = (
    "full name,email,alias,domain\nAnn One,ann@x.example,ann.one,\nBen Two,ben@x.example,Ben.Two\n"
)


def test_preview_shows_seats_before_and_after_then_creates_all(
    personas, company, login, django_capture_on_commit_callbacks
):
    client = login(personas.regular)
    preview = client.post(url(company), {"file": SimpleUploadedFile("u.csv", GOOD.encode())})
    assert b"2 users are ready to invite" in preview.content
    assert b"5 now, 3 after" in preview.content
    assert b"ben.two.vmr@acme-a.onpexip.com" in preview.content
    assert not Consumer.objects.exists(), "the preview writes nothing"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url(company), {"text": GOOD, "confirm": "1"}, follow=True)
    assert b"2 users invited." in done.content
    assert set(Consumer.objects.values_list("alias", flat=True)) == {"ann.one", "ben.two"}
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@x.example", "ben@x.example"]


def test_any_bad_row_creates_nothing_and_lists_every_failing_row(personas, company, login):
    from consumers import services

    services.team_vmr_create(
        actor=personas.regular, company=company, alias="taken.alias", display_name="T"
    )
    text = (
        "Good Person,good@x.example,good.person\n"
        "Bad Email,not-an-email,bad.email\n"
        "Short,short@x.example,abc\n"
        "Taken,taken@x.example,taken.alias\n"
        "Dup,dup@x.example,good.person\n"
        "Too,many,columns,here,extra\n"
        "Pending,p@x.example,pending.one,pending.example\n"
    )
    from domains.models import CallingDomain

    CallingDomain.objects.create(company=company, name="pending.example")
    client = login(personas.regular)
    response = client.post(url(company), {"text": text, "confirm": "1"})
    assert b"Nothing was created" in response.content
    plan = response.context["plan"]
    failing = {row.line: " ".join(row.errors) for row in plan.failing_rows}
    assert set(failing) == {2, 3, 4, 5, 6, 7}
    assert "not a valid email" in failing[2]
    assert "at least 6 characters" in failing[3]
    assert "already taken" in failing[4]
    assert "also on line 1" in failing[5]
    assert "expected 3 or 4 columns" in failing[6]
    assert "not verified" in failing[7]
    assert Consumer.objects.count() == 1 and not Invitation.objects.exists()


def test_more_rows_than_seats_without_evaluation_is_refused(personas, company, login):
    text = "".join(f"P {i},p{i}@x.example,person-{i:03}\n" for i in range(6))
    response = login(personas.regular).post(url(company), {"text": text, "confirm": "1"})
    assert b"need 6 Enterprise User seats but only 5 are free" in response.content
    assert not Consumer.objects.exists()


def test_with_open_evaluation_the_rest_become_trial_users(personas, company, login):
    from datetime import timedelta

    from django.utils import timezone

    company.evaluation_ends_on = timezone.localdate() + timedelta(days=10)
    company.save()
    text = "".join(f"P {i},p{i}@x.example,person-{i:03}\n" for i in range(7))
    client = login(personas.regular)
    preview = client.post(url(company), {"text": text})
    assert b"2 will be trial users" in preview.content
    client.post(url(company), {"text": text, "confirm": "1"})
    assert Consumer.objects.filter(is_trial=True).count() == 2
    assert Consumer.objects.filter(is_trial=False).count() == 5


def test_read_only_cannot_import(personas, company, login):
    response = login(personas.read_only).post(url(company), {"text": GOOD, "confirm": "1"})
    assert response.status_code == 403
    assert not Consumer.objects.exists()
