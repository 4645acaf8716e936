"""A second review of issues 16 and 17, as a user or an attacker would try them: what broke,
kept broken no more."""

from __future__ import annotations

import threading
import time

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse

from consumers.csv_input import csv_delimiter
from consumers.models import Consumer, ConsumerKind
from consumers.services import invitations
from consumers.services.deletion import delete_consumer_rows
from portal.models import OutboxMessage
from portal.outbox import outbox_send_due

# A line of quotes and separators: csv.Sniffer's regular expressions take quadratic time on it
# (40 s of CPU for 100 kB, hours for the 2 MB an upload may hold).
SNIFFER_TRAP = ('"' + "," * 500) * 200


def test_sniffing_the_separator_of_a_pathological_line_is_quick():
    started = time.monotonic()
    assert csv_delimiter(SNIFFER_TRAP) == ","  # 100 kB
    assert time.monotonic() - started < 2


def test_sniffing_still_reads_a_semicolon_file_whose_first_line_is_long():
    long_first = "Full name;Email;Alias;" + "x" * 10_000 + "\n"
    rows = "".join(f"Name {i};n{i}@x.example;name{i:03}\n" for i in range(40))
    assert csv_delimiter(long_first + rows) == ";"


def test_a_bulk_invite_upload_built_to_stall_the_sniffer_answers_quickly(personas, login):
    started = time.monotonic()
    response = login(personas.manager).post(
        reverse("consumers:user_bulk_invite", args=[personas.company.public_id]),
        {"file": SimpleUploadedFile("users.csv", (SNIFFER_TRAP[:50_000]).encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert time.monotonic() - started < 5
    assert not Consumer.objects.filter(company=personas.company).exists()


def test_a_re_send_racing_the_purge_leaves_no_email_for_the_purged_invitee(
    transactional_db, personas, make
):
    """The purge deletes an invitee while a manager re-sends the invitation: the re-send either
    goes first (the purge then skips the row) or finds the invitation gone. It never writes an
    email to an invitee whose personal data the purge has just deleted."""
    user = make.user("pat.example", email="pat@x.example", full_name="Pat Example")
    about = f"consumer:{user.pk}"
    purging, resend_started = threading.Event(), threading.Event()

    def purge() -> None:
        try:
            with transaction.atomic():
                locked = Consumer.objects.select_for_update().filter(pk=user.pk)
                ids = list(locked.values_list("pk", flat=True))
                delete_consumer_rows(
                    dict.fromkeys(ids, ConsumerKind.USER), actor_id=None, action="invitation_purged"
                )
                purging.set()
                resend_started.wait(10)
                time.sleep(1)  # the re-send is waiting on the purge's locks by now
        finally:
            connection.close()

    thread = threading.Thread(target=purge)
    thread.start()
    assert purging.wait(10)
    resend_started.set()
    with pytest.raises(Exception) as raised:
        invitations.invitation_resend(actor=personas.manager, consumer=user)
    thread.join(10)
    assert "no pending invitation" in str(raised.value)
    assert not OutboxMessage.objects.filter(about=about).exists()
    assert not OutboxMessage.objects.filter(to__contains=["pat@x.example"]).exists()


def test_an_invitation_link_is_not_kept_in_the_outbox_nor_shown_to_ops(personas, make, login):
    """The acceptance link activates the invitee's account for whoever opens it, like a
    password reset link: the outbox sends it and keeps no copy, and ops reading the outbox in
    admin never see it."""
    user = make.user("pat.example", email="pat@x.example", full_name="Pat Example")
    message = OutboxMessage.objects.get(about=f"consumer:{user.pk}", name="invitation")
    assert "/invite/" in message.text
    page = login(personas.ops).get(reverse("admin:portal_outboxmessage_change", args=[message.pk]))
    assert page.status_code == 200
    assert "/invite/" not in page.content.decode()
    outbox_send_due()
    assert mail.outbox and "/invite/" in mail.outbox[-1].body
    message.refresh_from_db()
    assert (message.status, message.text, message.html) == ("sent", "", "")
