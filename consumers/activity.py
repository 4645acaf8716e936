"""How the activity log names consumers and batches (portal.activity.subjects_register, from
ConsumersConfig.ready): by their address, linked to their page, while they exist. A deleted
consumer is not found here, so the log names it from the event alone (portal.activity._gone):
nothing of a purged invitee's comes back."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from portal.activity import CONSUMER_NOUNS, Subject, public_ids, subjects_register
from portal.models import AuditEvent, Company

from .models import BatchAction, BatchJob, Consumer, ConsumerKind

# A search names at most this many consumers (the activity log's search box).
SEARCH_LIMIT = 500
_BATCH_NAMES = {
    BatchAction.DELETE: "a batch delete",
    BatchAction.REACTIVATE: "a batch reactivation",
}


def consumer_subject(consumer: Consumer) -> Subject:
    url = reverse(
        "consumers:consumer_detail", args=[consumer.company.public_id, consumer.public_id]
    )
    return Subject(consumer.address, url)


def consumer_subjects(company: Company, ids: list[str]) -> dict[str, Subject]:
    """Consumers that exist, by address and linked; those that are gone, by what their deletion
    event kept (one more query, only when some are gone)."""
    rows = Consumer.objects.filter(company=company, public_id__in=public_ids(ids)).values_list(
        "public_id", "alias", "domain"
    )
    found = {
        str(public_id): Subject(
            f"{alias}@{domain}",
            reverse("consumers:consumer_detail", args=[company.public_id, public_id]),
        )
        for public_id, alias, domain in rows
    }
    gone = [key for key in ids if key not in found]
    return found | (_deleted_subjects(company, gone) if gone else {})


def _deleted_subjects(company: Company, ids: list[str]) -> dict[str, Subject]:
    """Gone consumers named from their deletion event (deletion.delete_consumer_rows writes the
    domain, and a team VMR's or an endpoint's address; never a user's)."""
    events = AuditEvent.objects.filter(
        company=company, object_type="consumer", object_id__in=ids, data__has_key="domain"
    ).values_list("object_id", "action", "data")
    named = {}
    for object_id, action, data in events:
        kind = action.partition(".")[0]
        if data.get("address") and kind != ConsumerKind.USER:
            named[object_id] = Subject(str(data["address"]))
        else:
            noun = CONSUMER_NOUNS.get(kind, "consumer")
            named[object_id] = Subject(f"a {noun} of {data['domain']}")
    return named


def consumer_search(company: Company, query: str) -> list[str]:
    alias_part, _, domain_part = query.lower().partition("@")
    match = Q(alias__contains=alias_part) | Q(display_name__icontains=query)
    if domain_part:
        match = Q(alias__startswith=alias_part, domain__startswith=domain_part)
    rows = Consumer.objects.filter(company=company).filter(match).order_by()
    return [str(public_id) for public_id in rows.values_list("public_id", flat=True)[:SEARCH_LIMIT]]


def batch_subjects(company: Company, ids: list[str]) -> dict[str, Subject]:
    rows = BatchJob.objects.filter(company=company, public_id__in=public_ids(ids)).values_list(
        "public_id", "action"
    )
    return {
        str(public_id): Subject(
            _BATCH_NAMES.get(action, "a batch"),
            reverse("consumers:batch_detail", args=[company.public_id, public_id]),
        )
        for public_id, action in rows
    }


def register() -> None:
    subjects_register("consumer", resolve=consumer_subjects, search=consumer_search)
    subjects_register("batchjob", resolve=batch_subjects)
