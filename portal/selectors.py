"""Reads for the tenancy app. Each takes the partner keyword-only; querysets keep a constant
number of queries however many rows there are."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import AuditEvent, Company, CompanyState, Partner, PartnerMembership

COMPANY_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "evaluation": ("evaluation_ends_on", "name"),
    "-evaluation": ("-evaluation_ends_on", "name"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


def company_list(
    *, partner: Partner, query: str = "", state: str = "", sort: str = "name"
) -> QuerySet[Company]:
    qs = Company.objects.filter(partner=partner).with_state().search(query)
    if state in CompanyState.values:
        qs = qs.filter(state_code=state)
    return qs.order_by(*COMPANY_SORTS.get(sort, COMPANY_SORTS["name"]))


def company_state_counts(*, partner: Partner, query: str = "") -> dict[str, int]:
    """Companies per state for the tabs, in one GROUP BY query."""
    rows = (
        Company.objects.filter(partner=partner)
        .with_state()
        .search(query)
        .order_by()
        .values("state_code")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(CompanyState.values, 0)
    counts.update({row["state_code"]: row["n"] for row in rows})
    counts["all"] = sum(counts.values())
    return counts


def company_activity(*, company: Company) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(company=company).select_related("actor")


def member_list(*, partner: Partner) -> QuerySet[PartnerMembership]:
    return (
        PartnerMembership.objects.filter(partner=partner)
        .select_related("user")
        .order_by("user__email")
    )


def company_delete_impact(*, company: Company) -> dict[str, int]:
    """What deleting the company takes with it, shown on the confirmation page."""
    from consumers.models import ConsumerKind

    counts = company.consumers.aggregate(
        users=Count("id", filter=Q(kind=ConsumerKind.USER)),
        team_vmrs=Count("id", filter=Q(kind=ConsumerKind.TEAM_VMR)),
        endpoints=Count("id", filter=Q(kind=ConsumerKind.ENDPOINT)),
    )
    return {
        "users (with their invitations)": counts["users"],
        "team VMRs": counts["team_vmrs"],
        "endpoints (with their call history)": counts["endpoints"],
        "calling domains": company.calling_domains.count(),
        "licences": company.licenses.count(),
    }
