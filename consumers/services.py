"""Writes for consumers (Users, Team VMRs, Endpoints).

Every service checks the actor's role in the company's partner, validates every input before
writing anything, takes a row lock on the company where licence seats are involved, and writes
an AuditEvent (ids only: an invitee's name and email never reach the audit log).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from domains.services import calling_domain_for_address
from licensing.seats import seat_take
from portal.access import ensure_can_write
from portal.audit import audit_record
from portal.lookups import any_of_sql
from portal.models import AuditEvent, Company

from . import tokens
from .addresses import normalize_alias
from .models import (
    VMR_SUFFIX,
    Address,
    AddressPurpose,
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    EndpointSettings,
    InactiveReason,
    Invitation,
    TeamVmrSettings,
    UsageModel,
)

PIN_PATTERN = re.compile(r"\d{4,20}")


def _lock_company(company: Company) -> Company:
    return Company.objects.select_for_update().get(pk=company.pk)


def _address_rows(alias: str, domain: str, kind: str) -> list[tuple[str, str]]:
    rows = [(f"{alias}@{domain}", AddressPurpose.PRIMARY)]
    if kind == ConsumerKind.USER:
        rows.append((f"{alias}{VMR_SUFFIX}@{domain}", AddressPurpose.PERSONAL_VMR))
    return rows


def _ensure_addresses_free(rows: list[tuple[str, str]], *, exclude: Consumer | None = None) -> None:
    taken = Address.objects.filter(address__in=[a for a, _ in rows])
    if exclude is not None:
        taken = taken.exclude(consumer=exclude)
    taken_purpose = dict(taken.values_list("address", "purpose"))
    for address, purpose in rows:
        if address not in taken_purpose:
            continue
        if purpose == AddressPurpose.PERSONAL_VMR:
            message = f"The personal VMR address {address} is already taken."
        elif taken_purpose[address] == AddressPurpose.PERSONAL_VMR:
            message = f"The address {address} is already taken as a user's personal VMR address."
        else:
            message = f"The address {address} is already taken."
        raise ValidationError({"alias": message}, code="address_taken")


def _reserve_addresses(consumer: Consumer) -> None:
    rows = _address_rows(consumer.alias, consumer.domain, consumer.kind)
    _ensure_addresses_free(rows, exclude=consumer)
    try:
        # A savepoint: a concurrent add of the same address fails here, not at commit.
        with transaction.atomic():
            Address.objects.filter(consumer=consumer).delete()
            Address.objects.bulk_create(
                [Address(address=a, purpose=p, consumer=consumer) for a, p in rows]
            )
    except IntegrityError:
        raise ValidationError(
            {"alias": f"The address {consumer.address} is already taken."}, code="address_taken"
        ) from None


def _clean_text(value: Any, *, field: str, required: bool = False, max_length: int = 200) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationError({field: "This field is required."}, code="required")
    if len(text) > max_length:
        raise ValidationError({field: f"At most {max_length} characters."}, code="max_length")
    return text


def _clean_pins(host_pin: str, guest_pin: str) -> tuple[str, str]:
    host_pin, guest_pin = (host_pin or "").strip(), (guest_pin or "").strip()
    for field, pin in (("host_pin", host_pin), ("guest_pin", guest_pin)):
        if pin and not PIN_PATTERN.fullmatch(pin):
            raise ValidationError({field: "A PIN is 4 to 20 digits."}, code="pin")
    if guest_pin and not host_pin:
        raise ValidationError({"host_pin": "Set a host PIN before a guest PIN."}, code="pin")
    if guest_pin and guest_pin == host_pin:
        raise ValidationError({"guest_pin": "The guest PIN must differ from the host PIN."})
    return host_pin, guest_pin


def validate_email_address(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}, code="email") from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _create(
    *,
    actor: Any,
    company: Company,
    kind: str,
    alias: str,
    display_name: str,
    domain: str | None,
    status: str = ConsumerStatus.ACTIVE,
) -> Consumer:
    """Validate, take a seat under the company lock, reserve the addresses. Caller is atomic."""
    ensure_can_write(actor, company.partner)
    display_name = _clean_text(display_name, field="display_name")
    calling_domain = calling_domain_for_address(company=company, name=domain)
    alias = normalize_alias_for_field(alias, hosted=calling_domain.is_hosted)
    _ensure_addresses_free(_address_rows(alias, calling_domain.name, kind))
    locked = _lock_company(company)
    is_trial = seat_take(company=locked, consumer_kind=kind)
    consumer = Consumer.objects.create(
        company=company,
        kind=kind,
        alias=alias,
        domain=calling_domain.name,
        calling_domain=calling_domain,
        display_name=display_name,
        status=status,
        is_trial=is_trial,
    )
    _reserve_addresses(consumer)
    return consumer


def prepare_invitation(consumer: Consumer, *, email: str, full_name: str) -> Invitation:
    nonce = tokens.new_nonce()
    return Invitation(
        consumer=consumer,
        email=email,
        full_name=full_name,
        token_nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce)),
    )


@transaction.atomic
def user_invite(
    *,
    actor: Any,
    company: Company,
    email: str,
    full_name: str,
    alias: str,
    domain: str | None = None,
) -> Consumer:
    email = validate_email_address(email)
    full_name = _clean_text(full_name, field="full_name", required=True)
    consumer = _create(
        actor=actor,
        company=company,
        kind=ConsumerKind.USER,
        alias=alias,
        display_name=full_name,
        domain=domain,
        status=ConsumerStatus.INVITED,
    )
    invitation = prepare_invitation(consumer, email=email, full_name=full_name)
    invitation.save()
    audit_record(
        actor=actor,
        action="user.invite",
        obj=consumer,
        company=company,
        data={"trial": consumer.is_trial},
    )
    _after_invite(invitation)
    return consumer


def _after_invite(invitation: Invitation) -> None:
    """The invitation email is sent by a task once the invitation is committed."""
    from .invitations import invitation_enqueue_send

    invitation_enqueue_send(invitation)


@transaction.atomic
def team_vmr_create(
    *,
    actor: Any,
    company: Company,
    alias: str,
    display_name: str,
    domain: str | None = None,
    host_pin: str = "",
    guest_pin: str = "",
) -> Consumer:
    host_pin, guest_pin = _clean_pins(host_pin, guest_pin)
    consumer = _create(
        actor=actor,
        company=company,
        kind=ConsumerKind.TEAM_VMR,
        alias=alias,
        display_name=display_name,
        domain=domain,
    )
    TeamVmrSettings.objects.create(consumer=consumer, host_pin=host_pin, guest_pin=guest_pin)
    audit_record(
        actor=actor,
        action="team_vmr.create",
        obj=consumer,
        company=company,
        data={"address": consumer.address, "trial": consumer.is_trial},
    )
    return consumer


@transaction.atomic
def endpoint_create(
    *,
    actor: Any,
    company: Company,
    alias: str,
    display_name: str,
    domain: str | None = None,
    usage_model: str = UsageModel.SHARED,
    device_make: str = "",
    device_model: str = "",
    serial_number: str = "",
) -> Consumer:
    if usage_model not in UsageModel.values:
        raise ValidationError({"usage_model": "Choose Shared or Personal."})
    consumer = _create(
        actor=actor,
        company=company,
        kind=ConsumerKind.ENDPOINT,
        alias=alias,
        display_name=display_name,
        domain=domain,
    )
    ep = EndpointSettings.objects.create(
        consumer=consumer,
        usage_model=usage_model,
        device_make=_clean_text(device_make, field="device_make", max_length=100),
        device_model=_clean_text(device_model, field="device_model", max_length=100),
        serial_number=_clean_text(serial_number, field="serial_number", max_length=100),
    )
    from .endpoints import provisioning_token

    provisioning_token(ep)
    audit_record(
        actor=actor,
        action="endpoint.create",
        obj=consumer,
        company=company,
        data={"address": consumer.address, "trial": consumer.is_trial},
    )
    return consumer


CONSUMER_FIELDS = {"alias", "display_name", "cost_centre", "description_tag"}
TEAM_VMR_FIELDS = {"host_pin", "guest_pin"}
ENDPOINT_FIELDS = {"device_make", "device_model", "serial_number"}


@transaction.atomic
def consumer_update(*, actor: Any, consumer: Consumer, **fields: Any) -> Consumer:
    """Edit a consumer: alias (never the domain), display name, cost centre, description tag,
    and the kind's own settings (Team VMR PINs, endpoint device)."""
    ensure_can_write(actor, consumer.company.partner)
    allowed = set(CONSUMER_FIELDS)
    if consumer.kind == ConsumerKind.TEAM_VMR:
        allowed |= TEAM_VMR_FIELDS
    if consumer.kind == ConsumerKind.ENDPOINT:
        allowed |= ENDPOINT_FIELDS
    if "domain" in fields and fields["domain"] not in (None, consumer.domain):
        raise ValidationError({"domain": "The domain of an address cannot be changed."})
    fields.pop("domain", None)
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")

    consumer = (
        Consumer.objects.select_for_update(of=("self",))
        .select_related("calling_domain")
        .get(pk=consumer.pk)
    )
    changed: list[str] = []
    if "alias" in fields:
        hosted = consumer.calling_domain.is_hosted if consumer.calling_domain else True
        alias = normalize_alias_for_field(fields["alias"], hosted=hosted)
        if alias != consumer.alias:
            consumer.alias = alias
            changed.append("alias")
    for name in ("display_name", "cost_centre", "description_tag"):
        if name in fields:
            value = _clean_text(
                fields[name], field=name, max_length=200 if name == "display_name" else 100
            )
            if value != getattr(consumer, name):
                setattr(consumer, name, value)
                changed.append(name)
    consumer.save()
    if "alias" in changed:
        _reserve_addresses(consumer)

    if consumer.kind == ConsumerKind.TEAM_VMR and TEAM_VMR_FIELDS & set(fields):
        vmr, _ = TeamVmrSettings.objects.get_or_create(consumer=consumer)
        host, guest = _clean_pins(
            fields.get("host_pin", vmr.host_pin), fields.get("guest_pin", vmr.guest_pin)
        )
        if (host, guest) != (vmr.host_pin, vmr.guest_pin):
            vmr.host_pin, vmr.guest_pin = host, guest
            vmr.save()
            changed.append("pins")
    if consumer.kind == ConsumerKind.ENDPOINT and ENDPOINT_FIELDS & set(fields):
        endpoint, _ = EndpointSettings.objects.get_or_create(consumer=consumer)
        for name in ENDPOINT_FIELDS & set(fields):
            value = _clean_text(fields[name], field=name, max_length=100)
            if value != getattr(endpoint, name):
                setattr(endpoint, name, value)
                changed.append(name)
        endpoint.save()
    if changed:
        audit_record(
            actor=actor,
            action=f"{consumer.kind}.update",
            obj=consumer,
            company=consumer.company,
            data={"fields": sorted(changed)},
        )
    return consumer


