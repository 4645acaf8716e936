"""Tenancy: partners (the tenants), their staff and roles, their customer companies, audit."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django_countries.fields import CountryField


class Role(models.TextChoices):
    READ_ONLY = "read_only", "Read-only"
    REGULAR = "regular", "Regular"
    MANAGER = "manager", "Manager"


WRITE_ROLES = frozenset({Role.REGULAR, Role.MANAGER})


class CompanyState(models.TextChoices):
    PAID = "paid", "Paid"
    TRIAL_OPEN = "trial_open", "Trial (Open)"
    TRIAL_CLOSED = "trial_closed", "Trial (Closed)"


class Partner(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    support_email = models.EmailField(blank=True)
    brand_color = models.CharField(
        max_length=7,
        default="#1f4e79",
        help_text="Hex colour used in emails and handouts.",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1f4e79.")],
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerMembership(models.Model):
    """A Django user's role in one partner. A user belongs to one partner at most."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.READ_ONLY)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["user__email"]
        indexes = [models.Index(fields=["partner", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.partner} ({self.get_role_display()})"

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def can_manage_staff(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_invited(self) -> bool:
        return account_is_invited(self.user)


def account_is_invited(user: Any) -> bool:
    """A colleague invited to the staff who has not chosen a password yet: never signed in, no
    usable password. Their invitation (a set-password link) may be sent again, and a password
    reset sends them that link too."""
    return user.last_login is None and not user.has_usable_password()


def period_active_q(day: date, *, prefix: str = "") -> Q:
    """A dated period (`starts_on` to `ends_on`, both days included) is active on `day`.
    Licences are such periods. `period_active` below is the same rule in Python."""
    return Q(**{f"{prefix}starts_on__lte": day, f"{prefix}ends_on__gte": day})


def period_active(starts_on: date, ends_on: date, day: date) -> bool:
    return starts_on <= day <= ends_on


def evaluation_open_q(day: date, *, prefix: str = "") -> Q:
    """A company's Evaluation Mode is open on `day` (its last day included).
    `Company.evaluation_open_on` below is the same rule in Python."""
    return Q(**{f"{prefix}evaluation_ends_on__gte": day})


class CompanyQuerySet(models.QuerySet):
    def with_state(self, today: date | None = None) -> CompanyQuerySet:
        """Annotate `state_code` in SQL, so that list pages filter and show it in one query.

        "Paid" is `id IN (companies with an active licence)`: PostgreSQL hashes that subquery
        once, instead of probing the licences once per company. Portal sits below licensing and
        does not import it: it reads the licences through the relation licensing declares.
        """
        today = today or timezone.localdate()
        licences = Company.licences.rel  # type: ignore[attr-defined]
        active = licences.related_model.objects.filter(period_active_q(today))
        paid = Q(pk__in=active.values(licences.field.attname))
        return self.annotate(
            state_code=models.Case(
                models.When(paid, then=models.Value(CompanyState.PAID)),
                models.When(evaluation_open_q(today), then=models.Value(CompanyState.TRIAL_OPEN)),
                default=models.Value(CompanyState.TRIAL_CLOSED),
                output_field=models.CharField(),
            )
        )

    def search(self, query: str) -> CompanyQuerySet:
        query = query.strip()
        if not query:
            return self
        return self.filter(
            Q(name__icontains=query)
            | Q(reference__icontains=query)
            | Q(contact_name__icontains=query)
            | Q(contact_email__icontains=query)
        )


class Company(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="companies")
    name = models.CharField(max_length=200)
    # The label of the company's default service subdomain: unique across the service.
    slug = models.SlugField(max_length=63, unique=True, blank=True)
    country = CountryField(blank=True)
    reference = models.CharField(max_length=100, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField()
    evaluation_ends_on = models.DateField(null=True, blank=True)
    # Which evaluation end date each trial email was sent for (claims for the expiry job; an
    # extended evaluation gets its own reminders).
    trial_reminder_23_for = models.DateField(null=True, blank=True, editable=False)
    trial_reminder_7_for = models.DateField(null=True, blank=True, editable=False)
    trial_ended_for = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["partner", "name"]),
            models.Index(fields=["evaluation_ends_on"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Objects made with a plain create() must work everywhere, so the slug is filled here.
        if self.slug:
            super().save(*args, **kwargs)
            return
        for attempt in range(SLUG_ATTEMPTS):
            self.slug = unique_company_slug(self.name)
            try:
                # A company of the same name saved at the same moment may take this slug first
                # (the unique index decides, the savepoint keeps the transaction usable): then
                # the next free one.
                with transaction.atomic():
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                taken = Company.objects.filter(slug=self.slug).exists()
                if not taken or attempt == SLUG_ATTEMPTS - 1:
                    self.slug = ""
                    raise

    @property
    def state(self) -> str:
        annotated = getattr(self, "state_code", None)
        if annotated is not None:
            return annotated
        today = timezone.localdate()
        if self.licences.filter(period_active_q(today)).exists():  # type: ignore[attr-defined]
            return CompanyState.PAID
        if self.evaluation_open_on(today):
            return CompanyState.TRIAL_OPEN
        return CompanyState.TRIAL_CLOSED

    def get_state_display(self) -> str:
        return CompanyState(self.state).label

    def evaluation_open_on(self, day: date) -> bool:
        return self.evaluation_ends_on is not None and self.evaluation_ends_on >= day

    @property
    def evaluation_open(self) -> bool:
        return self.evaluation_open_on(timezone.localdate())

    @property
    def service_domain(self) -> str:
        return f"{self.slug}.{settings.SERVICE_DOMAIN}"


# How often a new company tries the next free slug when others of the same name take it first.
SLUG_ATTEMPTS = 10


# Labels of the service's own hosts under SERVICE_DOMAIN (and ones it may need): never a
# company's subdomain, so that no customer holds sip.<service> or join.<service>.
RESERVED_LABELS = frozenset(
    {"www", "mail", "smtp", "api", "admin", "portal", "app", "status", "sip", "sips", "h323"}
    | {"join", "meet", "turn", "stun", "conference", "provision", "provisioning"}
)


def reserved_labels() -> frozenset[str]:
    """RESERVED_LABELS and the first labels of the configured service hosts."""
    hosts = (settings.SIP_SERVICE_HOST, settings.H323_SERVICE_HOST)
    join = urlsplit(settings.ENDPOINT_QR_URL_TEMPLATE.replace("{address}", "x")).hostname or ""
    return RESERVED_LABELS | {h.split(".")[0] for h in (*hosts, join) if h}


def unique_company_slug(name: str) -> str:
    base = (slugify(name) or "company")[:50].strip("-") or "company"
    if base in reserved_labels():
        base = f"{base}-company"
    slug, n = base, 1
    while Company.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


class AuditEvent(models.Model):
    """Who did what to which object. Holds ids, never an invitee's personal data."""

    # No index of their own: the (partner, created_at) and (company, created_at) indexes below
    # serve the foreign keys too, and each index is written on every event (a batch of 10,000
    # deletions writes 10,000 events).
    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        related_name="audit_events",
        null=True,
        blank=True,
        db_index=False,
    )
    company = models.ForeignKey(
        Company,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        null=True,
        blank=True,
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["company", "-created_at"]),
            models.Index(fields=["partner", "-created_at"]),
            # The Activity tab's action filter, and an object's timeline (a consumer's, a
            # calling domain's detail page).
            models.Index(
                fields=["company", "action", "-created_at"], name="audit_company_action_idx"
            ),
            models.Index(fields=["object_id", "-created_at"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


# --- the outbox (portal.outbox) -----------------------------------------------------------------

# A message claimed for sending and neither stamped sent nor released after this long was lost in
# flight (the sender crashed, or its host went away): the periodic job takes it again. Far above
# the time one SMTP exchange may take (EMAIL_TIMEOUT per command).
OUTBOX_CLAIM_TIMEOUT = timedelta(minutes=15)


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class OutboxMessageQuerySet(models.QuerySet):
    def due(self, now: datetime) -> OutboxMessageQuerySet:
        """Waiting for (another) attempt, or claimed so long ago that its sender is gone."""
        waiting = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        lost = Q(status=OutboxStatus.SENDING, claimed_at__lte=now - OUTBOX_CLAIM_TIMEOUT)
        return self.filter(waiting | lost)


class OutboxMessage(models.Model):
    """An email, written in the transaction of the change that caused it and rendered then (it
    says what the change meant, whenever it leaves); portal.outbox sends it and stamps it.

    `about` names what the message is about (`consumer:<id>`, portal.outbox.about_key) without a
    foreign key to a higher app, so that deleting an invitee's personal data deletes their
    messages too. A message holding a sign-in link (`holds_secret`) loses its body once sent."""

    name = models.CharField(max_length=64)  # the email's name in portal.emails
    about = models.CharField(max_length=64, blank=True)
    from_email = models.CharField(max_length=254)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    subject = models.TextField()
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    holds_secret = models.BooleanField(default=False)
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)  # the latest attempt
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_waiting_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="outbox_claimed_idx",
                condition=Q(status__in=["sending", "failed"]),
            ),
            models.Index(fields=["sent_at"], name="outbox_sent_idx", condition=Q(status="sent")),
            # Not partial: `about = ANY(...)` (the purge) does not prove `about <> ''`.
            models.Index(fields=["about"], name="outbox_about_idx"),
            # The email a re-send replaces (outbox_write, `replaces_pending`). Without it,
            # PostgreSQL read every waiting message for each one (the pending index ANDed with
            # the `about` one): a reminder run writing thousands took time in their square.
            models.Index(
                fields=["about", "name"],
                name="outbox_pending_about_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"


# --- health (portal.health) ---------------------------------------------------------------------


class Heartbeat(models.Model):
    """When beat last sent the heartbeat task (`beat`) and a worker last ran it (`worker`):
    /readyz reports each, and a stale one fails it."""

    name = models.CharField(max_length=16, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
