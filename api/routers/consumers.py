"""Consumers (users, team VMRs, endpoints): the company's list with the list pages' filters,
add, read, delete, activate, re-send an invitation. Each operation calls the service the
portal's page calls (consumers.services); the rules and their messages are theirs."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Status

from consumers import selectors, services
from consumers.models import Consumer, ConsumerKind
from consumers.services import invitations

from ..auth import api_actor, api_actor_company
from ..lookups import partner_get
from ..pagination import PageQuery, cursor_page, page_schema
from ..schemas import (
    ConsumerIn,
    ConsumerKindName,
    ConsumerOut,
    ConsumerStatusName,
)
from .responses import errors

router = Router(tags=["consumers"])

# The columns a consumer reads from (ConsumerOut).
CONSUMER_FIELDS = (
    "id", "public_id", "kind", "alias", "domain", "status", "inactive_reason", "is_trial",
    "display_name", "conference_id", "created_at", "company_id",
)  # fmt: skip


ConsumerSort = Literal[
    "alias", "-alias", "name", "-name", "created", "-created", "status", "-status"
]  # fmt: skip


def consumer_order(sort: str) -> tuple[str, ...]:
    """The list pages' sort (consumers.selectors.CONSUMER_SORTS), the id last so that the
    cursor is unique."""
    order = selectors.CONSUMER_SORTS[sort]
    return order if order[-1].lstrip("-") == "id" else (*order, "id")


class ConsumerFilters(PageQuery):
    kind: ConsumerKindName | None = Field(None, description="Only this kind; none: every kind.")
    status: ConsumerStatusName | None = None
    pending: bool = Field(False, description="Only users whose invitation is not accepted yet.")
    sort: ConsumerSort = Field("alias", description="As the list pages sort; `-` descending.")
    q: str = Field(
        "",
        max_length=200,
        description="Search as the list pages do: alias, name, address, a user's email, a "
        "room's conference ID.",
    )


def consumer_of(request: HttpRequest, consumer_id: UUID, kind: str | None = None) -> Consumer:
    """A consumer of one of the token's partner's companies (of `kind` if given), else 404."""
    qs = Consumer.objects.select_related("calling_domain")
    if kind is not None:
        qs = qs.filter(kind=kind)
    return partner_get(request, qs, consumer_id)


@router.get(
    "/companies/{company_id}/consumers",
    response={200: page_schema(ConsumerOut), **errors(404, 422)},
    summary="List a company's consumers",
)
def consumer_list(
    request: HttpRequest, company_id: UUID, filters: Query[ConsumerFilters]
) -> dict[str, Any]:
    _actor, company = api_actor_company(request, company_id, write=False, with_state=False)
    consumers = selectors.consumer_list(
        company=company,
        kind=filters.kind,
        query=filters.q,
        status=filters.status or "",
        pending_only=filters.pending,
    )
    # A consumer reads from its own row: not the list pages' joins of each kind's settings.
    rows = consumers.select_related(None).only(*CONSUMER_FIELDS)
    return cursor_page(request, rows, order=consumer_order(filters.sort))


CREATE_SERVICES = {
    ConsumerKind.USER: services.user_invite,
    ConsumerKind.TEAM_VMR: services.team_vmr_create,
    ConsumerKind.ENDPOINT: services.endpoint_create,
}


@router.post(
    "/companies/{company_id}/consumers",
    response={201: ConsumerOut, **errors(403, 404, 422)},
    summary="Add a consumer: invite a user, add a team VMR or an endpoint",
)
def consumer_create(
    request: HttpRequest, company_id: UUID, payload: ConsumerIn
) -> Status[Consumer]:
    actor, company = api_actor_company(request, company_id, write=True)
    fields = payload.dict(exclude={"kind"})
    consumer = CREATE_SERVICES[payload.kind](actor=actor, company=company, **fields)
    return Status(201, consumer)


@router.get(
    "/consumers/{consumer_id}",
    response={200: ConsumerOut, **errors(404)},
    summary="Read a consumer",
)
def consumer_read(request: HttpRequest, consumer_id: UUID) -> Consumer:
    api_actor(request, write=False)
    return consumer_of(request, consumer_id)


@router.delete(
    "/consumers/{consumer_id}",
    response={204: None, **errors(403, 404, 422)},
    summary="Delete a consumer (its seat is freed)",
)
def consumer_delete(request: HttpRequest, consumer_id: UUID) -> Status[None]:
    actor = api_actor(request, write=True)
    services.consumer_delete(actor=actor, consumer=consumer_of(request, consumer_id))
    return Status(204, None)


@router.post(
    "/consumers/{consumer_id}/activate",
    response={200: ConsumerOut, **errors(403, 404, 422)},
    summary="Reactivate an inactive consumer (needs a seat and a verified domain)",
)
def consumer_activate(request: HttpRequest, consumer_id: UUID) -> Consumer:
    actor = api_actor(request, write=True)
    return services.consumer_activate(actor=actor, consumer=consumer_of(request, consumer_id))


@router.post(
    "/consumers/{consumer_id}/resend-invitation",
    response={200: ConsumerOut, **errors(403, 404, 422)},
    summary="Send a user's pending invitation again",
)
def consumer_resend_invitation(request: HttpRequest, consumer_id: UUID) -> Consumer:
    actor = api_actor(request, write=True)
    consumer = consumer_of(request, consumer_id)
    invitations.invitation_resend(actor=actor, consumer=consumer)
    return consumer
