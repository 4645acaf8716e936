"""The batch tool: a batch is created as a preview (what will and will not happen to each
consumer), then confirmed (a task runs it), followed, and reported on; through the same
services as the batch pages (consumers.services.batch)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Status

from consumers import exports, selectors
from consumers.models import BatchJob
from consumers.services import batch as batches
from portal.csvexport import csv_response
from portal.db import replica_reads
from portal.web import has_control_characters

from ..auth import api_actor, api_actor_company
from ..lookups import partner_get
from ..pagination import PageQuery, cursor_page, page_schema
from ..schemas import BatchDetailOut, BatchIn, BatchItemOut
from .responses import errors

router = Router(tags=["batches"])

ONE_SELECTION = "Give exactly one of addresses, text, consumer_ids or matching."
UNSEARCHABLE = "The search has characters that cannot be searched."


def _selection(payload: BatchIn) -> dict[str, Any]:
    """The batch_preview keyword naming the selection, as the batch page's form gives it."""
    given = [
        name
        for name in ("addresses", "text", "consumer_ids", "matching")
        if getattr(payload, name) is not None
    ]
    if len(given) != 1:
        raise ValidationError({"__all__": [ONE_SELECTION]})
    if payload.matching is not None:
        if has_control_characters(payload.matching.q):
            # As the batch page: a list ignores such a search; a batch must not widen to all.
            raise ValidationError({"matching.q": [UNSEARCHABLE]})
        return {"matching": {"q": payload.matching.q, "status": payload.matching.status}}
    if payload.consumer_ids is not None:
        return {"consumer_ids": [str(i) for i in payload.consumer_ids]}
    field = given[0]
    text = payload.text if payload.text is not None else "\n".join(payload.addresses or [])
    try:
        return {"addresses": batches.parse_address_list(text)}
    except batches.BatchInputError as exc:
        raise ValidationError({field: exc.messages}) from None


def _detail(batch: BatchJob) -> BatchJob:
    batch.summary = selectors.batch_summary(batch=batch)  # type: ignore[attr-defined]
    return batch


def batch_of(request: HttpRequest, batch_id: UUID) -> BatchJob:
    return partner_get(request, BatchJob.objects.all(), batch_id)


@router.post(
    "/companies/{company_id}/batches",
    response={201: BatchDetailOut, **errors(404, 422)},
    summary="Start a batch: a preview of what it will do, nothing changes yet",
)
def batch_create(request: HttpRequest, company_id: UUID, payload: BatchIn) -> Status[BatchJob]:
    actor, company = api_actor_company(request, company_id, write=True)
    batch = batches.batch_preview(
        actor=actor,
        company=company,
        kind=payload.kind,
        action=payload.action,
        **_selection(payload),
    )
    return Status(201, _detail(batch))


@router.get(
    "/batches/{batch_id}",
    response={200: BatchDetailOut, **errors(404)},
    summary="A batch's status and counts",
)
def batch_read(request: HttpRequest, batch_id: UUID) -> BatchJob:
    api_actor(request, write=False)
    return _detail(batch_of(request, batch_id))


@router.post(
    "/batches/{batch_id}/confirm",
    response={202: BatchDetailOut, **errors(404, 422)},
    summary="Confirm a previewed batch: it is queued and runs",
)
def batch_confirm(request: HttpRequest, batch_id: UUID) -> Status[BatchJob]:
    actor = api_actor(request, write=True)
    batch = batches.batch_confirm(actor=actor, batch=batch_of(request, batch_id))
    return Status(202, _detail(batch))


@router.post(
    "/batches/{batch_id}/cancel",
    response={200: BatchDetailOut, **errors(404)},
    summary="Cancel a previewed batch (nothing changes)",
)
def batch_cancel(request: HttpRequest, batch_id: UUID) -> BatchJob:
    actor = api_actor(request, write=True)
    batch = batch_of(request, batch_id)
    batches.batch_cancel(actor=actor, batch=batch)
    batch.refresh_from_db()
    return _detail(batch)


class ItemFilters(PageQuery):
    show: Literal["will", "wont", "failed"] | None = Field(
        None, description="Only the items that will run, will not, or failed; none: all."
    )


@router.get(
    "/batches/{batch_id}/report",
    response={200: page_schema(BatchItemOut), **errors(404, 422)},
    summary="A batch's items in order, each with its plan and outcome",
)
def batch_report(
    request: HttpRequest, batch_id: UUID, filters: Query[ItemFilters]
) -> dict[str, Any]:
    api_actor(request, write=False)
    batch = batch_of(request, batch_id)
    items = selectors.batch_items(batch=batch, show=filters.show or "")
    return cursor_page(request, items, order=("position",))


@router.get(
    "/batches/{batch_id}/report.csv",
    response=errors(404),
    openapi_extra={
        "responses": {
            200: {
                "description": "One row per address: address, planned, outcome, message.",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
    summary="A batch's report as CSV (as the batch page's download)",
)
def batch_report_csv(request: HttpRequest, batch_id: UUID) -> HttpResponse:
    api_actor(request, write=False)
    batch = batch_of(request, batch_id)
    with replica_reads(request):  # an export: its rows from the read replica, when there is one
        return csv_response(
            filename=f"batch-{batch.public_id}.csv",
            header=exports.BATCH_REPORT_HEADER,
            rows=exports.batch_report_rows(batch),
        )