def normalize_alias_for_field(value: str, *, hosted: bool) -> str:
    try:
        return normalize_alias(value, hosted_domain=hosted)
    except ValidationError as exc:
        raise ValidationError({"alias": exc.messages}) from None


def _audit_many(
    actor: Any,
    company: Company,
    action: str,
    rows: list[tuple[Any, ...]],
    data: dict[str, Any] | None = None,
) -> None:
    """One audit event per consumer, written in one INSERT (ids only, no personal data)."""
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                partner_id=company.partner_id,
                company=company,
                actor_id=actor_id,
                action=f"{kind}.{action}",
                object_type="consumer",
                object_id=str(public_id),
                data=data or {},
            )
            for public_id, kind in rows
        ]
    )


@transaction.atomic
def consumers_delete(*, actor: Any, company: Company, consumer_ids: list[int]) -> set[int]:
    """Delete consumers of one company, set-based. The single Delete action and the batch tool
    both use it. Returns the ids that were deleted (the others were already gone)."""
    ensure_can_write(actor, company.partner)
    locked = Consumer.objects.filter(company=company, pk__any_of=consumer_ids).select_for_update(
        of=("self",)
    )
    deleted = dict(locked.values_list("pk", "kind"))
    delete_with_audit(
        deleted, actor_id=actor.pk if getattr(actor, "pk", None) else None, action="delete"
    )
    return set(deleted)


