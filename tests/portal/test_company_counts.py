"""The company list's tab counts come from the cache between changes (portal.counts_cache):
every change that moves a company between tabs must show on the next view."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from licensing import services as licensing
from licensing.models import LicenceKind, License
from portal import services
from portal.counts_cache import company_counts
from portal.models import Company
from tests.conftest import add_company, add_licence


def tabs(client, **params) -> dict[str, int]:
    counts = client.get(reverse("portal:company_list"), params).context["counts"]
    return {k: counts[k] for k in ("all", "paid", "trial_open", "trial_closed")}


def moved(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in before if after[k] != before[k]}


def test_tab_counts_follow_every_change_a_partner_or_ops_makes(personas, login):
    ops, client = personas.ops, login(personas.regular)
    start = tabs(client)

    client.post(
        reverse("portal:company_create"), {"name": "Newco", "contact_email": "a@newco.example"}
    )
    after_create = tabs(client)
    assert moved(start, after_create) == {"all": 1, "trial_open": 1}  # it starts in trial mode

    company = Company.objects.get(name="Newco")
    services.company_set_evaluation(actor=ops, company=company, ends_on=None)
    after_closing = tabs(client)
    assert moved(after_create, after_closing) == {"trial_open": -1, "trial_closed": 1}
    services.company_set_evaluation(
        actor=ops, company=company, ends_on=timezone.localdate() + timedelta(days=30)
    )
    after_evaluation = tabs(client)
    assert moved(after_closing, after_evaluation) == {"trial_open": 1, "trial_closed": -1}

    today = timezone.localdate()
    licence = licensing.licence_save(
        actor=ops,
        licence=License(
            company=company,
            kind=LicenceKind.ENTERPRISE_USER,
            quantity=5,
            starts_on=today,
            ends_on=today + timedelta(days=365),
        ),
    )
    after_licence = tabs(client)
    assert moved(after_evaluation, after_licence) == {"paid": 1, "trial_open": -1}

    licence.delete()
    assert tabs(client) == after_evaluation

    client.post(
        reverse("portal:company_delete", args=[company.public_id]),
        {"confirm_name": company.name},
    )
    assert tabs(client) == start


def test_a_company_or_licence_moved_to_another_partner_changes_both_lists(personas, login):
    """As ops might in Django admin: both partners' counts change."""
    mine, theirs = personas.company, personas.other_company
    client = login(personas.regular)
    other_client = Client()
    other_client.force_login(personas.other_manager)
    mine_before, theirs_before = tabs(client), tabs(other_client)

    mine.partner = personas.other_partner
    mine.save()
    assert tabs(client)["all"] == mine_before["all"] - 1
    assert tabs(other_client)["all"] == theirs_before["all"] + 1
    mine.partner = personas.partner
    mine.save()
    assert (tabs(client), tabs(other_client)) == (mine_before, theirs_before)

    licence = add_licence(theirs)
    assert tabs(other_client)["paid"] == theirs_before["paid"] + 1
    licence.company = mine
    licence.save()
    assert tabs(other_client)["paid"] == theirs_before["paid"]
    assert tabs(client)["paid"] == mine_before["paid"] + 1


def test_tab_counts_change_at_midnight_with_nothing_saved(clock, personas, login):
    """A minute before midnight an evaluation ending today is open; a minute after, closed."""
    today = timezone.localdate()
    add_company(personas.partner, "Ends today", evaluation_ends_on=today)
    client = login(personas.regular)
    clock.move_to(timezone.make_aware(datetime.combine(today, time(23, 59))))
    before = tabs(client)
    clock.shift(timedelta(minutes=2))
    assert moved(before, tabs(client)) == {"trial_open": -1, "trial_closed": 1}


def test_the_list_counts_once_per_change_and_a_search_always_counts(personas, login):
    client = login(personas.regular)
    url = reverse("portal:company_list")

    def counted(**params) -> bool:
        with CaptureQueriesContext(connection) as queries:
            client.get(url, params)
        return any("GROUP BY" in q["sql"] for q in queries.captured_queries)

    assert counted()
    assert not counted(), "the second view reads the counts from the cache"
    assert not counted(state="paid", sort="-name", page=1), "tabs, sort and pages share them"
    assert counted(q="acme") and counted(q="acme"), "a search counts its own"
    add_licence(Company.objects.filter(partner=personas.partner).first())
    assert counted()


def test_counts_stored_while_a_change_commits_are_dropped_when_it_commits(
    personas, django_capture_on_commit_callbacks
):
    partner, today = personas.partner, timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        add_company(partner, "In flight")
        # A view that counted before the change was visible to it stores what it saw ...
        company_counts(partner.public_id, today, lambda: {"all": -1})
    # ... under a token that the commit dropped.
    assert company_counts(partner.public_id, today, lambda: {"all": 1}) == {"all": 1}


def test_counts_stored_late_by_a_slow_view_are_not_served(personas):
    """A view that counted before a change but stores after a newer view: its counts carry the
    token the change dropped, so the next view counts again."""
    partner, today = personas.partner, timezone.localdate()

    def slow_count() -> dict[str, int]:
        add_company(partner, "Meanwhile")
        assert company_counts(partner.public_id, today, lambda: {"all": 2}) == {"all": 2}
        return {"all": 1}  # what the slow view saw before the change

    assert company_counts(partner.public_id, today, slow_count) == {"all": 1}
    assert company_counts(partner.public_id, today, lambda: {"all": 2}) == {"all": 2}
