"""The Activity tab: the audit log in sentences (portal.activity.describe), never a purged
invitee's personal data, filtered by action (human labels), days, a search and one object,
paginated, in a constant number of queries, and no 500 whatever the query string."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from consumers import services
from consumers.services import invitations
from domains.services.calling_domains import calling_domain_add
from licensing.models import LicenceKind
from portal.activity import ACTIONS, Subject, describe
from portal.models import AuditEvent
from tests.conftest import T0, add_licence

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def activity_url(company) -> str:
    return reverse("portal:company_activity", args=[company.public_id])


def sentences(response) -> list[str]:
    return [str(sentence) for _event, sentence in response.context["rows"]]


def visible_text(response) -> str:
    """The page as a reader sees it: no tags, so no link targets or form values."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def history(clock, personas, make, dns_server):
    """A few days of activity in partner A's company: a user invited at T0, a team VMR added
    and deleted on day 2, a calling domain added on day 5."""
    user = make.user("pat.example", email="pat@x.example", full_name="Pat Example")
    clock.move_to(T0 + timedelta(days=2))
    room = make.team_vmr("old-room", display_name="Old room")
    services.consumer_delete(actor=personas.manager, consumer=room)
    clock.move_to(T0 + timedelta(days=5))
    calling_domain_add(actor=personas.regular, company=personas.company, name="acme.example")
    return user


def test_the_log_reads_as_sentences_with_links_to_what_still_exists(history, personas, login):
    response = login(personas.read_only).get(activity_url(personas.company))
    assert response.status_code == 200
    assert sentences(response) == [
        "regular@a.example added calling domain acme.example",
        "manager@a.example deleted team VMR old-room@acme-a.onpexip.com",
        "regular@a.example added team VMR old-room@acme-a.onpexip.com as a trial",
        "regular@a.example invited user pat.example@acme-a.onpexip.com as a trial",
    ]
    page = response.content.decode()
    user_page = reverse(
        "consumers:consumer_detail", args=[personas.company.public_id, history.public_id]
    )
    assert f'<a href="{user_page}">pat.example@acme-a.onpexip.com</a>' in page
    # No raw codes, no (truncated) ids as text.
    text = visible_text(response)
    assert "user.invite" not in text and "team_vmr.delete" not in text
    assert not UUID.search(text) and "…" not in text.replace("Search who", "")


def test_a_purged_invitee_leaves_no_personal_data_in_the_log(
    clock, personas, make, closed_company, login
):
    add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 5)
    make.user("jane.doe", company=closed_company, email="jane@x.example", full_name="Jane Doe")
    clock.move_to(T0 + timedelta(days=10))
    invitations.invitation_reminders_send()
    clock.move_to(T0 + timedelta(days=61))
    assert invitations.invitations_purge() == 1
    client = login(personas.regular)
    response = client.get(activity_url(closed_company))
    assert sentences(response) == [
        "The portal deleted the unanswered invitation to a user of acme-a.onpexip.com"
        " (no answer in 60 days)",
        "The portal re-sent the invitation to a user of acme-a.onpexip.com"
        " (automatic reminder, day 10)",
        "regular@a.example invited a user of acme-a.onpexip.com",
    ]
    for personal in ("jane", "Jane", "Doe", "jane@x.example"):
        assert personal not in response.content.decode()
    # Neither the events nor a search can bring the invitee back.
    assert not AuditEvent.objects.filter(data__icontains="jane").exists()
    found = client.get(activity_url(closed_company), {"q": "jane"})
    assert found.status_code == 200 and sentences(found) == []


def test_the_action_filter_offers_human_labels_and_filters(history, personas, login):
    client = login(personas.regular)
    response = client.get(activity_url(personas.company), {"action": "team_vmr.delete"})
    assert sentences(response) == ["manager@a.example deleted team VMR old-room@acme-a.onpexip.com"]
    page = response.content.decode()
    assert '<option value="team_vmr.delete" selected>Team VMR deleted</option>' in page
    assert '<optgroup label="Users">' in page and ">User invited</option>" in page
    assert all(not label.startswith(code) for code, a in ACTIONS.items() for label in [a.label])


