"""Regression tests for the adversarial pass (issue 15) on the consumers app: batch address
enumeration (2), call-record ingest and the calls page (4), concurrent adds of one alias (5, the
alias part), admin and SIP passwords (6, the SIP part), unvalidated input (10), the batch
address parser (12, its part) and reminders of invitations due for the purge (13)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from consumers import tasks
from consumers.models import BatchJob, CallRecord, Consumer, EndpointSettings, Invitation
from consumers.services import batch as batches
from consumers.services import invitations
from licensing.models import LicenceKind
from portal.models import AuditEvent
from tests.conftest import T0, add_licence, requires_postgres, run_at_once
from tests.mailing import deliver

INGEST_URL = "/api/call-records/"
LISTS = ["user_list", "team_vmr_list", "endpoint_list"]


def curl(name, company, *args):
    return reverse(f"consumers:{name}", args=[company.public_id, *args])


def answering(client: Client) -> Client:
    """The client answers a server error with its 500 page instead of raising it."""
    client.raise_request_exception = False
    return client


# --- 2. the batch tool does not tell another partner's addresses from missing ones -------------


def test_an_address_outside_the_company_is_not_found_whether_or_not_it_exists(
    personas, make, foreign_room, login
):
    company = personas.company
    foreign_user = make.user(
        "their.user", company=personas.other_company, actor=personas.other_manager
    )
    own_user = make.user("own.user")
    listed = [
        foreign_room.address,
        foreign_user.address,
        foreign_user.vmr_address,
        "nobody.here@bravo-b.onpexip.com",
        own_user.vmr_address,
    ]
    response = login(personas.regular).post(
        curl("batch_new", company),
        {"kind": "team_vmr", "action": "delete", "text": "\n".join(listed)},
    )
    assert response.status_code == 302
    items = list(BatchJob.objects.get().items.order_by("position"))
    assert [i.message for i in items] == ["not found"] * 4 + [
        "is a personal VMR address: list the user's address"
    ]
    assert {(i.will_run, i.outcome, i.consumer_id) for i in items[:4]} == {(False, "pending", None)}
    page = login(personas.regular).get(response["Location"])
    assert b"another company" not in page.content


# --- 4. call-record ingest and the calls page ----------------------------------------------------


def ingest(client, payload, authorization="Bearer svc-token", raw=None):
    return answering(client).post(
        INGEST_URL,
        raw if raw is not None else json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": authorization} if authorization else {},
    )


def call(**over):
    base = {
        "endpoint": "lobby-screen@acme-a.onpexip.com",
        "started_at": "2027-01-04T08:00:00Z",  # an hour before the clock's T0
        "duration_seconds": 60,
        "direction": "in",
        "remote_address": "bob@x.example",
        "remote_display_name": "Bob",
        "call_id": "c-1",
    }
    return {**base, **over}


@pytest.fixture
def ingesting(clock, endpoint, settings):
    settings.CALL_RECORDS_INGEST_TOKEN = "svc-token"
    return endpoint


@pytest.mark.parametrize(
    "over",
    [
        {"started_at": "9999-12-31T23:00:00-05:00"},  # year 10000 in UTC
        {"started_at": "0001-01-01T00:30:00+01:00"},  # year 0 in UTC
        {"started_at": "2026-02-30T10:00:00Z"},
        {"started_at": "2027-01-04T25:00:00Z"},
        {"started_at": "2027-01-04T08:00:00+99:00"},
        {"started_at": "2027-01-04T20:00:00+16:00"},  # Python takes it, PostgreSQL does not
        {"started_at": "2027-01-03T20:00:00-1600"},
        {"started_at": "1999-12-31T23:59:59Z"},
        {"started_at": "2027-01-05T09:00:01Z"},  # more than a day ahead
        {"started_at": 1767225600},
        {"duration_seconds": 10**12},
        {"duration_seconds": 7 * 24 * 3600},
        {"duration_seconds": 1.5},
        {"duration_seconds": True},
        {"endpoint": "lobby-screen@acme-a.onpexip.com\x00"},
        {"endpoint": ["lobby-screen@acme-a.onpexip.com"]},
        {"call_id": "c\x00"},
        {"call_id": "c" * 101},
        {"remote_address": "bob\x00@x.example"},
        {"remote_address": "\ud800@x.example"},
        {"remote_display_name": "Bob\x00"},
        {"remote_display_name": {"nested": "object"}},
        {"remote_ip": "198.51.100.7\x00"},
        {"remote_ip": ["198.51.100.7"]},
        {"direction": "in\x00"},
        {"direction": ["in"]},
    ],
    ids=repr,
)
def test_a_record_that_cannot_be_stored_or_shown_is_a_per_record_400(ingesting, client, over):
    response = ingest(client, {"records": [call(call_id="good"), call(**over)]})
    assert response.status_code == 400
    assert list(response.json()["records"]) == ["1"]
    assert not CallRecord.objects.exists()


def test_deeply_nested_json_is_a_400(ingesting, client):
    deep = '{"records": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    response = ingest(client, None, raw=deep)
    assert response.status_code == 400
    assert not CallRecord.objects.exists()


def test_the_bounds_themselves_are_accepted(ingesting, client):
    records = [
        call(call_id="earliest", started_at="2000-01-01T00:00:00Z", duration_seconds=0),
        call(call_id="ahead", started_at="2027-01-05T09:00:00Z", duration_seconds=604_799),
        call(call_id="offset", started_at="2027-01-04T10:00:00+05:00"),
    ]
    response = ingest(client, {"records": records})
    assert response.status_code == 201, response.content
    assert response.json()["stored"] == 3


def test_stored_counts_the_rows_really_inserted(ingesting, client):
    first = [call(call_id=f"c-{i}") for i in range(3)]
    assert ingest(client, {"records": first}).json()["stored"] == 3
    assert ingest(client, {"records": first}).json()["stored"] == 0, "a re-sent batch"
    overlapping = [*first[1:], call(call_id="c-new"), call(call_id=None), call(call_id="")]
    response = ingest(client, {"records": overlapping})
    assert response.json() == {"stored": 3, "received": 5}
    assert CallRecord.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_ingests_of_the_same_calls_count_each_row_once(endpoint, settings):
    requires_postgres()
    settings.CALL_RECORDS_INGEST_TOKEN = "svc-token"
    now = datetime.now(UTC).replace(microsecond=0)
    records = [call(call_id=f"race-{i}", started_at=now.isoformat()) for i in range(200)]
    responses = run_at_once(*[partial(ingest, Client(), {"records": records})] * 4)
    assert all(r.status_code in (201, 400) for r in responses), responses
    stored = sum(r.json()["stored"] for r in responses if r.status_code == 201)
    assert stored == CallRecord.objects.count() == 200


@pytest.mark.parametrize(
    "authorization", ["svc-token", "Token svc-token", "Bearersvc-token", "Bearer", "", "Bearer x"]
)
def test_ingest_needs_the_bearer_scheme(ingesting, client, authorization):
    assert ingest(client, {"records": [call()]}, authorization=authorization).status_code == 401
    assert not CallRecord.objects.exists()
    accepted = ingest(client, {"records": [call()]}, authorization="bearer svc-token")
    assert accepted.status_code == 201, "the scheme's name is case-insensitive"


def test_the_import_command_refuses_what_it_cannot_read(ingesting, tmp_path):
    deep = tmp_path / "deep.jsonl"
    deep.write_text(json.dumps(call()) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(CommandError, match="line 2: not JSON"):
        call_command("import_call_records", str(deep))
    wide = tmp_path / "wide.csv"
    wide.write_text("endpoint,started_at,duration_seconds,direction\n" + "x" * 200_000 + "\n")
    with pytest.raises(CommandError, match="not readable as CSV after line 1"):
        call_command("import_call_records", str(wide))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"endpoint\n\xff\xfe\n")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_call_records", str(binary))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "endpoint,started_at,duration_seconds,direction,call_id\n"
        "lobby-screen@acme-a.onpexip.com,2027-01-04T08:00:00Z,1000000000000,in,k1\n"
        "lobby-screen@acme-a.onpexip.com,2026-02-30T08:00:00Z,²,in,k2\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="No record was imported"):
        call_command("import_call_records", str(bad), stderr=err)
    assert "line 2: duration_seconds" in err.getvalue()
    assert "line 3: started_at" in err.getvalue()
    assert not CallRecord.objects.exists()


@pytest.mark.parametrize("time_zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_calls_page_never_fails_on_stored_data_or_its_query_string(
    personas, endpoint, login, settings, time_zone
):
    """Rows stored before the ingest checked its bounds (a start in year 10000 or before year 1
    in UTC) are left out; out-of-range and malformed days are ignored, in any time zone."""
    settings.TIME_ZONE = time_zone
    minus_five, plus_one = timezone(timedelta(hours=-5)), timezone(timedelta(hours=1))
    CallRecord.objects.create(
        consumer=endpoint, started_at=datetime(9999, 12, 31, 23, tzinfo=minus_five), direction="in"
    )
    CallRecord.objects.create(
        consumer=endpoint, started_at=datetime(1, 1, 1, 0, 30, tzinfo=plus_one), direction="in"
    )
    CallRecord.objects.create(
        consumer=endpoint, started_at=datetime(5000, 1, 1, tzinfo=UTC), direction="in"
    )
    shown = CallRecord.objects.create(
        consumer=endpoint, started_at=datetime.now(UTC) - timedelta(days=1), direction="out"
    )
    client = answering(login(personas.read_only))
    page_url = curl("endpoint_calls", personas.company, endpoint.public_id)
    queries = [
        {},
        {"to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"to": "9999-12-30"},
        {"from": "0001-01-03"},
        {"from": "2026-02-30"},
        {"from": "garbage", "to": "\x00"},
        {"from": "10000-01-01"},
        {"page": "99999999999999999999"},
        {"page": "-1"},
        {"export": "csv", "to": "9999-12-31"},
    ]
    for query in queries:
        response = client.get(page_url, query)
        assert response.status_code == 200, query
        if "export" not in query:
            assert [c.pk for c in response.context["page"]] == [shown.pk], query
    export = b"".join(client.get(page_url, {"export": "csv"}).streaming_content).decode()
    assert export.count("\n") == 2


# --- 5. the same alias added twice at once -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["user", "team_vmr", "endpoint"])
def test_concurrent_adds_of_one_alias_on_a_used_domain_make_one_consumer(make, kind):
    """Once the company's domain exists, nothing serialises the adds before the consumer's own
    (alias, domain) constraint: the losers get the message a sequential duplicate gets."""
    requires_postgres()
    make.team_vmr("first-room")  # the company's service subdomain now exists
    results = run_at_once(*[partial(getattr(make, kind), "same-alias")] * 6)
    messages = sorted(str(r) if isinstance(r, Exception) else "ok" for r in results)
    taken = "{'alias': ['The address same-alias@acme-a.onpexip.com is already taken.']}"
    assert messages == ["ok"] + [taken] * 5
    assert Consumer.objects.filter(alias="same-alias").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_add_shows_the_duplicate_message_not_a_server_error(personas, make):
    requires_postgres()
    make.team_vmr("first-room")
    url = curl("team_vmr_add", personas.company)

    def submit():
        client = answering(Client())
        client.force_login(personas.regular)
        return client.post(
            url,
            {"display_name": "Board room", "alias": "board-room", "domain": "acme-a.onpexip.com"},
        )

    responses = run_at_once(*[submit] * 5)
    assert sorted(r.status_code for r in responses) == [200] * 4 + [302]
    for response in responses:
        if response.status_code == 200:
            assert b"The address board-room@acme-a.onpexip.com is already taken." in (
                response.content
            )
    assert Consumer.objects.filter(alias="board-room").count() == 1


# --- 6. Django admin shows no SIP password or provisioning secret --------------------------------


def test_admin_shows_no_sip_password_and_rotates_it_through_the_service(personas, endpoint, login):
    settings_row = EndpointSettings.objects.get(consumer=endpoint)
    secrets = [settings_row.sip_password, settings_row.provisioning_nonce]
    secrets.append(settings_row.provisioning_token_hash)
    client = login(personas.ops)
    pages = [
        reverse("admin:consumers_endpointsettings_changelist"),
        reverse("admin:consumers_endpointsettings_change", args=[settings_row.pk]),
        reverse("admin:consumers_consumer_change", args=[endpoint.pk]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        for secret in secrets:
            assert secret.encode() not in response.content, page
        assert b'name="sip_password"' not in response.content, page

    change = client.post(pages[1], {"sip_password": "typed-in", "usage_model": "personal"})
    assert change.status_code == 403
    settings_row.refresh_from_db()
    assert settings_row.sip_password == secrets[0] and settings_row.usage_model == "shared"

    listing = client.get(pages[0])
    assert b"delete_selected" not in listing.content
    client.post(
        pages[0], {"action": "regenerate_sip_password", "_selected_action": [settings_row.pk]}
    )
    settings_row.refresh_from_db()
    assert settings_row.sip_password != secrets[0]
    event = AuditEvent.objects.get(action="endpoint.sip_password_regenerate")
    assert event.actor == personas.ops
    client.post(
        pages[0], {"action": "rotate_provisioning_url", "_selected_action": [settings_row.pk]}
    )
    settings_row.refresh_from_db()
    assert settings_row.provisioning_nonce != secrets[1]


# --- 10. unvalidated input -----------------------------------------------------------------------


@pytest.mark.parametrize("list_name", LISTS)
@pytest.mark.parametrize(
    "query",
    [
        {"q": "\x00"},
        {"q": "a\x00b@c"},
        {"q": "room\x00", "page": "2"},
        {"q": "x" * 20_000},
        {"page": "99999999999999999999"},
        {"q": "room", "page": "99999999999999999999"},
        {"q": "room", "page": "9" * 5000},
        {"status": "\x00", "sort": "\x00", "pending": "\x00"},
    ],
    ids=lambda q: repr(q)[:40],
)
def test_list_pages_ignore_bad_query_strings(personas, make, login, list_name, query):
    make.team_vmr("meeting-room")
    response = answering(login(personas.read_only)).get(curl(list_name, personas.company), query)
    assert response.status_code == 200
    assert "\x00" not in response.context["query"]


def test_a_huge_page_number_of_a_search_shows_its_last_page(personas, make, login, settings):
    settings.PAGE_SIZE = 5
    make.team_vmrs(7)
    response = login(personas.read_only).get(
        curl("team_vmr_list", personas.company), {"q": "room", "page": "99999999999999999999"}
    )
    page = response.context["page"]
    assert (page.number, len(page), page.paginator.count) == (2, 2, 7)


def test_batch_selection_and_page_ignore_bad_query_strings(personas, make, login):
    rooms = make.team_vmrs(3)
    client = answering(login(personas.regular))
    response = client.post(
        curl("batch_new", personas.company),
        {
            "kind": "team_vmr",
            "action": "delete",
            "source": "selection",
            "all_matching": "1",
            "q": "\x00",
            "status": "\x00",
        },
    )
    assert response.status_code == 200, "a batch never widens an unusable search to everything"
    assert b"cannot be searched" in response.content and not BatchJob.objects.exists()
    response = client.post(
        curl("batch_new", personas.company),
        {"kind": "team_vmr", "action": "delete", "source": "selection", "all_matching": "1"},
    )
    batch = BatchJob.objects.get()
    assert batch.total == len(rooms)
    for query in ({"page": "99999999999999999999"}, {"page": "\x00", "show": "\x00"}):
        assert client.get(response["Location"], query).status_code == 200


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (b"room-0000@acme-a.onpexip.com\n\x00\n", "NUL"),
        # UTF-16 with its byte-order mark is read (issue 17); without one, it is refused.
        ("room-0000@acme-a.onpexip.com\n".encode("utf-16-le"), "UTF-16 without a byte-order"),
        (b"\xff\xfe\xfa", "not valid UTF-16 LE"),
        (b"x" * 200_000 + b"@acme-a.onpexip.com\n", "Line 1: a cell is longer than 131072"),
        (
            b"room-0000@acme-a.onpexip.com\r\n" * 2 + b"a" * 400 + b"@x.example",
            "Line 3: an address",
        ),
        (b"x" * (5 * 2**20 + 1), "larger than 5 MB"),
    ],
    ids=["nul", "utf-16", "binary", "huge cell", "long address", "too big"],
)
def test_a_bad_batch_upload_gets_a_clear_message(personas, login, upload, message):
    response = answering(login(personas.regular)).post(
        curl("batch_new", personas.company),
        {"kind": "team_vmr", "action": "delete", "file": SimpleUploadedFile("list.csv", upload)},
    )
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].non_field_errors())
    assert not BatchJob.objects.exists()


def test_a_nul_in_a_pasted_batch_list_is_a_form_error(personas, login):
    response = answering(login(personas.regular)).post(
        curl("batch_new", personas.company),
        {"kind": "team_vmr", "action": "delete", "text": "a\x00b@acme-a.onpexip.com"},
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert not BatchJob.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (f"Big Cell,big@x.example,{'b' * 140_000}\n".encode(), "a cell is longer than 131072"),
        (b"Nul Person,nul@x.example,nul.person\x00\n", "NUL"),
        (
            b'"Open quote,open@x.example,open.quote\nNext,next@x.example,next.one\n',
            "does not end on this line",
        ),
        (b"Ctrl\x01Name,ctrl@x.example,ctrl.name\n", "Control characters"),
    ],
    ids=["huge cell", "nul", "quote across lines", "control character"],
)
def test_a_bad_bulk_invite_file_gets_a_clear_message(personas, login, upload, message):
    client = answering(login(personas.regular))
    url = curl("user_bulk_invite", personas.company)
    for confirm in ("", "1"):
        response = client.post(
            url, {"confirm": confirm, "file": SimpleUploadedFile("users.csv", upload)}
        )
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Consumer.objects.exists() and not Invitation.objects.exists()


# --- 12. the batch address parser ----------------------------------------------------------------


def test_a_quoted_cell_across_lines_is_refused_with_its_line_number():
    text = 'first.room@x.example\n"second.room@x.example\nthird.room@x.example",note\n'
    with pytest.raises(batches.BatchInputError) as raised:
        batches.parse_address_list(text)
    assert raised.value.line_errors[0][0] == 2
    assert "does not end on this line" in raised.value.line_errors[0][1]


def test_quoted_cells_on_one_line_and_capitals_are_fine():
    text = 'address\n"First.Room@X.Example","a note, with a comma"\r\nsecond.room@x.example\r'
    assert batches.parse_address_list(text) == ["first.room@x.example", "second.room@x.example"]


@pytest.mark.parametrize(
    "value",
    [
        "a\x01b@x.example",
        "ab\x7f@x.example",
        "a\u200bb@x.example",  # zero-width space
        "a\u202eb@x.example",  # right-to-left override
        "a@b@x.example",
        "a b@x.example",
        "ab@x.",
        "ab@.example",
        "ab@localhost",
        "a" * 320 + "@x.example",
        '"ab@x.example',
    ],
    ids=repr,
)
def test_an_implausible_address_is_refused(value):
    with pytest.raises(batches.BatchInputError):
        batches.parse_address_list(f"good.one@x.example\n{value}\n")


# --- 13. no reminder for an invitation due for the purge; the real deletion date ----------------


@pytest.fixture
def invite(clock, make, closed_company, django_capture_on_commit_callbacks):
    add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 5)

    def _invite(alias="invitee.person"):
        with django_capture_on_commit_callbacks(execute=True):
            return make.user(alias, company=closed_company, email=f"{alias}@example.net")

    return _invite


def run_reminders(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return tasks.invitation_reminders_send.apply().get()


def bodies(message) -> tuple[str, str]:
    return message.body, message.alternatives[0][0]


def test_an_invitation_due_for_the_purge_gets_no_reminder(
    clock, invite, django_capture_on_commit_callbacks
):
    """Beat was down: 61 days later both reminders are due, and so is the purge."""
    missed = invite()
    never_sent = invite("never.sent")
    Invitation.objects.filter(consumer=never_sent).update(sent_at=None)
    due = invite("due.today")
    mail.outbox.clear()
    clock.move_to(T0 + timedelta(days=61))
    Invitation.objects.filter(consumer=due).update(sent_at=T0 + timedelta(days=31))

    run = run_reminders(django_capture_on_commit_callbacks)
    assert (run["sent"], run["initial"]) == (1, 0)
    assert [m.to for m in mail.outbox] == [["due.today@example.net"]]
    assert invitations.invitations_purge() == 2
    assert not Consumer.objects.filter(pk__in=[missed.pk, never_sent.pk]).exists()
    assert run_reminders(django_capture_on_commit_callbacks)["sent"] == 0


def test_every_invitation_email_states_the_real_deletion_date(
    clock, invite, personas, django_capture_on_commit_callbacks
):
    consumer = invite()
    for part in bodies(mail.outbox[0]):
        assert "deleted on 5 March 2027" in part  # T0 + 60 days

    clock.move_to(T0 + timedelta(days=58))  # both reminders missed; two days before the purge
    run_reminders(django_capture_on_commit_callbacks)
    reminder = mail.outbox[-1]
    assert reminder.subject.startswith("Reminder")
    for part in bodies(reminder):
        assert "deleted on 5 March 2027" in part

    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_resend(actor=personas.regular, consumer=consumer)
    for part in bodies(mail.outbox[-1]):
        assert "deleted on 2 May 2027" in part  # 60 days from the re-send
    resent_at = T0 + timedelta(days=58)
    assert Invitation.objects.get(consumer=consumer).purge_at() == resent_at + timedelta(days=60)


def test_a_late_first_send_states_the_deletion_date_from_when_it_went_out(
    clock, invite, django_capture_on_commit_callbacks
):
    """The first send failed (broker down); the hourly job sends it 20 days later."""
    consumer = invite()
    Invitation.objects.filter(consumer=consumer).update(sent_at=None)
    mail.outbox.clear()
    clock.move_to(T0 + timedelta(days=20))
    assert run_reminders(django_capture_on_commit_callbacks)["initial"] == 1
    for part in bodies(mail.outbox[0]):
        assert "deleted on 25 March 2027" in part
    assert Invitation.objects.get(consumer=consumer).purge_at() == T0 + timedelta(days=80)


def test_a_resend_of_an_old_invitation_that_the_broker_delays_is_sent_not_purged(
    clock, invite, personas, django_capture_on_commit_callbacks
):
    consumer = invite()
    clock.move_to(T0 + timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_resend(actor=personas.regular, consumer=consumer)
    mail.outbox.clear()
    clock.move_to(T0 + timedelta(days=65))
    with django_capture_on_commit_callbacks(execute=False):  # the broker is down
        invitations.invitation_resend(actor=personas.regular, consumer=consumer)
    assert mail.outbox == []
    clock.move_to(T0 + timedelta(days=65, hours=1))
    assert invitations.invitations_purge() == 0
    assert deliver()["sent"] == 1, "the periodic outbox job sends it"
    for part in bodies(mail.outbox[0]):
        assert "deleted on 9 May 2027" in part  # 60 days from the re-send


def test_no_reminder_on_the_last_day_before_the_purge(
    clock, invite, django_capture_on_commit_callbacks
):
    """The purge runs daily: an invitation it deletes within a day gets no reminder."""
    invite()
    mail.outbox.clear()
    Invitation.objects.update(sent_at=T0 - timedelta(days=59, hours=23, minutes=58))
    assert run_reminders(django_capture_on_commit_callbacks)["sent"] == 0 and not mail.outbox
    Invitation.objects.update(sent_at=T0 - timedelta(days=58))
    assert run_reminders(django_capture_on_commit_callbacks)["sent"] == 1
