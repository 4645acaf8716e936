"""The invitation lifecycle: email, acceptance, re-sends at 10 and 30 days, purge at 60."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial

import psycopg
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consumers import tasks
from consumers.models import Address, Consumer, ConsumerStatus, Invitation
from consumers.seats import seats_of
from consumers.services import invitations
from licensing.models import LicenceKind
from tests.conftest import T0, add_licence, raised, requires_postgres, run_at_once
from tests.mailing import deliver, waiting

EMAIL = "invitee.person@example.net"


@pytest.fixture
def invite(clock, make, closed_company, django_capture_on_commit_callbacks):
    """Invites a user (the email sent at once) into a company with 5 seats and no evaluation."""
    add_licence(closed_company, LicenceKind.ENTERPRISE_USER, 5)

    def _invite(email=EMAIL, alias="invitee.person", name="Invitee Person"):
        with django_capture_on_commit_callbacks(execute=True):
            return make.user(alias, company=closed_company, email=email, full_name=name)

    return _invite


def link_of(message) -> str:
    return re.search(r"http://portal\.test(/invite/[0-9a-f]{64}/)", message.body).group(1)


def test_invitation_email_has_addresses_branding_and_an_accept_link(clock, invite, client):
    consumer = invite()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    assert "Acme A invites you" in message.subject and not message.subject.startswith("Reminder")
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "invitee.person@acme-a.onpexip.com" in part
        assert "invitee.person.vmr@acme-a.onpexip.com" in part
        assert "Partner A" in part
    path = link_of(message)
    assert path in html
    invitation = Invitation.objects.get(consumer=consumer)
    assert invitation.sent_at == T0
    token = path.split("/")[2]
    assert token not in (invitation.token_hash, invitation.token_nonce), "only a hash is stored"

    page = client.get(path)
    assert page.status_code == 200
    assert b"Acme A" in page.content and b"invitee.person@acme-a.onpexip.com" in page.content
    accepted = client.post(path)
    assert (
        b"Welcome" in accepted.content
        and b"invitee.person.vmr@acme-a.onpexip.com" in accepted.content
    )
    consumer.refresh_from_db()
    assert consumer.status == ConsumerStatus.ACTIVE


def test_every_kind_of_invalid_link_gets_the_same_page(clock, invite, client, personas):
    invite()
    used = link_of(mail.outbox[0])
    client.post(used)
    revoked_consumer = invite(email="r@example.net", alias="revoked.user")
    revoked = link_of(mail.outbox[-1])
    invitations.invitation_revoke(actor=personas.regular, consumer=revoked_consumer)
    candidates = {
        "used": used,
        "revoked": revoked,
        "malformed": "/invite/not-a-token/",
        "unknown": "/invite/" + "0" * 64 + "/",
        "truncated": used[:-10] + "/",
    }
    bodies = set()
    for kind, path in candidates.items():
        response = client.get(path)
        assert response.status_code == 404, kind
        assert b"This invitation link is not valid" in response.content, kind
        bodies.add(response.content)
        assert client.post(path).status_code == 404, kind
    assert len(bodies) == 1, "no information leaks through the wording"
    with pytest.raises(ValidationError):
        invitations.invitation_accept(token="x" * 64)


def reminders(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return tasks.invitation_reminders_send.apply().get()


def test_day_boundaries_resend_at_10_and_30_and_purge_at_60(
    clock, invite, personas, django_capture_on_commit_callbacks
):
    consumer = invite()
    first_link = link_of(mail.outbox[0])
    mail.outbox.clear()

    clock.move_to(T0 + timedelta(days=9, hours=23, minutes=59))
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0
    assert mail.outbox == []

    clock.move_to(T0 + timedelta(days=10))
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("Reminder:")
    assert link_of(mail.outbox[0]) == first_link, "the same link"
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0

    clock.move_to(T0 + timedelta(days=29, hours=23))
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0
    clock.move_to(T0 + timedelta(days=30))
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 1
    assert len(mail.outbox) == 2
    clock.move_to(T0 + timedelta(days=45))
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0

    clock.move_to(T0 + timedelta(days=59, hours=23))
    assert tasks.invitations_purge.apply().get() == 0
    assert Consumer.objects.filter(pk=consumer.pk).exists()
    clock.move_to(T0 + timedelta(days=60))
    assert tasks.invitations_purge.apply().get() == 1
    assert not Consumer.objects.filter(pk=consumer.pk).exists()
    assert not Address.objects.filter(address__startswith="invitee.person").exists()
    assert tasks.invitations_purge.apply().get() == 0
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("expired", [3, 4])
def test_purge_takes_every_expired_invitation_across_batches(clock, invite, monkeypatch, expired):
    """Batches of 2: a remainder (3) and an exact multiple (4) are both purged in full, an
    unexpired invitation and one never sent (expiring from its creation) are handled too."""
    monkeypatch.setattr(invitations, "PURGE_BATCH_SIZE", 2)
    old = [invite(email=f"old{i}@example.net", alias=f"expired.{i}") for i in range(expired - 1)]
    never_sent = invite(email="unsent@example.net", alias="never.sent")
    Invitation.objects.filter(consumer=never_sent).update(sent_at=None)
    clock.move_to(T0 + timedelta(days=30))
    fresh = invite(email="fresh@example.net", alias="fresh.one")
    clock.move_to(T0 + timedelta(days=61))
    assert invitations.invitations_purge() == expired
    assert not Consumer.objects.filter(pk__in=[c.pk for c in [*old, never_sent]]).exists()
    assert list(Consumer.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert invitations.invitations_purge() == 0


def test_the_purge_goes_batch_by_batch_and_spares_an_invitee_who_accepted_meanwhile(
    clock, invite, monkeypatch
):
    """Listed once, purged a batch at a time by id, each still expired under the lock."""
    monkeypatch.setattr(invitations, "PURGE_BATCH_SIZE", 2)
    expired = [invite(email=f"gone{i}@example.net", alias=f"gone.person.{i}") for i in range(3)]
    clock.move_to(T0 + timedelta(days=61))
    batches = invitations.work_list_batches

    def accept_after_the_first_batch(ids, size):
        for n, batch in enumerate(batches(ids, size)):
            if n == 1:  # the last invitee accepts (late) while the first batch is purged
                Invitation.objects.filter(consumer=expired[2]).update(accepted_at=T0)
            yield batch

    monkeypatch.setattr(invitations, "work_list_batches", accept_after_the_first_batch)
    assert invitations.invitations_purge() == 2
    assert list(Consumer.objects.values_list("pk", flat=True)) == [expired[2].pk]
    assert invitations.invitations_purge() == 0


def test_when_both_reminders_are_due_one_email_goes_and_both_are_stamped(
    clock, invite, django_capture_on_commit_callbacks
):
    consumer = invite()
    mail.outbox.clear()
    clock.move_to(T0 + timedelta(days=31))  # beat was down for three weeks
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 1
    assert len(mail.outbox) == 1
    invitation = Invitation.objects.get(consumer=consumer)
    assert invitation.first_reminder_at and invitation.second_reminder_at
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0


def test_reminders_go_batch_by_batch_each_once_and_none_to_an_invitee_who_accepted_meanwhile(
    clock, invite, client, monkeypatch, django_capture_on_commit_callbacks
):
    """The due invitations are listed once and claimed a batch at a time, each batch by its own
    ids (so a batch costs what its rows cost, however many went before): one accepted after
    the list was read, before its batch, gets no reminder."""
    monkeypatch.setattr(invitations, "BATCH_SIZE", 3)  # the company has 5 seats
    due = [invite(email=f"due{i}@example.net", alias=f"due.person.{i}") for i in range(4)]
    clock.move_to(T0 + timedelta(days=5))
    invite(email="notyet@example.net", alias="not.yet")
    links = {m.to[0]: link_of(m) for m in mail.outbox}
    mail.outbox.clear()
    clock.move_to(T0 + timedelta(days=10))
    claim = invitations._reminders_batch
    batches: list[list[int]] = []

    def claim_then_accept_the_last(now, ids, run):
        batches.append(list(ids))
        claim(now, ids, run)
        if len(batches) == 1:  # the last invitee accepts while the first batch is sent
            client.post(links["due3@example.net"])

    monkeypatch.setattr(invitations, "_reminders_batch", claim_then_accept_the_last)
    with CaptureQueriesContext(connection) as queries:
        run = reminders(django_capture_on_commit_callbacks)
    listed = [pk for batch in batches for pk in batch]
    assert listed == sorted(
        Invitation.objects.filter(consumer__in=due).values_list("pk", flat=True)
    )
    assert [len(batch) for batch in batches] == [3, 1]
    if connection.features.has_select_for_update:  # SQLite has no row locks to show
        claims = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
        assert len(claims) == 2 and all("IN (" in sql or "ANY(" in sql for sql in claims)
    assert run["sent"] == 3
    assert sorted(m.to[0] for m in mail.outbox) == [f"due{i}@example.net" for i in range(3)]
    assert Invitation.objects.get(consumer=due[3]).first_reminder_at is None
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0


def test_accepted_invitations_are_neither_reminded_nor_purged(
    clock, invite, client, django_capture_on_commit_callbacks
):
    consumer = invite()
    client.post(link_of(mail.outbox[0]))
    mail.outbox.clear()
    clock.move_to(T0 + timedelta(days=70))
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0
    assert invitations.invitations_purge() == 0
    consumer.refresh_from_db()
    assert consumer.status == ConsumerStatus.ACTIVE


def test_resend_restarts_the_schedule(
    clock, invite, personas, client, django_capture_on_commit_callbacks
):
    consumer = invite()
    mail.outbox.clear()
    clock.move_to(T0 + timedelta(days=10))
    reminders(django_capture_on_commit_callbacks)
    clock.move_to(T0 + timedelta(days=25))
    client.force_login(personas.regular)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(
                "consumers:invitation_resend", args=[personas.company.public_id, consumer.public_id]
            ),
            follow=True,
        )
    assert b"Reminders now follow 10 and 30 days from today" in response.content
    assert len(mail.outbox) == 2 and not mail.outbox[1].subject.startswith("Reminder")
    invitation = Invitation.objects.get(consumer=consumer)
    assert invitation.sent_at == T0 + timedelta(days=25)
    assert invitation.first_reminder_at is None
    clock.move_to(T0 + timedelta(days=34))
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0
    clock.move_to(T0 + timedelta(days=35))
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 1
    clock.move_to(T0 + timedelta(days=84))
    assert invitations.invitations_purge() == 0
    clock.move_to(T0 + timedelta(days=85))
    assert invitations.invitations_purge() == 1


def test_a_refused_send_waits_in_the_outbox_and_goes_once_the_server_is_back(
    clock, invite, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse = True
    consumer = invite()  # stamped and written; the mail server refuses it for now
    invitation = Invitation.objects.get(consumer=consumer)
    assert invitation.sent_at == T0 and smtp_server.messages == []
    (message,) = waiting(name="invitation")
    assert (message.attempts, message.to) == (1, [EMAIL])

    clock.move_to(T0 + timedelta(minutes=20))
    assert reminders(django_capture_on_commit_callbacks) == {"sent": 0, "initial": 0}
    smtp_server.refuse = False
    assert deliver() == {"sent": 1, "retry": 0, "failed": 0}
    assert deliver()["sent"] == 0
    assert len(smtp_server.messages) == 1

    clock.move_to(T0 + timedelta(days=10))
    smtp_server.refuse = True
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 1
    invitation.refresh_from_db()
    assert invitation.first_reminder_at == T0 + timedelta(days=10), "stamped with its email"
    assert reminders(django_capture_on_commit_callbacks)["sent"] == 0
    smtp_server.refuse = False
    clock.shift(timedelta(minutes=1))
    assert deliver()["sent"] == 1
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[-1]["Subject"].startswith("Reminder:")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_reminder_once(clock, personas, make):
    requires_postgres()
    add_licence(personas.company, LicenceKind.ENTERPRISE_WIDE, None)
    for i in range(30):
        make.user(f"person-{i:03}", email=f"p{i}@example.net")
    Invitation.objects.update(sent_at=T0)
    mail.outbox.clear()
    run = partial(invitations.invitation_reminders_send, now=T0 + timedelta(days=11))
    results = run_at_once(run, run)
    assert raised(results) == []
    assert sum(r.sent for r in results) == 30
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(f"p{i}@example.net" for i in range(30)), "each exactly once"


def test_purge_leaves_no_personal_data_anywhere_and_frees_the_seat(
    clock, invite, personas, django_capture_on_commit_callbacks
):
    requires_postgres()
    invite(email="Unique.Purge-Me@Example.net", alias="purge.me", name="Zebediah Purgeable")
    company = personas.company
    assert seats_of(company=company, family="enterprise").used == 1
    clock.move_to(T0 + timedelta(days=60))
    assert invitations.invitations_purge() == 1
    assert seats_of(company=company, family="enterprise").used == 0
    needles = ["unique.purge-me", "zebediah"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('character varying', 'text', 'jsonb', 'json', 'character')"
        )
        columns = cursor.fetchall()
        assert len(columns) > 20
        found = []
        for table, column in columns:
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append((table, column, needle))
    assert found == []


def test_the_users_tab_shows_pending_invitations_with_dates(clock, invite, personas, client):
    invite()
    client.force_login(personas.read_only)
    response = client.get(
        reverse("consumers:user_list", args=[personas.company.public_id]), {"pending": "1"}
    )
    assert b"Next re-send" in response.content
    sent, resend = b"4 Jan 2027", b"14 Jan 2027"  # T0, and ten days later
    assert sent in response.content and resend in response.content


@pytest.mark.django_db(transaction=True)
def test_the_purge_skips_an_invitation_another_transaction_holds_and_never_waits(
    clock, personas, make
):
    """An invitee accepting at the moment of the purge holds their invitation's row: the purge
    passes it by (no wait, so no deadlock whatever order the acceptance locks in) and purges the
    rest; the next run takes it if it is still expired."""
    requires_postgres()
    add_licence(personas.company, LicenceKind.ENTERPRISE_WIDE, None)
    held, other = (make.user(f"expired.person.{i}", email=f"x{i}@example.net") for i in range(2))
    clock.move_to(T0 + timedelta(days=61))
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    ) as accepting:
        accepting.execute(
            "SELECT 1 FROM consumers_invitation WHERE consumer_id = %s FOR UPDATE", [held.pk]
        )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a wait fails the test, not hangs it
        try:
            assert invitations.invitations_purge() == 1
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert list(Consumer.objects.values_list("pk", flat=True)) == [held.pk]
        accepting.rollback()
    assert invitations.invitations_purge() == 1
    assert not Consumer.objects.filter(pk__in=[held.pk, other.pk]).exists()
