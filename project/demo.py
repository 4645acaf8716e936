"""The living part of the demo data (seed_demo): PSTN dial-in numbers, endpoint call history,
and pending invitations at day 9, 29 and 59 of their lifecycle, so that the first visit shows
re-sends and deletion dates, and the demo's jobs (`make run`) re-send the day-9 one minutes
after start-up.

Each part is seeded once (idempotent): the dial-in numbers and the invitees by their natural
keys, the calls by their call ids.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from consumers import services
from consumers.models import (
    INVITE_FIRST_RESEND,
    INVITE_SECOND_RESEND,
    CallDirection,
    Consumer,
    ConsumerKind,
    Invitation,
)
from consumers.services.common import audit_many
from consumers.services.ingest import call_records_ingest
from handouts.dial_in import dial_in_number_save
from handouts.models import DialInNumber
from portal.models import AuditEvent, Company

DIAL_IN_NUMBERS = [
    # (country, label, number as callers dial it)
    ("GB", "London", "+44 20 7946 0000"),
    ("US", "New York", "+1 212 555 0100"),
    ("NO", "Oslo", "+47 21 00 00 00"),
    ("DE", "Frankfurt", "+49 69 1234 5678"),
]

# The invitation that the demo's jobs re-send (its day 10) this long after it is seeded: long
# enough to see it "sent 9 days ago" on the first visit, short enough to see the re-send happen
# (the jobs run every minute under `make run`).
FIRST_RESEND_AFTER_SEED = timedelta(minutes=2)
# (first name, last name, how long ago the invitation went out)
INVITATION_MILESTONES = [
    ("Nina", "Novak", INVITE_FIRST_RESEND - FIRST_RESEND_AFTER_SEED),  # day 9: re-sent soon
    ("Omar", "Okafor", timedelta(days=29, hours=6)),  # re-sent at day 10; day 30 is next
    ("Petra", "Pohl", timedelta(days=59, hours=6)),  # re-sent at 10 and 30; deleted at 60
]
MILESTONES_COMPANY = "Acme Paid Ltd"

CALLS_PER_ENDPOINT = 14
CALL_PEERS = [
    ("alice.jones@partner.example", "Alice Jones", "198.51.100.23"),
    ("sales-huddle@onpexip.com", "Sales huddle", "203.0.113.7"),
    ("+4722000000@pstn.example", "", "192.0.2.41"),
    ("boardroom-2@customer.example", "Oslo Boardroom", "198.51.100.99"),
]


def seed_living_demo(ops: Any) -> None:
    """The dial-in numbers, the call history of every endpoint and the invitation milestones."""
    seed_dial_in_numbers(ops)
    seed_call_history()
    company = Company.objects.filter(name=MILESTONES_COMPANY).first()
    if company is not None:
        seed_invitation_milestones(ops, company)


def seed_dial_in_numbers(ops: Any) -> None:
    """Through the service operations use in Django admin (a valid number, stored as E.164)."""
    for sort_order, (country, label, number) in enumerate(DIAL_IN_NUMBERS):
        if not DialInNumber.objects.filter(country=country, label=label).exists():
            dial_in_number_save(
                actor=ops,
                number=DialInNumber(
                    country=country, label=label, number=number, sort_order=sort_order
                ),
            )


def seed_call_history() -> None:
    """Two weeks of calls on every endpoint, through the ingest the call platform posts to; a
    call id per call, so a second run stores nothing."""
    endpoints = Consumer.objects.filter(kind=ConsumerKind.ENDPOINT).order_by("pk")
    records = [
        call
        for endpoint in endpoints
        if not endpoint.call_records.exists()
        for call in demo_calls(endpoint, timezone.now())
    ]
    if records:
        call_records_ingest(records=records)


def demo_calls(endpoint: Consumer, now: datetime) -> list[dict[str, Any]]:
    """The endpoint's calls: about one a day, in office hours, of varied length and peer."""
    day_start = now.replace(hour=9, minute=0, second=0, microsecond=0)
    calls = []
    for i in range(CALLS_PER_ENDPOINT):
        address, name, ip = CALL_PEERS[i % len(CALL_PEERS)]
        started = day_start - timedelta(days=i + 1, minutes=-37 * (i % 9))
        calls.append(
            {
                "endpoint": endpoint.address,
                "call_id": f"demo-{endpoint.public_id}-{i}",
                "started_at": started.isoformat(),
                "duration_seconds": 60 * (5 + (i * 17) % 55) + (i * 13) % 60,
                "direction": CallDirection.OUTBOUND if i % 3 else CallDirection.INBOUND,
                "remote_address": address,
                "remote_display_name": name,
                "remote_ip": ip,
            }
        )
    return calls


def seed_invitation_milestones(actor: Any, company: Company) -> None:
    """Pending invitations sent 9, 29 and 59 days ago, with the re-sends they have had (their
    audit events and stamps, as the reminder job leaves them)."""
    slug = company.slug.split("-")[0]
    now = timezone.now()
    for first, last, age in INVITATION_MILESTONES:
        alias = f"{first}.{last}".lower()
        if Consumer.objects.filter(company=company, alias=alias).exists():
            continue
        consumer = services.user_invite(
            actor=actor,
            company=company,
            full_name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}@{slug}.example",
            alias=alias,
        )
        backdate_invitation(consumer, sent_at=now - age, now=now)


def backdate_invitation(consumer: Consumer, *, sent_at: datetime, now: datetime) -> None:
    """As if the invitation had gone out at `sent_at` and the reminder job had run since."""
    stamps: dict[str, datetime | None] = {"first_reminder_at": None, "second_reminder_at": None}
    resends = []
    for field, after in (
        ("first_reminder_at", INVITE_FIRST_RESEND),
        ("second_reminder_at", INVITE_SECOND_RESEND),
    ):
        if sent_at + after <= now:
            stamps[field] = sent_at + after
            resends.append((after.days, sent_at + after))
    Invitation.objects.filter(consumer=consumer).update(
        sent_at=sent_at, created_at=sent_at, **stamps
    )
    Consumer.objects.filter(pk=consumer.pk).update(created_at=sent_at)
    AuditEvent.objects.filter(object_id=str(consumer.public_id)).update(created_at=sent_at)
    for day, at in resends:
        rows = [(consumer.public_id, ConsumerKind.USER)]
        audit_many(None, consumer.company, "invitation_reminder", rows, data={"day": day})
        AuditEvent.objects.filter(object_id=str(consumer.public_id), data__day=day).update(
            created_at=at
        )
