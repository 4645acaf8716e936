"""Consumers: one table for Users, Team VMRs and Endpoints, so that addresses, batch actions and
handouts treat them alike. Kind-specific data lives beside it."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from licensing.seats import ENTERPRISE, ROOM
from portal.jobs import LongJobQuerySet

from .tokens import new_nonce

VMR_SUFFIX = ".vmr"

# The invitation schedule, counted from when the invitation (or its latest manual re-send) went
# out: re-sent at 10 and at 30 days, deleted with the invitee's personal data at 60 days.
INVITE_FIRST_RESEND = timedelta(days=10)
INVITE_SECOND_RESEND = timedelta(days=30)
INVITE_PURGE_AFTER = timedelta(days=60)
# An invitation whose first send never succeeded (broker or SMTP down) is picked up by the
# hourly job after this grace period, so nothing is lost.
INVITE_UNSENT_GRACE = timedelta(minutes=15)
# The purge runs daily: an invitation it deletes within a day gets no more reminders (a link
# that dies before the invitee reads the email helps nobody).
INVITE_NO_REMINDER_BEFORE_PURGE = timedelta(days=1)


# A call record starts between these (the ingest refuses others, the calls page shows no
# others): earlier or later cannot be a real call, and a time near year 1 or 9999 cannot even be
# shown in every time zone. A platform's clock may run a little ahead; a day is plenty.
CALL_EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
CALL_START_AHEAD = timedelta(days=1)
CALL_MAX_DURATION = timedelta(days=7)


def call_start_bounds(now: datetime) -> tuple[datetime, datetime]:
    """(earliest, latest) start of a call record, at `now`."""
    return CALL_EARLIEST_START, now + CALL_START_AHEAD


def new_sip_password() -> str:
    return secrets.token_urlsafe(18)


class ConsumerKind(models.TextChoices):
    USER = "user", "User"
    TEAM_VMR = "team_vmr", "Team VMR"
    ENDPOINT = "endpoint", "Endpoint"


# The kinds that are meeting rooms a phone can dial into: a user's personal VMR and a team VMR.
# Each gets a conference ID (consumers.conference_ids allocates it); an endpoint is a device.
ROOM_KINDS = (ConsumerKind.USER, ConsumerKind.TEAM_VMR)
# A conference ID is 6 to 9 digits with no leading zero: as an integer, these bounds say it all.
CONFERENCE_ID_MIN = 100_000
CONFERENCE_ID_MAX = 999_999_999


def seat_family(kind: str) -> str:
    """Which licences a consumer kind draws on: enterprise seats (users, team VMRs) or room
    seats (endpoints)."""
    return ROOM if kind == ConsumerKind.ENDPOINT else ENTERPRISE


class ConsumerStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


# Statuses that hold a licence seat (when not a trial): Consumer.holds_seat and
# ConsumerQuerySet.holding_seats say it for one consumer and in SQL.
SEAT_STATUSES = (ConsumerStatus.INVITED, ConsumerStatus.ACTIVE)
# A consumer that holds a paid seat (what the seat counts count): the one condition, for the
# queries (ConsumerQuerySet.holding_seats) and for the partial index that answers them.
HOLDING_SEAT = Q(status__in=[str(status) for status in SEAT_STATUSES], is_trial=False)


class InactiveReason(models.TextChoices):
    TRIAL_ENDED = "trial_ended", "Evaluation ended"
    LICENCE_ENDED = "licence_ended", "Licence ended"
    DEACTIVATED = "deactivated", "Deactivated by staff"


class UsageModel(models.TextChoices):
    SHARED = "shared", "Shared"
    PERSONAL = "personal", "Personal"


class ConsumerQuerySet(models.QuerySet):
    def holding_seats(self) -> ConsumerQuerySet:
        return self.filter(HOLDING_SEAT)

    def in_seat_statuses(self) -> ConsumerQuerySet:
        """Invited or active, trial or not: what loses its place when a seat goes away."""
        return self.filter(status__in=SEAT_STATUSES)


class Consumer(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(
        "portal.Company", on_delete=models.CASCADE, related_name="consumers"
    )
    kind = models.CharField(max_length=16, choices=ConsumerKind.choices)
    alias = models.CharField(max_length=64)
    # Fixed at creation: an address never moves to another domain.
    domain = models.CharField(max_length=253)
    # RESTRICT: a calling domain in use cannot be deleted, unless both go in the same cascade
    # (the company is deleted).
    calling_domain = models.ForeignKey(
        "domains.CallingDomain",
        on_delete=models.RESTRICT,
        related_name="consumers",
        null=True,
        blank=True,
    )
    display_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=16, choices=ConsumerStatus.choices, default=ConsumerStatus.ACTIVE
    )
    inactive_reason = models.CharField(max_length=32, choices=InactiveReason.choices, blank=True)
    is_trial = models.BooleanField(default=False)
    cost_centre = models.CharField(max_length=100, blank=True)
    description_tag = models.CharField(max_length=100, blank=True)
    # What a phone caller enters after dialling a PSTN dial-in number to reach this room (users'
    # personal VMRs and team VMRs only). Unique service-wide; set once, in the transaction that
    # creates the room (consumers.conference_ids), never edited.
    conference_id = models.PositiveIntegerField(
        null=True, blank=True, editable=False, verbose_name="conference ID"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsumerQuerySet.as_manager()

    class Meta:
        ordering = ["alias"]
        indexes = [
            models.Index(fields=["company", "kind", "alias"]),
            models.Index(fields=["company", "kind", "display_name"]),
            models.Index(fields=["company", "kind", "status"]),
            models.Index(fields=["company", "kind", "-created_at"]),
            # The seat counts (consumers.seats.seats_used, on every list page's Add button and
            # every add): counted from this index alone, without reading the rows.
            models.Index(
                fields=["company", "kind"], condition=HOLDING_SEAT, name="consumer_seats_idx"
            ),
        ]
        constraints = [
            # The address as a whole is unique through Address; this keeps the pair honest too.
            models.UniqueConstraint(fields=["alias", "domain"], name="consumer_address_unique"),
            # A caller's conference ID reaches one room, service-wide, even under concurrent
            # allocations (the allocator retries on this constraint).
            models.UniqueConstraint(fields=["conference_id"], name="consumer_conference_id_unique"),
            models.CheckConstraint(
                condition=Q(conference_id__isnull=True)
                | Q(conference_id__gte=CONFERENCE_ID_MIN, conference_id__lte=CONFERENCE_ID_MAX),
                name="consumer_conference_id_format",
            ),
            models.CheckConstraint(
                condition=Q(conference_id__isnull=True) | Q(kind__in=ROOM_KINDS),
                name="consumer_conference_id_rooms_only",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.alias}@{self.domain}"

    @property
    def vmr_address(self) -> str | None:
        if self.kind != ConsumerKind.USER:
            return None
        return personal_vmr_address(self.alias, self.domain)

    @property
    def holds_seat(self) -> bool:
        """Whether this consumer takes a licence seat (so deleting it frees one)."""
        return self.status in SEAT_STATUSES and not self.is_trial


class AddressPurpose(models.TextChoices):
    PRIMARY = "primary", "Address"
    PERSONAL_VMR = "personal_vmr", "Personal VMR"


def personal_vmr_address(alias: str, domain: str) -> str:
    return f"{alias}{VMR_SUFFIX}@{domain}"


def address_rows(alias: str, domain: str, kind: str) -> list[tuple[str, str]]:
    """Every address a consumer takes: its own, and a user's personal VMR address with it."""
    rows = [(f"{alias}@{domain}", AddressPurpose.PRIMARY)]
    if kind == ConsumerKind.USER:
        rows.append((personal_vmr_address(alias, domain), AddressPurpose.PERSONAL_VMR))
    return rows


