"""Reads for the tenancy app. Each takes the partner keyword-only; querysets keep a constant
number of queries however many rows there are."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .activity import subject_ids_matching
from .counts_cache import company_counts
from .models import AuditEvent, Company, CompanyState, Partner, PartnerMembership
from .web import clean_query

COMPANY_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "evaluation": ("evaluation_ends_on", "name"),
    "-evaluation": ("-evaluation_ends_on", "name"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


# What the company list shows of each company; loading only these keeps the page's rows light.
COMPANY_LIST_FIELDS = (
    "public_id",
    "name",
    "reference",
    "contact_name",
    "contact_email",
    "evaluation_ends_on",
)


def company_directory(
    *, partner: Partner, query: str = "", state: str = "", sort: str = "name"
) -> tuple[QuerySet[Company], dict[str, int]]:
    """The company list: its rows (a queryset, for the paginator) and the companies per state
    for its tabs, with the search applied.

    Both come from one base queryset, so that the state annotation is built once. The counts
    of the unsearched list come from the cache while nothing they depend on changes
    (portal.counts_cache); a search counts its own, in one GROUP BY query."""
    today = timezone.localdate()
    base = Company.objects.filter(partner=partner).with_state(today).search(query)

    def count() -> dict[str, int]:
        counts = dict.fromkeys(CompanyState.values, 0)
        counts.update(base.order_by().values_list("state_code").annotate(n=Count("id")))
        counts["all"] = sum(counts.values())
        return counts

    counts = count() if query.strip() else company_counts(partner.public_id, today, count)
    rows = base.only(*COMPANY_LIST_FIELDS)
    if state in CompanyState.values:
        rows = rows.filter(state_code=state)
    return rows.order_by(*COMPANY_SORTS.get(sort, COMPANY_SORTS["name"])), counts


def company_activity(
    *,
    company: Company,
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    query: str = "",
    object_id: str = "",
) -> QuerySet[AuditEvent]:
    """The company's audit events, newest first, filtered: one action code, a time range
    [since, until), a search (who did it, the name of what it was done to) and one object.
    Each filter has its index (AuditEvent.Meta)."""
    events = AuditEvent.objects.filter(company=company).select_related("actor")
    if action:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    if object_id:
        events = events.filter(object_id=object_id)
    query = clean_query(query)
    if query:
        events = events.filter(
            Q(actor__email__icontains=query)
            | Q(object_id__in=subject_ids_matching(company, query))
            | Q(data__name__icontains=query)
            | Q(data__address__icontains=query)
        )
    return events.order_by("-created_at", "-id")


def member_list(*, partner: Partner) -> QuerySet[PartnerMembership]:
    return (
        PartnerMembership.objects.filter(partner=partner)
        .select_related("user")
        .order_by("user__email")
    )


def company_delete_impact(*, company: Company) -> list[tuple[int, str]]:
    """What deleting the company takes with it, for the confirmation page: (count, singular
    label) for its consumers of each kind, calling domains and licences. Portal sits below
    those apps: it counts through the relations they declare and takes their labels from there."""
    consumers = company.consumers  # type: ignore[attr-defined]
    kinds = consumers.model._meta.get_field("kind").choices
    by_kind = dict(consumers.order_by().values_list("kind").annotate(n=Count("id")))
    impact = [(by_kind.get(kind, 0), label) for kind, label in kinds]
    for relation in (company.calling_domains, company.licences):  # type: ignore[attr-defined]
        impact.append((relation.count(), str(relation.model._meta.verbose_name).capitalize()))
    return impact