_ALL_KINDS = frozenset(ConsumerKind.values)

# Every relation to Consumer, as (table, column, what a delete does to it, the kinds of consumer
# that can have such rows). A statement runs only when the chunk holds one of its kinds: besides
# saving the statement, that keeps PostgreSQL on the index, since the planner would otherwise
# guess 10,000 users' call records from the average endpoint's and scan all of them.
CONSUMER_RELATIONS: list[tuple[str, str, str, frozenset[str]]] = [
    ("consumers_endpointsettings", "personal_user_id", "set_null", frozenset({ConsumerKind.USER})),
    ("consumers_callrecord", "consumer_id", "delete", frozenset({ConsumerKind.ENDPOINT})),
    ("consumers_address", "consumer_id", "delete", _ALL_KINDS),
    ("consumers_invitation", "consumer_id", "delete", frozenset({ConsumerKind.USER})),
    ("consumers_teamvmrsettings", "consumer_id", "delete", frozenset({ConsumerKind.TEAM_VMR})),
    ("consumers_endpointsettings", "consumer_id", "delete", frozenset({ConsumerKind.ENDPOINT})),
]


def delete_with_audit(kinds: dict[int, str], *, actor_id: int | None, action: str) -> None:
    """Delete consumers ({id: kind}) with their rows, and write one audit event per consumer
    with one INSERT ... SELECT. Ids only in the audit log: an invitee's name and email never
    reach it. The caller has checked permissions and holds the row locks.

    The foreign keys are checked at commit (Django makes them DEFERRABLE INITIALLY DEFERRED on
    PostgreSQL), so a relation missed here fails the transaction rather than leaving rows."""
    if not kinds:
        return
    audit, consumer, company = (
        AuditEvent._meta.db_table,
        Consumer._meta.db_table,
        Company._meta.db_table,
    )
    all_in, all_params = _id_in("c.id", list(kinds))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {audit} (partner_id, company_id, actor_id, action, object_type,
                    object_id, data, created_at)
                SELECT co.partner_id, c.company_id, %s, c.kind || %s, 'consumer',
                       {_uuid_text("c.public_id")}, %s, %s
                FROM {consumer} c JOIN {company} co ON co.id = c.company_id
                WHERE {all_in}""",
            [actor_id, f".{action}", "{}", timezone.now(), *all_params],
        )
        # The consumers' own rows, then the consumers: plain set-based statements (Django's
        # collector would load every consumer as an object first). CONSUMER_RELATIONS must name
        # every relation to Consumer; a test fails when a new one is missing.
        for table, column, on_delete, of_kinds in CONSUMER_RELATIONS:
            ids = [pk for pk, kind in kinds.items() if kind in of_kinds]
            if not ids:
                continue
            verb = (
                f"UPDATE {table} SET {column} = NULL"
                if on_delete == "set_null"
                else f"DELETE FROM {table}"
            )
            where, params = _id_in(column, ids)
            cursor.execute(f"{verb} WHERE {where}", params)
        where, params = _id_in("id", list(kinds))
        cursor.execute(f"DELETE FROM {consumer} WHERE {where}", params)


def _id_in(column: str, ids: list[int]) -> tuple[str, list[object]]:
    return any_of_sql(column, sorted(ids), connection.vendor)


def _uuid_text(column: str) -> str:
    """A UUID column as the text Python's str(uuid) gives (SQLite stores it without dashes)."""
    if connection.vendor == "postgresql":
        return f"{column}::text"
    return (
        f"lower(substr({column},1,8)||'-'||substr({column},9,4)||'-'||substr({column},13,4)||'-'"
        f"||substr({column},17,4)||'-'||substr({column},21,12))"
    )