class Address(models.Model):
    """Every address in use or reserved across the whole service, one row each.

    The unique constraint on `address` is what makes a consumer's address and a user's
    personal VMR address unique together, service-wide, even under concurrent adds.
    """

    address = models.CharField(max_length=320, unique=True)
    consumer = models.ForeignKey(Consumer, on_delete=models.CASCADE, related_name="address_rows")
    purpose = models.CharField(max_length=16, choices=AddressPurpose.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer", "purpose"], name="address_one_per_purpose")
        ]
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return self.address


def _purge_due_q(now: datetime) -> Q:
    """InvitationQuerySet.purge_due as a condition (Invitation.purge_at for one invitation)."""
    cutoff = now - INVITE_PURGE_AFTER
    sent_before = Q(sent_at__lte=cutoff) | Q(sent_at__isnull=True, created_at__lte=cutoff)
    return sent_before & Q(accepted_at__isnull=True)


class InvitationQuerySet(models.QuerySet):
    """The invitation schedule in SQL, for the jobs (Invitation.next_resend_at is the same
    schedule for one invitation)."""

    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, consumer__status=ConsumerStatus.INVITED)

    def resend_due(self, now: datetime) -> InvitationQuerySet:
        """Due for a re-send at 10 or 30 days, or never sent (after a grace period); never one
        the purge deletes within INVITE_NO_REMINDER_BEFORE_PURGE (after downtime, both can be
        due at once: the invitee would get a link that dies with the purge)."""
        first = Q(first_reminder_at__isnull=True, sent_at__lte=now - INVITE_FIRST_RESEND)
        second = Q(second_reminder_at__isnull=True, sent_at__lte=now - INVITE_SECOND_RESEND)
        unsent = Q(sent_at__isnull=True, created_at__lte=now - INVITE_UNSENT_GRACE)
        soon_purged = _purge_due_q(now + INVITE_NO_REMINDER_BEFORE_PURGE)
        return self.filter(first | second | unsent).exclude(soon_purged)

    def purge_due(self, now: datetime) -> InvitationQuerySet:
        """Unanswered 60 days after they were sent (or created, if never sent)."""
        return self.filter(_purge_due_q(now))


