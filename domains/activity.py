"""How the activity log names domains (portal.activity.subjects_register, from
DomainsConfig.ready): calling domains by name, linked to their page; Microsoft 365 domains and
interop configurations by name. Deleted ones are named from the event's own data."""

from __future__ import annotations

from django.urls import reverse

from portal.activity import Subject, public_ids, subjects_register
from portal.models import Company

from .models import CallingDomain, InteropConfiguration, Microsoft365Domain

SEARCH_LIMIT = 500


def calling_domain_subject(domain: CallingDomain) -> Subject:
    url = reverse("domains:domain_detail", args=[domain.company.public_id, domain.public_id])
    return Subject(domain.name, url)


def calling_domain_subjects(company: Company, ids: list[str]) -> dict[str, Subject]:
    rows = CallingDomain.objects.filter(company=company, public_id__in=public_ids(ids))
    return {
        str(public_id): Subject(
            name, reverse("domains:domain_detail", args=[company.public_id, public_id])
        )
        for public_id, name in rows.values_list("public_id", "name")
    }


def calling_domain_search(company: Company, query: str) -> list[str]:
    rows = CallingDomain.objects.filter(company=company, name__icontains=query).order_by()
    return [str(public_id) for public_id in rows.values_list("public_id", flat=True)[:SEARCH_LIMIT]]


def microsoft365_subjects(company: Company, ids: list[str]) -> dict[str, Subject]:
    rows = Microsoft365Domain.objects.filter(company=company, public_id__in=public_ids(ids))
    return {str(pk): Subject(name) for pk, name in rows.values_list("public_id", "name")}


def interop_subjects(company: Company, ids: list[str]) -> dict[str, Subject]:
    rows = InteropConfiguration.objects.filter(company=company, public_id__in=public_ids(ids))
    return {str(pk): Subject(name) for pk, name in rows.values_list("public_id", "name")}


def register() -> None:
    subjects_register(
        "callingdomain", resolve=calling_domain_subjects, search=calling_domain_search
    )
    subjects_register("microsoft365domain", resolve=microsoft365_subjects)
    subjects_register("interopconfiguration", resolve=interop_subjects)
