from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consumers.models import Consumer, Invitation
from domains.models import CallingDomain


def url(company):
    return reverse("consumers:user_bulk_invite", args=[company.public_id])


GOOD = (
    "full name,email,alias,domain\nAnn One,ann@x.example,ann.one,\nBen Two,ben@x.example,Ben.Two\n"
)


def test_preview_shows_seats_before_and_after_then_creates_all(
    personas, paid_company, login, django_capture_on_commit_callbacks
):
    client = login(personas.regular)
    preview = client.post(url(paid_company), {"file": SimpleUploadedFile("u.csv", GOOD.encode())})
    assert b"2 users are ready to invite" in preview.content
    assert b"3 now, 1 after" in preview.content, "3 Enterprise User seats"
    assert b"ben.two.vmr@acme-a.onpexip.com" in preview.content
    assert not Consumer.objects.exists(), "the preview writes nothing"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url(paid_company), {"text": GOOD, "confirm": "1"}, follow=True)
    assert b"2 users invited." in done.content
    assert set(Consumer.objects.values_list("alias", flat=True)) == {"ann.one", "ben.two"}
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@x.example", "ben@x.example"]


def test_any_bad_row_creates_nothing_and_lists_every_failing_row(
    personas, make, paid_company, login
):
    make.team_vmr("taken.alias", company=paid_company)
    text = (
        "Good Person,good@x.example,good.person\n"
        "Bad Email,not-an-email,bad.email\n"
        "Short,short@x.example,abc\n"
        "Taken,taken@x.example,taken.alias\n"
        "Dup,dup@x.example,good.person\n"
        "Too,many,columns,here,extra\n"
        "Pending,p@x.example,pending.one,pending.example\n"
    )
    CallingDomain.objects.create(company=paid_company, name="pending.example")
    client = login(personas.regular)
    response = client.post(url(paid_company), {"text": text, "confirm": "1"})
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


def test_more_rows_than_seats_without_evaluation_is_refused(personas, paid_company, login):
    text = "".join(f"P {i},p{i}@x.example,person-{i:03}\n" for i in range(6))
    response = login(personas.regular).post(url(paid_company), {"text": text, "confirm": "1"})
    assert b"need 6 Enterprise User seats but only 3 are free" in response.content
    assert not Consumer.objects.exists()


def test_with_open_evaluation_the_rest_become_trial_users(personas, paid_company, login):
    paid_company.evaluation_ends_on = timezone.localdate() + timedelta(days=10)
    paid_company.save()
    text = "".join(f"P {i},p{i}@x.example,person-{i:03}\n" for i in range(5))
    client = login(personas.regular)
    preview = client.post(url(paid_company), {"text": text})
    assert b"2 will be trial users" in preview.content
    client.post(url(paid_company), {"text": text, "confirm": "1"})
    assert Consumer.objects.filter(is_trial=True).count() == 2
    assert Consumer.objects.filter(is_trial=False).count() == 3


def test_read_only_cannot_import(personas, paid_company, login):
    response = login(personas.read_only).post(url(paid_company), {"text": GOOD, "confirm": "1"})
    assert response.status_code == 403
    assert not Consumer.objects.exists()
