"""Conference IDs: every room (a user's personal VMR, a team VMR) gets a numeric ID that a phone
caller enters after dialling a PSTN dial-in number: unique service-wide, 6 to 9 digits, no
leading zero, on every path that creates a room, under concurrency, and for rooms from before
(the backfill migration)."""

from __future__ import annotations

import importlib
import re
import time
from functools import partial

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from consumers import services
from consumers.conference_ids import (
    conference_id_allocate,
    conference_id_candidate,
    conference_ids_backfill,
)
from consumers.models import BatchJob, Consumer, ConsumerKind, ConsumerStatus
from licensing.models import LicenceKind
from portal.models import Company
from tests.conftest import add_company, add_licence, raised, requires_postgres, run_at_once

CONFERENCE_ID = re.compile(r"[1-9][0-9]{5,8}")


def conference_ids(**filters) -> list[int | None]:
    return list(Consumer.objects.filter(**filters).values_list("conference_id", flat=True))


def assert_valid_and_unique(ids: list[int | None]) -> None:
    assert ids and all(i is not None and CONFERENCE_ID.fullmatch(str(i)) for i in ids), ids
    assert len(set(ids)) == len(ids), ids


def curl(name: str, company: Company, *args) -> str:
    return reverse(f"consumers:{name}", args=[company.public_id, *args])


# --- every path that creates a room -------------------------------------------------------------


def test_single_adds_give_rooms_an_id_and_endpoints_none(personas, login):
    client = login(personas.regular)
    company = personas.company
    where = {"domain": "acme-a.onpexip.com"}
    posts = [
        ("user_invite", {"alias": "ann.one", "full_name": "Ann One", "email": "ann@x.example"}),
        ("team_vmr_add", {"alias": "all-hands", "display_name": "All"}),
        (
            "endpoint_add",
            {"alias": "lobby-screen", "display_name": "Lobby", "usage_model": "shared"},
        ),
    ]
    for name, data in posts:
        assert client.post(curl(name, company), {**data, **where}).status_code == 302, name
    assert Consumer.objects.count() == 3
    assert_valid_and_unique(conference_ids(kind__in=[ConsumerKind.USER, ConsumerKind.TEAM_VMR]))
    assert conference_ids(kind=ConsumerKind.ENDPOINT) == [None]


def test_csv_import_gives_every_invited_user_an_id(personas, paid_company, login):
    text = "full name,email,alias\nAnn One,ann@x.example,ann.one\nBen Two,ben@x.example,ben.two\n"
    login(personas.regular).post(
        curl("user_bulk_invite", paid_company), {"text": text, "confirm": "1"}
    )
    assert Consumer.objects.count() == 2
    assert_valid_and_unique(conference_ids())


def test_seed_demo_gives_every_room_an_id(db):
    call_command("seed_demo", stdout=None)
    rooms = conference_ids(kind__in=[ConsumerKind.USER, ConsumerKind.TEAM_VMR])
    assert len(rooms) >= 3
    assert_valid_and_unique(rooms)
    assert set(conference_ids(kind=ConsumerKind.ENDPOINT)) <= {None}


def test_the_id_stays_through_edits_deactivation_and_a_batch_reactivation(
    personas, make, login, django_capture_on_commit_callbacks
):
    room = make.team_vmr("all-hands", display_name="All hands")
    first = room.conference_id
    services.consumer_update(actor=personas.regular, consumer=room, display_name="Everyone")
    services.consumer_deactivate(actor=personas.regular, consumer=room)
    client = login(personas.regular)
    client.post(
        curl("batch_new", personas.company),
        {"kind": "team_vmr", "action": "reactivate", "text": room.address},
    )
    batch = BatchJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(curl("batch_confirm", personas.company, batch.public_id))
    room.refresh_from_db()
    assert room.status == ConsumerStatus.ACTIVE and room.conference_id == first


def test_ops_see_the_id_in_admin_and_cannot_change_or_add_it(personas, make, login):
    room = make.team_vmr("all-hands", display_name="All hands")
    client = login(personas.ops)
    page = client.get(reverse("admin:consumers_consumer_change", args=[room.pk]))
    assert str(room.conference_id).encode() in page.content
    client.post(
        reverse("admin:consumers_consumer_change", args=[room.pk]),
        {
            "alias": "all-hands",
            "display_name": "Renamed",
            "cost_centre": "",
            "description_tag": "",
            "conference_id": "123456",
        },
    )
    room_after = Consumer.objects.get(pk=room.pk)
    assert room_after.display_name == "Renamed" and room_after.conference_id == room.conference_id
    assert client.get(reverse("admin:consumers_consumer_add")).status_code == 403


# --- the format and the database's word on it ---------------------------------------------------


def test_candidates_start_at_six_digits_and_widen_to_nine():
    lengths = {
        attempt: {len(str(conference_id_candidate(attempt))) for _ in range(200)}
        for attempt in (0, 3, 6, 9, 19)
    }
    assert lengths == {0: {6}, 3: {7}, 6: {8}, 9: {9}, 19: {9}}
    assert all(str(conference_id_candidate(0))[0] != "0" for _ in range(500))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("team_vmr", 99_999),  # 5 digits
        ("team_vmr", 1_000_000_000),  # 10 digits
        ("endpoint", 123_456),  # an endpoint is no room
    ],
)
def test_the_database_refuses_a_bad_id(make, kind, value):
    consumer = make.team_vmr("room-one") if kind == "team_vmr" else make.endpoint("screen-one")
    with pytest.raises(IntegrityError), transaction.atomic():
        Consumer.objects.filter(pk=consumer.pk).update(conference_id=value)


