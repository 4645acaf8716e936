from __future__ import annotations

import pytest
from django.urls import reverse

from consumers import services
from consumers.models import Consumer, ConsumerKind, ConsumerStatus
from portal.display import day
from tests.conftest import add_company


def url(name, company, *args):
    return reverse(f"consumers:{name}", args=[company.public_id, *args])


def test_invite_form_says_which_seat_it_uses_and_creates_the_user(personas, paid_company, login):
    client = login(personas.regular)
    form = client.get(url("user_invite", paid_company))
    assert b"Uses 1 of 3 remaining Enterprise User seats" in form.content
    response = client.post(
        url("user_invite", paid_company),
        {
            "full_name": "Ann Example",
            "email": "ann@example.com",
            "alias": "Ann.Example",
            "domain": "acme-a.onpexip.com",
        },
        follow=True,
    )
    assert b"ann.example@acme-a.onpexip.com invited." in response.content
    user = Consumer.objects.get(kind=ConsumerKind.USER)
    assert user.status == ConsumerStatus.INVITED and not user.is_trial
    assert b"ann.example.vmr@acme-a.onpexip.com" in response.content


def test_trial_wording_when_evaluation_is_open(personas, login):
    client = login(personas.regular)
    form = client.get(url("team_vmr_add", personas.company))
    expected = f"Trial until {day(personas.company.evaluation_ends_on)}"
    assert expected.encode() in form.content
    client.post(
        url("team_vmr_add", personas.company),
        {"display_name": "Trial room", "alias": "trial-room", "domain": "acme-a.onpexip.com"},
    )
    assert Consumer.objects.get(alias="trial-room").is_trial


def test_rule_errors_show_on_the_field(personas, make, paid_company, login):
    client = login(personas.regular)
    response = client.post(
        url("team_vmr_add", paid_company),
        {"display_name": "X", "alias": "1bad", "domain": "acme-a.onpexip.com"},
    )
    assert response.status_code == 200
    assert "must start with a letter" in str(response.context["form"].errors["alias"])
    make.team_vmr("taken-room", company=paid_company)
    response = client.post(
        url("team_vmr_add", paid_company),
        {"display_name": "X", "alias": "Taken-Room", "domain": "acme-a.onpexip.com"},
    )
    assert "already taken" in str(response.context["form"].errors["alias"])


def test_no_seat_is_a_clear_error_and_disables_the_form(personas, make, paid_company, login):
    make.endpoint("only-endpoint", company=paid_company)
    client = login(personas.regular)
    form = client.get(url("endpoint_add", paid_company))
    assert b"all 1 Room seats are in use" in form.content
    assert b"disabled" in form.content
    response = client.post(
        url("endpoint_add", paid_company),
        {
            "display_name": "E2",
            "alias": "second-endpoint",
            "domain": "acme-a.onpexip.com",
            "usage_model": "shared",
        },
    )
    assert b"all 1 Room seats are in use" in response.content
    assert Consumer.objects.filter(kind="endpoint").count() == 1


def test_list_search_status_filter_sort_and_pagination(personas, make, login, settings):
    settings.PAGE_SIZE = 5
    company = personas.company  # evaluation open: no seat limit in the way
    for i in range(12):
        make.team_vmr(f"room-{i:03}", display_name=f"Room {chr(65 + i)}")
    services.consumer_deactivate(
        actor=personas.regular, consumer=Consumer.objects.get(alias="room-007")
    )
    client = login(personas.read_only)
    page = client.get(url("team_vmr_list", company)).context["page"]
    assert page.paginator.count == 12 and len(page.object_list) == 5
    found = client.get(url("team_vmr_list", company), {"q": "ROOM-01"}).context["page"]
    assert sorted(c.alias for c in found) == ["room-010", "room-011"]
    by_name = client.get(url("team_vmr_list", company), {"q": "room l"}).context["page"]
    assert [c.alias for c in by_name] == ["room-011"]
    inactive = client.get(url("team_vmr_list", company), {"status": "inactive"}).context["page"]
    assert [c.alias for c in inactive] == ["room-007"]
    desc = client.get(url("team_vmr_list", company), {"sort": "-alias"}).context["page"]
    assert desc[0].alias == "room-011"
    last = client.get(url("team_vmr_list", company), {"page": 3})
    assert [c.alias for c in last.context["page"]] == ["room-010", "room-011"]


