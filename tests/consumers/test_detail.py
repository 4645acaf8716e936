"""A consumer's page (and a calling domain's history): addresses, status, seat, cost centre and
tag, a pending invitation's next re-send and deletion date, and the timeline from the audit
log, bounded and in a constant number of queries."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone

from consumers import services
from consumers.models import Consumer, Invitation
from consumers.seats import release_trials
from consumers.services import invitations
from domains.services.calling_domains import calling_domain_add
from licensing.models import LicenceKind
from portal.activity import TIMELINE_LENGTH
from portal.models import AuditEvent
from tests.conftest import T0, add_licence


def detail_url(consumer: Consumer) -> str:
    return reverse(
        "consumers:consumer_detail", args=[consumer.company.public_id, consumer.public_id]
    )


def text_of(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def invited(clock, make, closed_company, django_capture_on_commit_callbacks) -> Consumer:
    """A user invited at T0 into a company with seats and no evaluation (not a trial)."""
    add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 5)
    with django_capture_on_commit_callbacks(execute=True):
        user = make.user(
            "invitee.person", company=closed_company, email="ip@x.example", full_name="I P"
        )
    return services.consumer_update(
        actor=make.personas.regular, consumer=user, cost_centre="CC-42", description_tag="Sales"
    )


def test_a_pending_users_page_shows_its_details_and_invitation_schedule(invited, personas, login):
    response = login(personas.read_only).get(detail_url(invited))
    assert response.status_code == 200
    page = text_of(response)
    invitation = Invitation.objects.get(consumer=invited)
    for expected in (
        "invitee.person@acme-a.onpexip.com",
        "invitee.person.vmr@acme-a.onpexip.com",
        "Uses a licence seat (Enterprise)",
        "CC-42",
        "Sales",
        "ip@x.example",
    ):
        assert expected in page
    schedule = response.context["schedule"]
    # The rule functions' dates, as the page prints them: day 10 and day 60 from T0.
    assert schedule.next_resend_at == invitation.next_resend_at() == T0 + timedelta(days=10)
    assert schedule.purge_at == invitation.purge_at() == T0 + timedelta(days=60)
    assert date_filter(timezone.localtime(schedule.next_resend_at)) in page
    assert date_filter(timezone.localtime(schedule.purge_at)) in page
    assert "Overdue" not in page


def test_an_invitation_the_job_has_not_resent_yet_is_flagged_overdue(
    invited, clock, personas, login
):
    clock.move_to(T0 + timedelta(days=10, hours=1))
    client = login(personas.read_only)
    page = text_of(client.get(detail_url(invited)))
    assert "Overdue" in page
    invitations.invitation_reminders_send()
    page = text_of(client.get(detail_url(invited)))
    assert "Overdue" not in page
    # Now the day 30 re-send is next.
    assert date_filter(timezone.localtime(T0 + timedelta(days=30))) in page


def test_the_timeline_tells_the_whole_lifecycle_in_sentences(
    invited, clock, personas, login, django_capture_on_commit_callbacks
):
    clock.move_to(T0 + timedelta(days=10))
    invitations.invitation_reminders_send()
    clock.move_to(T0 + timedelta(days=30))
    invitations.invitation_reminders_send()
    invitation = Invitation.objects.get(consumer=invited)
    token = invitations.tokens.token_for(invitation.token_nonce)
    invitations.invitation_accept(token=token)
    services.consumer_deactivate(actor=personas.manager, consumer=invited)
    services.consumer_activate(actor=personas.regular, consumer=invited)
    response = login(personas.read_only).get(detail_url(invited))
    sentences = [str(sentence) for _event, sentence in response.context["timeline"].rows]
    address = "invitee.person@acme-a.onpexip.com"
    assert sentences == [
        f"regular@a.example reactivated user {address}",
        f"manager@a.example deactivated user {address}",
        f"The invitee accepted the invitation to {address}",
        f"The portal re-sent the invitation to {address} (automatic reminder, day 30)",
        f"The portal re-sent the invitation to {address} (automatic reminder, day 10)",
        f"regular@a.example edited user {address} (cost centre, tag)",
        f"regular@a.example invited user {address}",
    ]
    page = text_of(response)
    assert f'manager@a.example</strong> deactivated user <a href="{detail_url(invited)}">' in page
    assert "Accepted on" in page and "Next re-send" not in page


def test_a_job_deactivation_is_on_each_consumers_timeline(personas, make, login):
    trial = make.team_vmr("trial-room")
    assert trial.is_trial
    company = personas.company
    company.evaluation_ends_on = timezone.localdate() - timedelta(days=1)
    company.save()
    release_trials(today=timezone.localdate())
    response = login(personas.regular).get(detail_url(trial))
    latest = str(response.context["timeline"].rows[0][1])
    assert (
        latest
        == "The portal deactivated team VMR trial-room@acme-a.onpexip.com (the evaluation ended)"
    )
    assert "No seat while inactive" in text_of(response)


def test_the_timeline_is_bounded_and_the_page_runs_a_constant_number_of_queries(
    personas, make, login, django_assert_max_num_queries
):
    room = make.team_vmr("busy-room")
    client = login(personas.regular)
    client.get(detail_url(room))
    with django_assert_max_num_queries(12) as few:
        client.get(detail_url(room))
    for i in range(TIMELINE_LENGTH + 5):
        services.consumer_update(actor=personas.regular, consumer=room, description_tag=f"t{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(detail_url(room))
    timeline = response.context["timeline"]
    assert len(timeline.rows) == TIMELINE_LENGTH and timeline.more
    assert "See the whole history in the activity log" in text_of(response)
    # "See more" is the Activity tab filtered to this consumer: every event of it.
    more = client.get(timeline.url)
    assert more.context["page"].paginator.count == TIMELINE_LENGTH + 6


def test_another_partners_consumer_or_a_missing_one_is_a_404(personas, make, foreign_room, login):
    client = login(personas.manager)
    assert client.get(detail_url(foreign_room)).status_code == 404
    own = make.team_vmr("own-room")
    # Partner A's company with partner B's consumer id, and a made-up id.
    crossed = reverse(
        "consumers:consumer_detail", args=[own.company.public_id, foreign_room.public_id]
    )
    assert client.get(crossed).status_code == 404
    missing = reverse("consumers:consumer_detail", args=[own.company.public_id, uuid.uuid4()])
    assert client.get(missing).status_code == 404
    assert (
        client.get(f"/companies/{own.company.public_id}/consumers/not-a-uuid/").status_code == 404
    )
    assert client.get(detail_url(own)).status_code == 200


def test_an_endpoints_page_is_its_settings_page_with_details_and_history(personas, endpoint, login):
    client = login(personas.regular)
    response = client.get(detail_url(endpoint))
    settings_page = reverse(
        "consumers:endpoint_detail", args=[endpoint.company.public_id, endpoint.public_id]
    )
    assert response.status_code == 302 and response["Location"] == settings_page
    page = client.get(settings_page)
    assert "Trial: no licence seat" in text_of(page)
    assert str(page.context["timeline"].rows[0][1]) == (
        "regular@a.example added endpoint lobby-screen@acme-a.onpexip.com as a trial"
    )


def test_list_rows_link_to_the_detail_pages(personas, make, endpoint, login):
    user, room = make.user("linked.user"), make.team_vmr("linked-room")
    client = login(personas.read_only)
    company = personas.company.public_id
    users = client.get(reverse("consumers:user_list", args=[company])).content.decode()
    rooms = client.get(reverse("consumers:team_vmr_list", args=[company])).content.decode()
    endpoints = client.get(reverse("consumers:endpoint_list", args=[company])).content.decode()
    assert f'href="{detail_url(user)}"' in users
    assert f'href="{detail_url(room)}"' in rooms
    endpoint_page = reverse("consumers:endpoint_detail", args=[company, endpoint.public_id])
    assert f'href="{endpoint_page}"' in endpoints


def test_a_calling_domains_page_shows_its_history(personas, login, dns_server):
    domain = calling_domain_add(
        actor=personas.regular, company=personas.company, name="acme.example"
    )
    url = reverse("domains:domain_detail", args=[personas.company.public_id, domain.public_id])
    response = login(personas.read_only).get(url)
    sentences = [str(s) for _e, s in response.context["timeline"].rows]
    assert sentences == ["regular@a.example added calling domain acme.example"]
    listing = login(personas.read_only).get(
        reverse("domains:domain_list", args=[personas.company.public_id])
    )
    assert f'href="{url}"' in listing.content.decode()


def test_events_of_other_objects_stay_off_a_timeline(personas, make, login):
    first, second = make.team_vmr("first-room"), make.team_vmr("second-room")
    services.consumer_update(actor=personas.regular, consumer=second, description_tag="x")
    rows = login(personas.regular).get(detail_url(first)).context["timeline"].rows
    assert [event.object_id for event, _ in rows] == [str(first.public_id)]
    assert AuditEvent.objects.filter(object_id=str(second.public_id)).count() == 2