def test_a_taken_id_is_skipped_for_the_next_candidate(make):
    first, second = make.team_vmr("room-one"), make.team_vmr("room-two")
    with pytest.raises(IntegrityError), transaction.atomic():
        Consumer.objects.filter(pk=second.pk).update(conference_id=first.conference_id)
    assert conference_id_allocate(second, candidates=[first.conference_id, 987_654]) == 987_654
    assert Consumer.objects.get(pk=second.pk).conference_id == 987_654


# --- concurrency ---------------------------------------------------------------------------------


def _room_racing_for(company: Company, alias: str, candidates: list[int]) -> int:
    """Create a room and take the first free of `candidates`, holding the transaction open a
    moment so that the others wait on the unique index and must move on."""
    with transaction.atomic():
        room = Consumer.objects.create(
            company=company, kind=ConsumerKind.TEAM_VMR, alias=alias, domain="race.example"
        )
        taken = conference_id_allocate(room, candidates=candidates)
        time.sleep(0.3)
    return taken


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_racing_for_the_same_numbers_all_get_different_ones(personas):
    requires_postgres()
    candidates = [111_111, 222_222, 333_333, 444_444, 555_555]
    results = run_at_once(
        *(
            partial(_room_racing_for, personas.company, f"race-room-{i}", candidates)
            for i in range(4)
        )
    )
    assert not raised(results), results
    assert sorted(results) == candidates[:4]
    assert sorted(conference_ids()) == candidates[:4]


@pytest.mark.django_db(transaction=True)
def test_rooms_created_at_once_in_many_companies_all_get_unique_ids(personas, make):
    requires_postgres()
    companies = [add_company(personas.partner, f"Race {i}") for i in range(6)]
    for company in companies:
        add_licence(company, LicenceKind.ENTERPRISE_USER, 5)
    calls = [partial(make.team_vmr, f"room-{i}", company=c) for i, c in enumerate(companies)]
    calls += [partial(make.user, f"user.{i}", company=c) for i, c in enumerate(companies)]
    results = run_at_once(*calls)
    assert not raised(results), results
    assert_valid_and_unique(conference_ids())
    assert Consumer.objects.count() == 12


# --- rooms from before: the backfill migration --------------------------------------------------


def test_the_backfill_gives_every_room_without_one_an_id_and_keeps_the_others(make):
    rooms = [*make.team_vmrs(5), make.user("ann.one"), make.user("ben.two")]
    screen = make.endpoint("screen-one")
    keeper = rooms[0]
    Consumer.objects.exclude(pk=keeper.pk).update(conference_id=None)
    assert conference_ids_backfill(batch_size=2) == 6
    assert Consumer.objects.get(pk=keeper.pk).conference_id == keeper.conference_id
    assert_valid_and_unique(conference_ids(pk__in=[r.pk for r in rooms]))
    assert Consumer.objects.get(pk=screen.pk).conference_id is None
    assert conference_ids_backfill() == 0, "a second run changes nothing"


def test_the_migration_backfills_rooms_created_before_it(personas):
    migration = importlib.import_module("consumers.migrations.0012_backfill_conference_ids")
    state = ("consumers", "0011_consumer_conference_id")
    old_apps = MigrationExecutor(connection).loader.project_state(state).apps
    Old = old_apps.get_model("consumers", "Consumer")
    company_id = personas.company.pk
    for kind, alias in (("user", "ann.one"), ("team_vmr", "all-hands"), ("endpoint", "screen")):
        Old.objects.create(company_id=company_id, kind=kind, alias=alias, domain="old.example")
    migration.backfill(old_apps, None)
    assert_valid_and_unique(conference_ids(kind__in=["user", "team_vmr"]))
    assert conference_ids(kind="endpoint") == [None]


# --- where rooms are listed ---------------------------------------------------------------------


def test_room_lists_show_the_id_and_find_a_room_by_it(
    personas, make, login, django_assert_max_num_queries
):
    ann = make.user("ann.one")
    rooms = make.team_vmrs(3)
    client = login(personas.read_only)
    users_page = client.get(curl("user_list", personas.company))
    assert "Conference ID <span" in users_page.content.decode()
    assert str(ann.conference_id) in users_page.content.decode()
    with django_assert_max_num_queries(12):
        rooms_page = client.get(curl("team_vmr_list", personas.company))
    assert all(str(r.conference_id) in rooms_page.content.decode() for r in rooms)
    found = client.get(curl("team_vmr_list", personas.company), {"q": rooms[1].conference_id})
    assert rooms[1].address in found.content.decode()
    assert rooms[0].address not in found.content.decode()


def test_a_rooms_own_page_shows_its_id_and_an_endpoints_none(personas, make, login):
    room, screen = make.team_vmr("all-hands"), make.endpoint("screen-one")
    client = login(personas.read_only)
    page = client.get(curl("consumer_detail", personas.company, room.public_id)).content.decode()
    assert "Conference ID" in page and str(room.conference_id) in page
    page = client.get(curl("endpoint_detail", personas.company, screen.public_id)).content.decode()
    assert "Conference ID" not in page


def test_another_partner_gets_404_on_the_room_lists(personas, login):
    client = login(personas.other_manager)
    assert client.get(curl("team_vmr_list", personas.company)).status_code == 404