def consumer_delete(*, actor: Any, consumer: Consumer) -> None:
    consumers_delete(actor=actor, company=consumer.company, consumer_ids=[consumer.pk])


@transaction.atomic
def consumers_activate(
    *, actor: Any, company: Company, consumer_ids: list[int]
) -> tuple[dict[int, bool], dict[int, str]]:
    """Reactivate inactive consumers of one company as far as licence seats (or an open
    evaluation) allow, under the company row lock, set-based. Returns
    ({id: is_trial} for those reactivated, {id: reason} for those that were not)."""
    from licensing.seats import family_of_consumer_kind, seats_of

    ensure_can_write(actor, company.partner)
    locked = _lock_company(company)
    wanted = list(
        Consumer.objects.filter(company=company, pk__any_of=consumer_ids)
        .select_for_update(of=("self",))
        .select_related("calling_domain")
        .order_by("pk")
    )
    found = {c.pk for c in wanted}
    failures: dict[int, str] = {pk: "no longer exists" for pk in consumer_ids if pk not in found}
    activated: dict[int, bool] = {}
    by_family: dict[str, list[Consumer]] = {}
    for consumer in wanted:
        if consumer.status != ConsumerStatus.INACTIVE:
            failures[consumer.pk] = (
                f"{consumer.address} is already {consumer.get_status_display().lower()}."
            )
        elif consumer.calling_domain_id and not consumer.calling_domain.is_verified:
            failures[consumer.pk] = f"{consumer.domain} is not verified."
        else:
            by_family.setdefault(family_of_consumer_kind(consumer.kind), []).append(consumer)
    for family, consumers in by_family.items():
        seats = seats_of(company=locked, family=family)
        free = None if seats.unlimited else (seats.remaining or 0)
        for index, consumer in enumerate(consumers):
            if free is None or index < free:
                activated[consumer.pk] = False
            elif locked.evaluation_open:
                activated[consumer.pk] = True
            else:
                failures[consumer.pk] = seat_decision_message(locked, consumer.kind, seats)
    if activated:
        pending_users = set(
            Invitation.objects.filter(
                consumer_id__in=list(activated), accepted_at__isnull=True
            ).values_list("consumer_id", flat=True)
        )
        now = timezone.now()
        for is_trial in (False, True):
            ids = [pk for pk, trial in activated.items() if trial is is_trial]
            for status, subset in (
                (ConsumerStatus.INVITED, [pk for pk in ids if pk in pending_users]),
                (ConsumerStatus.ACTIVE, [pk for pk in ids if pk not in pending_users]),
            ):
                if subset:
                    Consumer.objects.filter(pk__in=subset).update(
                        status=status, is_trial=is_trial, inactive_reason="", updated_at=now
                    )
        done = [c for c in wanted if c.pk in activated]
        _audit_many(actor, company, "activate", [(c.public_id, c.kind) for c in done])
    return activated, failures


