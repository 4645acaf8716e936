"""Deleting consumers, set-based: the single Delete action, the batch tool, revoking an
invitation and the 60-day purge all come here.

Django's collector would load every consumer and every related row as objects first (a
10,000-user batch, or an endpoint with its call history); plain statements per relation do the
same in a fraction of the time.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import connection, transaction
from django.utils import timezone

from portal.access import Actor, ensure_can_write
from portal.events import events_emit
from portal.lookups import any_of_sql
from portal.models import AuditEvent, Company
from portal.outbox import about_key, outbox_forget

from ..events import consumers_gone_events
from ..models import Consumer, ConsumerKind

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

# The events a deletion emits, by its action: the 60-day purge is also an invitation expiring.
GONE_EVENTS = {"invitation_purged": ("invitation.expired", "consumer.deleted")}


@transaction.atomic
def consumers_delete(*, actor: Actor, company: Company, consumer_ids: list[int]) -> set[int]:
    """Delete consumers of one company. Returns the ids that were deleted (the others were
    already gone, or belong to another company)."""
    ensure_can_write(actor, company.partner)
    locked = Consumer.objects.filter(company=company, pk__any_of=consumer_ids).select_for_update(
        of=("self",)
    )
    kind_by_id = dict(locked.values_list("pk", "kind"))
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    delete_consumer_rows(kind_by_id, actor_id=actor_id, action="delete")
    return set(kind_by_id)


def consumer_delete(*, actor: Actor, consumer: Consumer) -> None:
    consumers_delete(actor=actor, company=consumer.company, consumer_ids=[consumer.pk])


def delete_consumer_rows(
    kind_by_id: Mapping[int, str], *, actor_id: int | None, action: str
) -> None:
    """Delete the consumers (their id → their kind) with every row of theirs, and write one
    audit event per consumer with one INSERT ... SELECT (`<kind>.<action>`; ids only: an
    invitee's name and email never reach the audit log). The caller has checked permissions
    and holds the row locks. A user's emails (the invitation: its personal data) leave the
    outbox with it, sent or not.

    The foreign keys are checked at commit (Django makes them DEFERRABLE INITIALLY DEFERRED on
    PostgreSQL), so a relation missed here fails the transaction rather than leaving rows."""
    if not kind_by_id:
        return
    events_emit(consumers_gone_events(kind_by_id, GONE_EVENTS.get(action, ("consumer.deleted",))))
    with connection.cursor() as cursor:
        _audit_deletions(cursor, list(kind_by_id), actor_id, action)
        # CONSUMER_RELATIONS must name every relation to Consumer; a test fails when a new one
        # is missing.
        for table, column, on_delete, of_kinds in CONSUMER_RELATIONS:
            ids = [pk for pk, kind in kind_by_id.items() if kind in of_kinds]
            if not ids:
                continue
            verb = (
                f"UPDATE {table} SET {column} = NULL"
                if on_delete == "set_null"
                else f"DELETE FROM {table}"
            )
            where, params = _id_in(column, ids)
            cursor.execute(f"{verb} WHERE {where}", params)
        where, params = _id_in("id", list(kind_by_id))
        cursor.execute(f"DELETE FROM {Consumer._meta.db_table} WHERE {where}", params)
    users = [pk for pk, kind in kind_by_id.items() if kind == ConsumerKind.USER]
    outbox_forget(about=[about_key("consumer", pk) for pk in users])


def _audit_deletions(cursor: object, ids: list[int], actor_id: int | None, action: str) -> None:
    audit, consumer, company = (
        AuditEvent._meta.db_table,
        Consumer._meta.db_table,
        Company._meta.db_table,
    )
    where, params = _id_in("c.id", ids)
    # What names the consumer in the log once it is gone: its domain, and a team VMR's or an
    # endpoint's address; never a user's address (its alias may be the invitee's name).
    build = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    data = (
        f"CASE WHEN c.kind = 'user' THEN {build}('domain', c.domain) "
        f"ELSE {build}('domain', c.domain, 'address', c.alias || '@' || c.domain) END"
    )
    cursor.execute(  # type: ignore[attr-defined]
        f"""INSERT INTO {audit} (partner_id, company_id, actor_id, action, object_type,
                object_id, data, created_at)
            SELECT co.partner_id, c.company_id, %s, c.kind || %s, 'consumer',
                   {_uuid_text("c.public_id")}, {data}, %s
            FROM {consumer} c JOIN {company} co ON co.id = c.company_id
            WHERE {where}""",
        [actor_id, f".{action}", timezone.now(), *params],
    )


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
