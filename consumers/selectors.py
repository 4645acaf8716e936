"""Reads for consumers. List querysets run one query per page (plus the paginator's count),
whatever the number of consumers."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from portal.models import Company

from .models import Consumer, ConsumerKind, ConsumerStatus, Invitation

CONSUMER_SORTS = {
    "alias": ("alias", "id"),
    "-alias": ("-alias", "-id"),
    "name": ("display_name", "id"),
    "-name": ("-display_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "status": ("status", "alias"),
    "-status": ("-status", "alias"),
}


def consumer_list(
    *,
    company: Company,
    kind: str,
    query: str = "",
    status: str = "",
    sort: str = "alias",
    pending_only: bool = False,
) -> QuerySet[Consumer]:
    qs = Consumer.objects.filter(company=company, kind=kind)
    query = query.strip().lower()
    if query:
        alias_part, _, domain_part = query.partition("@")
        condition = Q(alias__contains=alias_part) | Q(display_name__icontains=query)
        if domain_part:
            condition = Q(alias__startswith=alias_part, domain__startswith=domain_part)
        if kind == ConsumerKind.USER:
            # A subquery, not a join: each side can use its own trigram index (PostgreSQL).
            condition |= Q(
                pk__in=Invitation.objects.filter(
                    consumer__company=company, email__icontains=query
                ).values("consumer_id")
            )
        qs = qs.filter(condition)
    if status in ConsumerStatus.values:
        qs = qs.filter(status=status)
    if kind == ConsumerKind.USER:
        qs = qs.select_related("invitation")
        if pending_only:
            qs = qs.filter(status=ConsumerStatus.INVITED, invitation__accepted_at__isnull=True)
    elif kind == ConsumerKind.TEAM_VMR:
        qs = qs.select_related("team_vmr")
    else:
        qs = qs.select_related("endpoint")
    return qs.order_by(*CONSUMER_SORTS.get(sort, CONSUMER_SORTS["alias"]))


def consumer_get(*, company: Company, public_id: object) -> Consumer:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Consumer.objects.select_related("company__partner", "calling_domain"),
        company=company,
        public_id=public_id,
    )
