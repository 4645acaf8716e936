from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from licensing.models import License
from portal.models import Company, CompanyState, Partner, PartnerMembership, Role


def test_seed_demo_is_idempotent_and_covers_every_state_and_role(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = (
        Partner.objects.count(),
        Company.objects.count(),
        License.objects.count(),
        PartnerMembership.objects.count(),
    )
    call_command("seed_demo", stdout=StringIO())
    assert counts == (
        Partner.objects.count(),
        Company.objects.count(),
        License.objects.count(),
        PartnerMembership.objects.count(),
    )
    assert counts[0] == 2
    first = Partner.objects.get(name="Northwind Video")
    states = {c.state for c in Company.objects.filter(partner=first)}
    assert states == set(CompanyState.values)
    roles = set(PartnerMembership.objects.filter(partner=first).values_list("role", flat=True))
    assert roles == set(Role.values)
    assert "manager@northwind.example" in out.getvalue()


def test_seeded_manager_signs_in_and_sees_only_own_companies(db):
    from project.management.commands.seed_demo import DEMO_PASSWORD

    call_command("seed_demo", stdout=StringIO())
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": "manager@northwind.example", "password": DEMO_PASSWORD},
        follow=True,
    )
    assert b"Acme Paid Ltd" in response.content
    assert b"Hooli Paid" not in response.content


def test_runjobs_runs_the_schedule(db):
    from portal.celery import PERIODIC_JOBS, app

    out = StringIO()
    call_command("runjobs", stdout=out)
    for name, (task, _schedule) in PERIODIC_JOBS.items():
        assert task in app.tasks
        assert f"{name}: done" in out.getvalue()
    assert app.conf.beat_schedule.keys() == PERIODIC_JOBS.keys()