def test_the_date_range_filter_takes_whole_days(history, personas, login):
    client = login(personas.regular)
    url = activity_url(personas.company)
    day2 = (T0 + timedelta(days=2)).date().isoformat()
    only_day2 = client.get(url, {"from": day2, "to": day2})
    assert len(sentences(only_day2)) == 2 and "old-room" in sentences(only_day2)[0]
    since_day2 = client.get(url, {"from": day2})
    assert len(sentences(since_day2)) == 3
    until_day1 = client.get(url, {"to": (T0 + timedelta(days=1)).date().isoformat()})
    assert sentences(until_day1) == [
        "regular@a.example invited user pat.example@acme-a.onpexip.com as a trial"
    ]


def test_search_finds_who_and_what(history, personas, login):
    client = login(personas.regular)
    url = activity_url(personas.company)
    assert len(sentences(client.get(url, {"q": "manager@a"}))) == 1
    # A live consumer by address, a deleted team VMR by the address its events kept, a domain.
    assert len(sentences(client.get(url, {"q": "pat.example"}))) == 1
    assert len(sentences(client.get(url, {"q": "old-room"}))) == 2
    assert sentences(client.get(url, {"q": "acme.example"})) == [
        "regular@a.example added calling domain acme.example"
    ]
    assert sentences(client.get(url, {"q": "nothing-like-this"})) == []


def test_the_object_filter_shows_one_objects_history(history, personas, login):
    response = login(personas.regular).get(
        activity_url(personas.company), {"object": str(history.public_id)}
    )
    assert len(sentences(response)) == 1
    assert "Showing the history of one object" in response.content.decode()


def test_pages_and_query_counts_stay_constant(
    personas, make, login, django_assert_max_num_queries, settings
):
    settings.PAGE_SIZE = 10
    room = make.team_vmr("counted-room")
    make.user("counted.user")
    calling_domain_add(actor=personas.regular, company=personas.company, name="count.example")
    client = login(personas.regular)
    url = activity_url(personas.company)
    client.get(url)
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    for i in range(30):
        services.consumer_update(actor=personas.regular, consumer=room, description_tag=f"t{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = client.get(url)
    assert first.context["page"].paginator.count == 33
    # A search asks the consumers and the domains which names match: two queries more.
    with django_assert_max_num_queries(len(few.captured_queries) + 2):
        searched = client.get(url, {"q": "counted", "page": "2"})
    assert searched.context["page"].number == 2
    last = client.get(url, {"page": "4"})
    assert len(sentences(last)) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"action": "user.invite\x00"},
        {"action": "drop table"},
        {"from": "2026-13-45", "to": "not a day"},
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"object": "not-a-uuid"},
        {"object": "\x00"},
        {"q": "\x00abc"},
        {"q": "x" * 5000},
        {"page": "99999999999999999999"},
        {"page": "-1"},
        {"per_page": "abc"},
    ],
)
def test_a_bad_query_string_never_breaks_the_page(history, personas, login, params):
    assert login(personas.regular).get(activity_url(personas.company), params).status_code == 200


def test_another_partners_activity_is_a_404(personas, login):
    client = login(personas.other_manager)
    assert client.get(activity_url(personas.company)).status_code == 404
    assert client.get(activity_url(personas.other_company)).status_code == 200


def test_describe_names_what_the_event_alone_can_say(personas):
    def event(action: str, object_type: str = "consumer", **data) -> AuditEvent:
        return AuditEvent(
            company=personas.company,
            action=action,
            object_type=object_type,
            object_id="x",
            data=data,
        )

    assert str(describe(event("user.accept"))) == (
        "The invitee accepted the invitation to a user (since deleted)"
    )
    assert str(describe(event("endpoint.delete", address="e1@d.example"))) == (
        "The portal deleted endpoint e1@d.example"
    )
    assert str(describe(event("company.evaluation", "company", ends_on="2027-02-01"))) == (
        "The portal set the evaluation of Acme A to end on 2027-02-01"
    )
    assert str(
        describe(
            event(
                "licence.create",
                "license",
                kind="room",
                quantity=2,
                starts_on="2027-01-01",
                ends_on="2028-01-01",
            )
        )
    ) == ("The portal added a licence to Acme A (Room × 2, 2027-01-01 to 2028-01-01)")
    # An action the table does not know yet still reads, without its code.
    unknown = describe(event("team_vmr.frobnicate"), {("consumer", "x"): Subject("r@d", "/r/")})
    assert str(unknown) == "The portal frobnicate r@d" and unknown.url == "/r/"