class Invitation(models.Model):
    """A user's invitation: the invitee's personal data, deleted by the 60-day purge."""

    consumer = models.OneToOneField(Consumer, on_delete=models.CASCADE, related_name="invitation")
    email = models.EmailField()
    full_name = models.CharField(max_length=200)
    # The link's token is derived from this nonce with SECRET_KEY (so re-sends carry the same
    # link); only its hash is stored for lookup.
    token_nonce = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    # When the invitation (or the latest manual re-send) went out: the 10 / 30 / 60-day
    # schedule counts from here. Set when its email is written to the outbox; null only for
    # invitations from before the outbox whose first send never went out.
    sent_at = models.DateTimeField(null=True, blank=True)
    first_reminder_at = models.DateTimeField(null=True, blank=True)
    second_reminder_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["sent_at"],
                name="invitation_pending_idx",
                condition=Q(accepted_at__isnull=True),
            ),
            models.Index(fields=["email"]),
        ]

    def __str__(self) -> str:
        return f"Invitation for consumer {self.consumer_id}"

    def next_resend_at(self) -> datetime | None:
        """When the next automatic re-send is due (None once both went out, or accepted)."""
        if self.accepted_at is not None or self.sent_at is None:
            return None
        if self.first_reminder_at is None:
            return self.sent_at + INVITE_FIRST_RESEND
        if self.second_reminder_at is None:
            return self.sent_at + INVITE_SECOND_RESEND
        return None

    def second_resend_due(self, now: datetime) -> bool:
        """Sent 30 days ago or more: a re-send now also counts as the second one."""
        return self.sent_at is not None and self.sent_at <= now - INVITE_SECOND_RESEND

    def purge_at(self) -> datetime | None:
        """When the unanswered invitation is deleted with the invitee's personal data."""
        if self.accepted_at is not None:
            return None
        return (self.sent_at or self.created_at) + INVITE_PURGE_AFTER


class TeamVmrSettings(models.Model):
    consumer = models.OneToOneField(
        Consumer, on_delete=models.CASCADE, related_name="team_vmr", primary_key=True
    )
    host_pin = models.CharField(max_length=20, blank=True)
    guest_pin = models.CharField(max_length=20, blank=True)

    class Meta:
        # "settings" is already plural: not "team vmr settingss" in Django admin.
        verbose_name = verbose_name_plural = "team VMR settings"

    def __str__(self) -> str:
        return f"Team VMR settings of consumer {self.consumer_id}"


class EndpointSettings(models.Model):
    consumer = models.OneToOneField(
        Consumer, on_delete=models.CASCADE, related_name="endpoint", primary_key=True
    )
    usage_model = models.CharField(
        max_length=16, choices=UsageModel.choices, default=UsageModel.SHARED
    )
    personal_user = models.ForeignKey(
        Consumer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="personal_endpoints",
        limit_choices_to={"kind": ConsumerKind.USER},
    )
    device_make = models.CharField(max_length=100, blank=True)
    device_model = models.CharField(max_length=100, blank=True)
    serial_number = models.CharField(max_length=100, blank=True)
    # The device needs the SIP password itself, so it is kept (not hashed); regenerate rotates it.
    sip_password = models.CharField(max_length=64, default=new_sip_password)
    # The provisioning URL's token is derived from this nonce (see tokens); its hash is the
    # lookup key. Rotating the nonce makes the old URL stop working.
    provisioning_nonce = models.CharField(max_length=64, default=new_nonce)
    provisioning_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "endpoint settings"

    def __str__(self) -> str:
        return f"Endpoint settings of consumer {self.consumer_id}"


