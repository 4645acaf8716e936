"""Consumers through the API: the list with the list pages' filters and cursor pagination,
add (each kind), read, delete, activate, re-send an invitation; the services' rules as 422,
scopes and roles as 403, another partner's ids as 404."""

from __future__ import annotations

import pytest
from django.core import mail

from consumers.models import Consumer, ConsumerKind, ConsumerStatus, Invitation
from domains.models import CallingDomain, DomainStatus
from portal.models import AuditEvent
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


def _collect(api, url, params=None):
    """Every item of a list, following `next` to the end; (items, pages)."""
    items, pages = [], 0
    response = api.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["items"]
        pages += 1
        if body["next"] is None:
            return items, pages
        assert body["next"].startswith("http")
        response = api.get(body["next"])


def test_the_list_follows_next_to_the_end_with_every_consumer_once(api, personas, make):
    rooms = make.team_vmrs(7)
    make.user("alice.smith")
    make.endpoint("hall-display")
    items, pages = _collect(api, f"companies/{personas.company.public_id}/consumers", {"limit": 3})
    assert pages == 3
    assert len(items) == 9
    assert len({i["id"] for i in items}) == 9
    assert [i["alias"] for i in items] == sorted(i["alias"] for i in items)
    room = next(i for i in items if i["id"] == str(rooms[0].public_id))
    assert room == {
        "id": str(rooms[0].public_id),
        "kind": "team_vmr",
        "alias": "room-0000",
        "domain": personas.company.service_domain,
        "address": rooms[0].address,
        "status": "active",
        "inactive_reason": "",
        "is_trial": True,
        "display_name": "R0",
        "conference_id": rooms[0].conference_id,
        "created_at": room["created_at"],
    }


def test_the_list_filters_as_the_list_pages_do(api, personas, make):
    make.user("alice.smith", email="alice@customer.example")
    make.user("bob.jones")
    room = make.team_vmr("board-room", display_name="Board")
    make.endpoint("lobby-screen")
    Consumer.objects.filter(alias="bob.jones").update(status=ConsumerStatus.INACTIVE)
    url = f"companies/{personas.company.public_id}/consumers"

    def aliases(**params):
        response = api.get(url, params)
        assert response.status_code == 200, response.content
        return [i["alias"] for i in response.json()["items"]]

    assert aliases(kind="user") == ["alice.smith", "bob.jones"]
    assert aliases(kind="user", status="inactive") == ["bob.jones"]
    assert aliases(status="invited") == ["alice.smith"]
    assert aliases(q="customer.example") == ["alice.smith"]  # a user's invitation email
    assert aliases(q=str(room.conference_id)) == ["board-room"]
    assert aliases(kind="endpoint", q="lobby") == ["lobby-screen"]
    assert aliases(q="nothing-like-it") == []


@pytest.mark.parametrize("sort", ["-alias", "name", "-created", "status", "-status"])
def test_every_sort_of_the_list_pages_pages_through_everything_once(api, personas, make, sort):
    rooms = make.team_vmrs(5)
    make.user("alice.smith")
    Consumer.objects.filter(pk__in=[rooms[1].pk, rooms[3].pk]).update(
        status=ConsumerStatus.INACTIVE
    )
    url = f"companies/{personas.company.public_id}/consumers"
    items, _pages = _collect(api, url, {"sort": sort, "limit": 2})
    one_page = api.get(url, {"sort": sort, "limit": 50}).json()["items"]
    assert [i["id"] for i in items] == [i["id"] for i in one_page]
    assert len({i["id"] for i in items}) == 6
    if sort == "status":
        assert [i["status"] for i in items] == ["active"] * 3 + ["inactive"] * 2 + ["invited"]


def test_pending_lists_the_users_yet_to_accept(api, personas, make):
    make.user("alice.smith")
    make.team_vmr("board-room")
    url = f"companies/{personas.company.public_id}/consumers"
    assert [i["alias"] for i in api.get(url, {"pending": "true"}).json()["items"]] == [
        "alice.smith"
    ]


