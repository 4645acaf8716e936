"""A company's calling domains, Microsoft 365 domains and interop configurations, as the
Domains tab manages them, through the same services (domains.services): adding, verifying
(the DNS check, now), re-sending the DNS email, deleting."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from domains import selectors, services
from domains.models import CallingDomain, InteropConfiguration, Microsoft365Domain

from ..auth import api_actor, api_actor_company
from ..lookups import partner_get
from ..pagination import PageQuery, company_page, page_schema
from ..schemas import (
    CallingDomainOut,
    DomainNameIn,
    InteropIn,
    InteropOut,
    Microsoft365DomainOut,
)
from .responses import errors

router = Router(tags=["domains"])

# Names are unique within a company; the id makes the cursor unique all the same.
BY_NAME = ("name", "id")


# --- calling domains -------------------------------------------------------------------------


@router.get(
    "/companies/{company_id}/calling-domains",
    response={200: page_schema(CallingDomainOut), **errors(404, 422)},
    summary="List a company's calling domains",
)
def calling_domain_list(
    request: HttpRequest, company_id: UUID, page: Query[PageQuery]
) -> dict[str, Any]:
    return company_page(request, company_id, selectors.calling_domain_list, order=BY_NAME)


@router.post(
    "/companies/{company_id}/calling-domains",
    response={201: CallingDomainOut, **errors(404, 422)},
    summary="Add a calling domain (verified at once when a rule allows, else pending)",
)
def calling_domain_add(
    request: HttpRequest, company_id: UUID, payload: DomainNameIn
) -> Status[CallingDomain]:
    actor, company = api_actor_company(request, company_id, write=True)
    return Status(201, services.calling_domain_add(actor=actor, company=company, name=payload.name))


def calling_domain_of(request: HttpRequest, domain_id: UUID) -> CallingDomain:
    return partner_get(request, CallingDomain.objects.all(), domain_id)


@router.get(
    "/calling-domains/{domain_id}",
    response={200: CallingDomainOut, **errors(404)},
    summary="Read a calling domain, with the DNS records to publish",
)
def calling_domain_read(request: HttpRequest, domain_id: UUID) -> CallingDomain:
    api_actor(request, write=False)
    return calling_domain_of(request, domain_id)


@router.delete(
    "/calling-domains/{domain_id}",
    response={204: None, **errors(404, 422)},
    summary="Delete a calling domain no consumer or interop configuration uses",
)
def calling_domain_delete(request: HttpRequest, domain_id: UUID) -> Status[None]:
    actor = api_actor(request, write=True)
    domain = calling_domain_of(request, domain_id)
    services.calling_domain_delete(actor=actor, calling_domain=domain)
    return Status(204, None)


@router.post(
    "/calling-domains/{domain_id}/verify",
    response={200: CallingDomainOut, **errors(404)},
    summary="Check the domain's DNS now",
    description="Answers the domain as the check left it: `verified`, or still `pending` with "
    "the reason in `last_error` (no TXT record yet, a wrong value, a DNS failure).",
)
def calling_domain_verify(request: HttpRequest, domain_id: UUID) -> CallingDomain:
    actor = api_actor(request, write=True)
    domain = calling_domain_of(request, domain_id)
    return services.calling_domain_verify(actor=actor, calling_domain=domain)


@router.post(
    "/calling-domains/{domain_id}/resend-email",
    response={200: CallingDomainOut, **errors(404)},
    summary="Email the DNS records to publish to the company's contact again",
)
def calling_domain_resend_email(request: HttpRequest, domain_id: UUID) -> CallingDomain:
    actor = api_actor(request, write=True)
    domain = calling_domain_of(request, domain_id)
    services.calling_domain_dns_email_resend(actor=actor, calling_domain=domain)
    return domain


# --- Microsoft 365 domains -------------------------------------------------------------------


@router.get(
    "/companies/{company_id}/microsoft365-domains",
    response={200: page_schema(Microsoft365DomainOut), **errors(404, 422)},
    summary="List a company's Microsoft 365 domains",
)
def microsoft365_domain_list(
    request: HttpRequest, company_id: UUID, page: Query[PageQuery]
) -> dict[str, Any]:
    return company_page(request, company_id, selectors.microsoft365_domain_list, order=BY_NAME)


@router.post(
    "/companies/{company_id}/microsoft365-domains",
    response={201: Microsoft365DomainOut, **errors(404, 422)},
    summary="Add a Microsoft 365 domain",
)
def microsoft365_domain_add(
    request: HttpRequest, company_id: UUID, payload: DomainNameIn
) -> Status[Microsoft365Domain]:
    actor, company = api_actor_company(request, company_id, write=True)
    domain = services.microsoft365_domain_add(actor=actor, company=company, name=payload.name)
    return Status(201, domain)


def microsoft365_domain_of(request: HttpRequest, domain_id: UUID) -> Microsoft365Domain:
    return partner_get(request, Microsoft365Domain.objects.all(), domain_id)


@router.get(
    "/microsoft365-domains/{domain_id}",
    response={200: Microsoft365DomainOut, **errors(404)},
    summary="Read a Microsoft 365 domain",
)
def microsoft365_domain_read(request: HttpRequest, domain_id: UUID) -> Microsoft365Domain:
    api_actor(request, write=False)
    return microsoft365_domain_of(request, domain_id)


@router.post(
    "/microsoft365-domains/{domain_id}/verify",
    response={200: Microsoft365DomainOut, **errors(404)},
    summary="Check the Microsoft 365 domain's TXT record now",
)
def microsoft365_domain_verify(request: HttpRequest, domain_id: UUID) -> Microsoft365Domain:
    actor = api_actor(request, write=True)
    domain = microsoft365_domain_of(request, domain_id)
    return services.microsoft365_domain_verify(actor=actor, microsoft365_domain=domain)


@router.delete(
    "/microsoft365-domains/{domain_id}",
    response={204: None, **errors(404)},
    summary="Remove a Microsoft 365 domain",
)
def microsoft365_domain_delete(request: HttpRequest, domain_id: UUID) -> Status[None]:
    actor = api_actor(request, write=True)
    domain = microsoft365_domain_of(request, domain_id)
    services.microsoft365_domain_delete(actor=actor, microsoft365_domain=domain)
    return Status(204, None)


# --- interop configurations ------------------------------------------------------------------


@router.get(
    "/companies/{company_id}/interop-configurations",
    response={200: page_schema(InteropOut), **errors(404, 422)},
    summary="List a company's interop configurations (Microsoft Teams / CVI)",
)
def interop_list(request: HttpRequest, company_id: UUID, page: Query[PageQuery]) -> dict[str, Any]:
    return company_page(request, company_id, selectors.interop_list, order=BY_NAME)


@router.post(
    "/companies/{company_id}/interop-configurations",
    response={201: InteropOut, **errors(404, 422)},
    summary="Add an interop configuration on a verified calling domain",
)
def interop_add(
    request: HttpRequest, company_id: UUID, payload: InteropIn
) -> Status[InteropConfiguration]:
    actor, company = api_actor_company(request, company_id, write=True)
    config = services.interop_configuration_create(actor=actor, company=company, **payload.dict())
    return Status(201, config)


def interop_of(request: HttpRequest, config_id: UUID) -> InteropConfiguration:
    return partner_get(
        request, InteropConfiguration.objects.select_related("calling_domain"), config_id
    )


@router.get(
    "/interop-configurations/{config_id}",
    response={200: InteropOut, **errors(404)},
    summary="Read an interop configuration",
)
def interop_read(request: HttpRequest, config_id: UUID) -> InteropConfiguration:
    api_actor(request, write=False)
    return interop_of(request, config_id)


@router.delete(
    "/interop-configurations/{config_id}",
    response={204: None, **errors(404)},
    summary="Delete an interop configuration",
)
def interop_delete(request: HttpRequest, config_id: UUID) -> Status[None]:
    actor = api_actor(request, write=True)
    config = interop_of(request, config_id)
    services.interop_configuration_delete(actor=actor, configuration=config)
    return Status(204, None)
