from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from consumers.models import Consumer, ConsumerStatus, InactiveReason
from licensing import tasks
from licensing.expiry import licences_expiry_run
from licensing.models import LicenceKind
from tests.conftest import T0, add_licence
from tests.mailing import deliver

TODAY = T0.date()


def run_job(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return tasks.licences_expiry_run.apply().get()


def test_trial_consumers_become_inactive_when_evaluation_closes(
    clock, personas, make, django_capture_on_commit_callbacks
):
    company = personas.company
    company.evaluation_ends_on = TODAY + timedelta(days=2)
    company.save()
    trial = [make.team_vmr(f"trial-{i:03}") for i in range(3)]
    add_licence(company, LicenceKind.ROOM, 1, starts_on=TODAY, ends_on=TODAY + timedelta(days=300))
    paid = make.endpoint("paid-ep")
    assert all(c.is_trial for c in trial) and not paid.is_trial

    clock.move_to(TODAY + timedelta(days=3))
    mail.outbox.clear()
    result = run_job(django_capture_on_commit_callbacks)
    assert list(result["trial_deactivated"].values()) == [3]
    statuses = dict(Consumer.objects.values_list("alias", "status"))
    assert statuses == {
        "trial-000": "inactive",
        "trial-001": "inactive",
        "trial-002": "inactive",
        "paid-ep": "active",
    }
    assert set(
        Consumer.objects.filter(is_trial=True).values_list("inactive_reason", flat=True)
    ) == {InactiveReason.TRIAL_ENDED}
    # One event, one email (issue 17): "Trial ended", counting the trials that went inactive.
    [ended] = mail.outbox
    assert ended.subject == "Acme A: the evaluation has ended"
    assert ended.to == ["contact@acme.example"] and ended.cc == ["help@a.example"]
    assert "3 trial users, rooms or endpoints are now inactive" in ended.body

    before = list(Consumer.objects.order_by("id").values_list("status", "updated_at"))
    sent = len(mail.outbox)
    second = run_job(django_capture_on_commit_callbacks)
    assert second["trial_deactivated"] == {} and second["emails"] == 0
    assert list(Consumer.objects.order_by("id").values_list("status", "updated_at")) == before
    assert len(mail.outbox) == sent


def test_newest_consumers_beyond_capacity_become_inactive_when_a_licence_ends(
    clock, make, closed_company, django_capture_on_commit_callbacks
):
    company = closed_company
    add_licence(
        company,
        LicenceKind.ENTERPRISE_USER,
        3,
        starts_on=TODAY - timedelta(days=100),
        ends_on=TODAY + timedelta(days=5),
    )
    add_licence(
        company,
        LicenceKind.ENTERPRISE_USER,
        2,
        starts_on=TODAY - timedelta(days=100),
        ends_on=TODAY + timedelta(days=365),
    )
    for i in range(5):
        clock.shift(timedelta(minutes=1))
        make.team_vmr(f"room-{i:03}", company=company)
    assert run_job(django_capture_on_commit_callbacks)["over_capacity_deactivated"] == {}

    clock.move_to(TODAY + timedelta(days=6))
    result = run_job(django_capture_on_commit_callbacks)
    assert list(result["over_capacity_deactivated"].values()) == [3]
    inactive = set(
        Consumer.objects.filter(status=ConsumerStatus.INACTIVE).values_list("alias", flat=True)
    )
    assert inactive == {"room-002", "room-003", "room-004"}, "the newest go first"
    assert any("3 consumers deactivated" in m.subject for m in mail.outbox)
    again = run_job(django_capture_on_commit_callbacks)
    assert again["over_capacity_deactivated"] == {}
    assert Consumer.objects.filter(status=ConsumerStatus.INACTIVE).count() == 3


def test_enterprise_wide_is_never_over_capacity(
    clock, make, closed_company, django_capture_on_commit_callbacks
):
    add_licence(closed_company, LicenceKind.ENTERPRISE_WIDE, None)
    make.team_vmrs(4, prefix="wide", company=closed_company)
    assert run_job(django_capture_on_commit_callbacks)["over_capacity_deactivated"] == {}
    assert not Consumer.objects.filter(status=ConsumerStatus.INACTIVE).exists()


@pytest.mark.parametrize(
    ("days_before_end", "expected"),
    [
        (24, None),
        (23, "ends in 23 days"),
        (8, "ends in 8 days"),
        (7, "ends in 7 days"),
        (1, "ends in 1 day"),
        (0, "ends today"),
        (-1, "has ended"),
        (-8, None),
    ],
)
def test_trial_emails_on_their_days(
    clock, personas, days_before_end, expected, django_capture_on_commit_callbacks
):
    company = personas.company
    company.evaluation_ends_on = TODAY + timedelta(days=days_before_end)
    company.save()
    mail.outbox.clear()
    licences_expiry_run(today=TODAY)
    deliver()
    subjects = [m.subject for m in mail.outbox if "evaluation" in m.subject]
    if expected is None:
        assert subjects == []
    else:
        assert len(subjects) == 1 and expected in subjects[0]
    licences_expiry_run(today=TODAY)
    deliver()
    assert len([m for m in mail.outbox if "evaluation" in m.subject]) == len(subjects)


def test_an_extended_evaluation_gets_its_own_reminders(clock, personas):
    company = personas.company
    company.evaluation_ends_on = TODAY + timedelta(days=20)
    company.save()
    licences_expiry_run(today=TODAY)
    deliver()
    assert len(mail.outbox) == 1
    company.evaluation_ends_on = TODAY + timedelta(days=15)  # ops changed it
    company.save()
    licences_expiry_run(today=TODAY)
    deliver()
    assert len(mail.outbox) == 2


def test_a_mail_server_down_delays_a_trial_email_but_never_doubles_it(clock, personas, smtp_server):
    """The reminder is claimed and written to the outbox once; the outbox retries the send."""
    company = personas.company
    company.evaluation_ends_on = TODAY + timedelta(days=7)
    company.save()
    smtp_server.refuse = True
    assert licences_expiry_run(today=TODAY)["emails"] == 1
    assert deliver() == {"sent": 0, "retry": 1, "failed": 0}
    company.refresh_from_db()
    assert company.trial_reminder_7_for == company.evaluation_ends_on
    assert licences_expiry_run(today=TODAY)["emails"] == 0, "not written twice"
    smtp_server.refuse = False
    clock.shift(timedelta(minutes=1))  # the first retry is due
    assert deliver()["sent"] == 1
    (message,) = smtp_server.messages
    assert "ends in 7 days" in message["Subject"]