def test_search_pages_through_results_with_the_total_in_one_query(personas, make, login, settings):
    """A search fetches its page and its total together (the search runs once, not twice), and
    pages like any list: past the end is the last page, nonsense is the first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PAGE_SIZE = 5
    company = personas.company  # evaluation open: no seat limit in the way
    for i in range(12):
        make.team_vmr(f"match-{i:03}")
    make.team_vmr("other-room")
    client = login(personas.read_only)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url("team_vmr_list", company), {"q": "match", "page": 2}).context["page"]
    assert [c.alias for c in page] == [f"match-{i:03}" for i in range(5, 10)]
    assert (page.paginator.count, page.paginator.num_pages, page.number) == (12, 3, 2)
    searches = [q for q in ctx.captured_queries if 'FROM "consumers_consumer"' in q["sql"]]
    assert len(searches) == 1, [q["sql"] for q in searches]
    content = client.get(url("team_vmr_list", company), {"q": "match", "page": 2}).content
    assert b"Page 2 of 3" in content and b"12 in all" in content

    last = client.get(url("team_vmr_list", company), {"q": "match", "page": 99}).context["page"]
    assert last.number == 3 and [c.alias for c in last] == ["match-010", "match-011"]
    first = client.get(url("team_vmr_list", company), {"q": "match", "page": "x"}).context["page"]
    assert first.number == 1 and len(first) == 5
    none = client.get(url("team_vmr_list", company), {"q": "nothing"}).context["page"]
    assert none.paginator.count == 0 and list(none) == []


@pytest.mark.parametrize("kind", ["user", "team_vmr", "endpoint"])
def test_list_pages_run_a_constant_number_of_queries(
    personas, make, login, kind, django_assert_max_num_queries
):
    company = personas.company
    list_name = f"{kind}_list"
    client = login(personas.regular)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            getattr(make, kind)(f"{kind[:4]}-{i:04}")

    add(2, 0)
    client.get(url(list_name, company))
    with django_assert_max_num_queries(12) as small:
        client.get(url(list_name, company), {"pending": "1"} if kind == "user" else {})
    add(30, 100)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url(list_name, company), {"pending": "1"} if kind == "user" else {})
    assert response.status_code == 200


def test_edit_delete_and_activate_from_the_actions(personas, make, paid_company, login):
    room = make.team_vmr("edit-room", company=paid_company, display_name="Before", host_pin="1111")
    client = login(personas.regular)
    listing = client.get(url("team_vmr_list", paid_company))
    assert url("consumer_edit", paid_company, room.public_id).encode() in listing.content
    assert url("consumer_delete", paid_company, room.public_id).encode() in listing.content

    response = client.post(
        url("consumer_edit", paid_company, room.public_id),
        {
            "alias": "edited-room",
            "display_name": "After",
            "host_pin": "2222",
            "guest_pin": "3333",
            "cost_centre": "CC7",
            "description_tag": "",
        },
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.alias, room.display_name, room.cost_centre) == ("edited-room", "After", "CC7")
    assert room.team_vmr.guest_pin == "3333"

    services.consumer_deactivate(actor=personas.regular, consumer=room)
    listing = client.get(url("team_vmr_list", paid_company))
    assert url("consumer_activate", paid_company, room.public_id).encode() in listing.content
    client.post(url("consumer_activate", paid_company, room.public_id))
    room.refresh_from_db()
    assert room.status == ConsumerStatus.ACTIVE

    confirm = client.get(url("consumer_delete", paid_company, room.public_id))
    assert b"cannot be undone" in confirm.content and Consumer.objects.filter(pk=room.pk).exists()
    client.post(url("consumer_delete", paid_company, room.public_id))
    assert not Consumer.objects.filter(pk=room.pk).exists()


def test_activate_without_a_seat_explains_why(personas, make, paid_company, login):
    first = make.endpoint("ep-first", company=paid_company)
    services.consumer_deactivate(actor=personas.regular, consumer=first)
    make.endpoint("ep-second", company=paid_company)
    response = login(personas.regular).post(
        url("consumer_activate", paid_company, first.public_id), follow=True
    )
    assert b"all 1 Room seats are in use" in response.content
    first.refresh_from_db()
    assert first.status == ConsumerStatus.INACTIVE


def test_read_only_sees_no_actions_and_cannot_post(personas, make, paid_company, login):
    room = make.team_vmr("ro-room", company=paid_company)
    client = login(personas.read_only)
    listing = client.get(url("team_vmr_list", paid_company))
    assert b"Add Team VMR" not in listing.content
    assert "Actions ▾".encode() not in listing.content
    assert client.post(url("consumer_delete", paid_company, room.public_id)).status_code == 403
    assert Consumer.objects.filter(pk=room.pk).exists()


def test_a_consumer_of_another_company_of_the_same_partner_is_404(
    personas, make, paid_company, login
):
    sister = add_company(personas.partner, "Sister")
    room = make.team_vmr("mine-room", company=paid_company)
    client = login(personas.regular)
    assert client.get(url("consumer_edit", sister, room.public_id)).status_code == 404