class CallDirection(models.TextChoices):
    INBOUND = "in", "Incoming"
    OUTBOUND = "out", "Outgoing"


class CallRecordQuerySet(models.QuerySet):
    def plausible(self, *, now: datetime) -> CallRecordQuerySet:
        """Records whose start is within call_start_bounds."""
        earliest, latest = call_start_bounds(now)
        return self.filter(started_at__gte=earliest, started_at__lte=latest)


class CallRecord(models.Model):
    """An endpoint's call. Older than 3 months: anonymised in place (Shared endpoints) or
    deleted (Personal endpoints) by the nightly retention job."""

    # No index of its own: (consumer, -started_at) below serves the key. Every index of this
    # table is written for each record the retention job anonymises, night after night.
    consumer = models.ForeignKey(
        Consumer, on_delete=models.CASCADE, related_name="call_records", db_index=False
    )
    # Looked up by equality only (the ingest's de-duplication): migration 0015 drops the
    # pattern-matching (`_like`) index PostgreSQL gets besides the unique one.
    call_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(default=0)
    direction = models.CharField(max_length=16, choices=CallDirection.choices)
    remote_address = models.CharField(max_length=320, blank=True)
    remote_display_name = models.CharField(max_length=200, blank=True)
    remote_ip = models.GenericIPAddressField(null=True, blank=True)
    anonymized_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CallRecordQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["consumer", "-started_at"]),
            # The records the retention job has still to do (consumers.services.retention):
            # anonymised ones leave it, so the nightly run reads the day's newly aged records,
            # not the table.
            models.Index(
                fields=["started_at"],
                condition=models.Q(anonymized_at__isnull=True),
                name="callrecord_retention_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Call {self.direction} at {self.started_at:%Y-%m-%d %H:%M}"


class BatchAction(models.TextChoices):
    DELETE = "delete", "Delete"
    REACTIVATE = "reactivate", "Reactivate"


class BatchStatus(models.TextChoices):
    PREVIEW = "preview", "Preview"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


# A queued or running batch whose heartbeat (stamped when it is queued, when a run takes it and
# after each chunk, seconds apart) is older than this has no live run: its worker died, or the
# broker was down when it was confirmed. The recovery job queues it again.
BATCH_STALE_AFTER = timedelta(minutes=3)


class BatchJobQuerySet(LongJobQuerySet):
    STALE_AFTER = BATCH_STALE_AFTER


class BatchJob(models.Model):
    """A batch of one action over many consumers: previewed, confirmed, then run by a task."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("portal.Company", on_delete=models.CASCADE, related_name="batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=16, choices=ConsumerKind.choices)
    action = models.CharField(max_length=16, choices=BatchAction.choices)
    status = models.CharField(
        max_length=16, choices=BatchStatus.choices, default=BatchStatus.PREVIEW
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)  # runs that took it

    objects = BatchJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["company", "-created_at"]),
            # The recovery job's look-up, every minute: only the unfinished batches.
            models.Index(
                fields=["heartbeat_at"],
                name="batchjob_unfinished_idx",
                condition=Q(status__in=["queued", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} × {self.total} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.processed / self.total)

    @property
    def running(self) -> bool:
        return self.status in (BatchStatus.QUEUED, BatchStatus.RUNNING)


class ItemOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    SKIPPED = "skipped", "Skipped"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class BatchItem(models.Model):
    # The (batch, position) constraint's index serves lookups by batch: no index of its own.
    batch = models.ForeignKey(
        BatchJob, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    position = models.PositiveIntegerField()
    label = models.CharField(max_length=320)  # the address or input line, as shown in reports
    # A plain reference, not a constraint: deleting consumers leaves the batch items alone (the
    # label is what reports show, and ids are never reused). Otherwise every delete would also
    # rewrite the batch items that name the consumer, which doubled a batch delete's work.
    consumer = models.ForeignKey(
        Consumer,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    will_run = models.BooleanField(default=False)
    outcome = models.CharField(
        max_length=16, choices=ItemOutcome.choices, default=ItemOutcome.PENDING
    )
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="batch_item_position")
        ]
        # No index on outcome: the run claims items along (batch, position), and stamping an
        # outcome then changes no indexed column, so PostgreSQL can update the row in place.

    def __str__(self) -> str:
        return f"{self.label}: {self.outcome}"
