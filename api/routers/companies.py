"""Companies (list with the company list's state tabs and search, read, create, update) and a
company's licences. Each operation calls what the portal's pages call: portal.selectors for
reads, portal.services for writes; the rules and their messages are theirs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from licensing.models import License
from licensing.selectors import licence_list
from portal import selectors, services
from portal.models import Company
from portal.web import clean_query

from ..auth import api_actor, api_actor_company, api_company, api_partner
from ..pagination import PageQuery, company_page, cursor_page, page_schema
from ..schemas import PublicIdOut

router = Router(tags=["companies"])

CompanyStateName = Literal["paid", "trial_open", "trial_closed"]
LicenceKindName = Literal["enterprise_user", "enterprise_wide", "room"]
# Alphabetical, as the company list sorts by default; the public id breaks ties.
COMPANY_ORDER = ("name", "public_id")
LICENCE_ORDER = ("-ends_on", "public_id")

Text200 = Annotated[str, Field(max_length=200)]
Text100 = Annotated[str, Field(max_length=100)]
Email = Annotated[str, Field(max_length=254)]
CountryCode = Annotated[str, Field(max_length=2, description="ISO 3166-1 alpha-2; empty: none.")]


class CompanyOut(PublicIdOut):
    name: str
    state: CompanyStateName
    country: str
    reference: str
    contact_name: str
    contact_email: str
    evaluation_ends_on: date | None = Field(
        description="The last day of Evaluation Mode (trial); null: none."
    )
    service_domain: str
    created_at: datetime

    @staticmethod
    def resolve_country(obj: Company) -> str:
        return obj.country.code or ""


class CompanyIn(Schema):
    name: Text200
    contact_email: Email
    contact_name: Text200 = ""
    reference: Text100 = ""
    country: CountryCode = ""


class CompanyPatch(Schema):
    name: Text200 | None = None
    contact_email: Email | None = None
    contact_name: Text200 | None = None
    reference: Text100 | None = None
    country: CountryCode | None = None


class CompanyFilters(PageQuery):
    state: CompanyStateName | None = Field(None, description="One tab of the company list.")
    q: str | None = Field(
        None, max_length=200, description="Search name, reference, contact name and email."
    )


class LicenceOut(PublicIdOut):
    kind: LicenceKindName
    quantity: int | None = Field(description="Seats; null: unlimited (enterprise wide).")
    starts_on: date
    ends_on: date
    active: bool
    reference: str
    cost_centre: str
    created_at: datetime

    @staticmethod
    def resolve_active(obj: License) -> bool:
        return obj.is_active()


def _company_fields(payload: Schema, *, partial: bool) -> dict[str, Any]:
    fields = payload.dict(exclude_unset=partial)
    # JSON null on update means "leave it"; the services take every other value as given.
    return {k: v for k, v in fields.items() if v is not None}


@router.get("/companies", response=page_schema(CompanyOut), summary="List companies")
def company_list(request: HttpRequest, filters: Query[CompanyFilters]) -> Any:
    api_actor(request, write=False)
    rows, _ = selectors.company_directory(
        partner=api_partner(request), query=clean_query(filters.q), state=filters.state or ""
    )
    # All the fields the API shows (the directory loads only the list page's).
    return cursor_page(request, rows.defer(None), order=COMPANY_ORDER)


@router.post("/companies", response={201: CompanyOut}, summary="Create a company (in trial mode)")
def company_create(request: HttpRequest, payload: CompanyIn) -> Any:
    actor = api_actor(request, write=True)
    company = services.company_create(
        actor=actor, partner=api_partner(request), **_company_fields(payload, partial=False)
    )
    return Status(201, api_company(request, company.public_id))


@router.get("/companies/{company_id}", response=CompanyOut, summary="Read a company")
def company_get(request: HttpRequest, company_id: UUID) -> Any:
    api_actor(request, write=False)
    return api_company(request, company_id)


@router.patch("/companies/{company_id}", response=CompanyOut, summary="Update a company")
def company_update(request: HttpRequest, company_id: UUID, payload: CompanyPatch) -> Any:
    actor, company = api_actor_company(request, company_id, write=True)
    services.company_update(actor=actor, company=company, **_company_fields(payload, partial=True))
    return company


@router.get(
    "/companies/{company_id}/licences",
    response=page_schema(LicenceOut),
    summary="List a company's licences",
)
def company_licences(request: HttpRequest, company_id: UUID, page: Query[PageQuery]) -> Any:
    return company_page(request, company_id, licence_list, order=LICENCE_ORDER)