def test_a_bad_filter_or_cursor_is_a_422_never_a_500(api, personas):
    url = f"companies/{personas.company.public_id}/consumers"
    assert "kind" in assert_problem(api.get(url, {"kind": "robot"}), 422)["errors"]
    assert "sort" in assert_problem(api.get(url, {"sort": "price"}), 422)["errors"]
    assert "cursor" in assert_problem(api.get(url, {"cursor": "not-a-cursor"}), 422)["errors"]
    assert assert_problem(api.get(url, {"limit": "0"}), 422)["errors"]
    # Control characters in a search are ignored, as on the list pages.
    assert api.get(url, {"q": "a\x01b"}).status_code == 200


def test_the_list_runs_a_constant_number_of_queries(
    api, personas, make, django_assert_max_num_queries
):
    make.team_vmrs(3)
    url = f"companies/{personas.company.public_id}/consumers"
    api.get(url)  # the first request of a token stamps its last use
    with django_assert_max_num_queries(4) as few:
        assert api.get(url, {"limit": 2}).status_code == 200
    make.team_vmrs(30, prefix="more")
    make.user("alice.smith")
    make.endpoint("lobby-screen")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = api.get(url, {"limit": 20}).json()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get(body["next"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (
            {
                "kind": "user",
                "email": "ann@customer.example",
                "full_name": "Ann",
                "alias": "ann.lee",
            },
            ConsumerKind.USER,
        ),
        (
            {"kind": "team_vmr", "alias": "board-room", "display_name": "Board"},
            ConsumerKind.TEAM_VMR,
        ),
        (
            {
                "kind": "endpoint",
                "alias": "lobby-screen",
                "display_name": "Lobby",
                "usage_model": "personal",
            },
            ConsumerKind.ENDPOINT,
        ),
    ],
)
def test_adding_each_kind_is_a_201_through_its_service(api, personas, body, kind):
    response = api.post(f"companies/{personas.company.public_id}/consumers", body)
    assert response.status_code == 201, response.content
    out = response.json()
    consumer = Consumer.objects.get(public_id=out["id"])
    assert consumer.kind == kind == out["kind"]
    assert out["address"] == f"{body['alias']}@{personas.company.service_domain}"
    assert out["is_trial"] is True  # the company's evaluation is open
    assert out["status"] == ("invited" if kind == ConsumerKind.USER else "active")
    event = AuditEvent.objects.get(object_id=str(consumer.public_id))
    assert event.data["api_token"] == str(api.token.token.public_id)
    if kind == ConsumerKind.USER:
        assert Invitation.objects.get(consumer=consumer).email == "ann@customer.example"
    if kind == ConsumerKind.ENDPOINT:
        assert consumer.endpoint.usage_model == "personal"


def test_a_consumer_on_a_verified_calling_domain(api, personas):
    CallingDomain.objects.create(
        company=personas.company, name="customer.example", status=DomainStatus.VERIFIED
    )
    body = {"kind": "team_vmr", "alias": "ops", "display_name": "Ops", "domain": "customer.example"}
    response = api.post(f"companies/{personas.company.public_id}/consumers", body)
    assert response.status_code == 201, response.content
    assert response.json()["address"] == "ops@customer.example"