def seat_decision_message(company: Company, kind: str, seats: Any) -> str:
    from licensing.seats import seat_decision

    return seat_decision(company=company, consumer_kind=kind, seats=seats).message


def consumer_activate(*, actor: Any, consumer: Consumer) -> Consumer:
    """Bring an inactive consumer back when a licence seat (or open evaluation) allows it."""
    _activated, failures = consumers_activate(
        actor=actor, company=consumer.company, consumer_ids=[consumer.pk]
    )
    if consumer.pk in failures:
        raise ValidationError(failures[consumer.pk], code="not_activated")
    consumer.refresh_from_db()
    return consumer


@transaction.atomic
def consumer_deactivate(
    *, actor: Any, consumer: Consumer, reason: str = InactiveReason.DEACTIVATED
) -> Consumer:
    company = consumer.company
    ensure_can_write(actor, company.partner)
    consumer = Consumer.objects.select_for_update().get(pk=consumer.pk)
    if consumer.status == ConsumerStatus.INACTIVE:
        raise ValidationError(f"{consumer.address} is already inactive.", code="inactive")
    consumer.status = ConsumerStatus.INACTIVE
    consumer.inactive_reason = reason
    consumer.save(update_fields=["status", "inactive_reason", "updated_at"])
    audit_record(
        actor=actor,
        action=f"{consumer.kind}.deactivate",
        obj=consumer,
        company=company,
        data={"reason": reason},
    )
    return consumer


def invitation_accept(*, token: str) -> Consumer:
    """Accept an invitation by its link token (the invitations module holds the lifecycle)."""
    from .invitations import invitation_accept as accept

    return accept(token=token)