def test_rule_violations_are_422_with_the_services_messages_by_field(api, personas, make):
    url = f"companies/{personas.company.public_id}/consumers"
    make.team_vmr("board-room")
    CallingDomain.objects.create(company=personas.company, name="pending.example")
    room = {"kind": "team_vmr", "display_name": "Board"}
    duplicate = assert_problem(api.post(url, {**room, "alias": "board-room"}), 422)
    assert "board-room" in str(duplicate["errors"])
    short = assert_problem(api.post(url, {**room, "alias": "abc"}), 422)
    assert "alias" in short["errors"]
    unverified = assert_problem(
        api.post(url, {**room, "alias": "ops-room", "domain": "pending.example"}), 422
    )
    assert "not verified" in unverified["errors"]["domain"][0]
    email = assert_problem(
        api.post(url, {"kind": "user", "email": "nope", "full_name": "N", "alias": "nobody.here"}),
        422,
    )
    assert "email" in email["errors"]
    missing = assert_problem(api.post(url, {"kind": "user", "alias": "nobody.here"}), 422)
    # The body's fields, named as the client wrote them (not "user.email").
    assert {"email", "full_name"} <= set(missing["errors"])
    assert_problem(api.post(url, {"kind": "robot", "alias": "x"}), 422)
    assert Consumer.objects.filter(company=personas.company).count() == 1


def test_no_seat_left_is_a_422(api, full_company):
    company, _sleeper = full_company
    response = api.post(
        f"companies/{company.public_id}/consumers",
        {"kind": "team_vmr", "alias": "one-more", "display_name": "More"},
    )
    body = assert_problem(response, 422)
    assert "seat" in str(body["errors"]).lower()
    assert not Consumer.objects.filter(alias="one-more").exists()


def test_read_and_delete(api, personas, make):
    room = make.team_vmr("board-room")
    response = api.get(f"consumers/{room.public_id}")
    assert response.status_code == 200
    assert response.json()["address"] == room.address
    response = api.delete(f"consumers/{room.public_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Consumer.objects.filter(pk=room.pk).exists()
    assert_problem(api.get(f"consumers/{room.public_id}"), 404)


def test_activate_brings_an_inactive_consumer_back_or_says_why_not(
    api, personas, make, full_company
):
    _company, sleeper = full_company
    body = assert_problem(api.post(f"consumers/{sleeper.public_id}/activate"), 422)
    assert "seat" in str(body["errors"]).lower()
    Consumer.objects.filter(alias="seat-taker").delete()
    response = api.post(f"consumers/{sleeper.public_id}/activate")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    again = assert_problem(api.post(f"consumers/{sleeper.public_id}/activate"), 422)
    assert "already active" in str(again["errors"])


def test_resend_invitation_emails_the_user_again(
    api, personas, make, django_capture_on_commit_callbacks
):
    user = make.user("alice.smith", email="alice@customer.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"consumers/{user.public_id}/resend-invitation")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(user.public_id)
    room = make.team_vmr("board-room")
    assert_problem(api.post(f"consumers/{room.public_id}/resend-invitation"), 422)


def test_a_read_token_or_a_read_only_member_cannot_write(
    api, personas, make, read_token, read_only_member_token
):
    room = make.team_vmr("board-room")
    body = {"kind": "team_vmr", "alias": "new-room", "display_name": "New"}
    for token in (read_token, read_only_member_token):
        client = api.as_(token)
        assert client.get(f"consumers/{room.public_id}").status_code == 200
        assert_problem(client.post(f"companies/{personas.company.public_id}/consumers", body), 403)
        assert_problem(client.delete(f"consumers/{room.public_id}"), 403)
        assert_problem(client.post(f"consumers/{room.public_id}/activate"), 403)
    assert Consumer.objects.filter(pk=room.pk).exists()
    assert not Consumer.objects.filter(alias="new-room").exists()


def test_another_partners_consumers_are_404_like_missing_ones(api, personas, foreign_room):
    other = personas.other_company.public_id
    assert_problem(api.get(f"companies/{other}/consumers"), 404)
    body = {"kind": "team_vmr", "alias": "sneaky-room", "display_name": "S"}
    assert_problem(api.post(f"companies/{other}/consumers", body), 404)
    for path in ("", "/activate", "/resend-invitation"):
        method = api.get if not path else api.post
        assert_problem(method(f"consumers/{foreign_room.public_id}{path}"), 404)
    assert_problem(api.delete(f"consumers/{foreign_room.public_id}"), 404)
    assert Consumer.objects.filter(pk=foreign_room.pk).exists()
