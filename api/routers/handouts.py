"""Handouts through the API: always an export a task generates (handouts.services), followed by
its status URL and downloaded once ready, whatever the company's size."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Router, Status

from handouts import services
from handouts.models import ExportStatus, HandoutExport

from ..auth import api_actor, api_actor_company
from ..lookups import partner_get
from ..problems import problem
from ..schemas import HandoutExportOut, HandoutIn
from .responses import errors

router = Router(tags=["handouts"])

# A downloaded HTML handout carries its own styles; nothing else may load or run (as the
# portal's download).
HANDOUT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def export_of(request: HttpRequest, export_id: UUID) -> HandoutExport:
    return partner_get(request, HandoutExport.objects.all(), export_id)


def status_url(request: HttpRequest, export: HandoutExport) -> str:
    return request.build_absolute_uri(f"/api/v1/handout-exports/{export.public_id}")


@router.post(
    "/companies/{company_id}/handout-exports",
    response={202: HandoutExportOut, **errors(404, 422)},
    summary="Start generating a company's handout (PDF or HTML)",
    description="Answers 202 at once; `Location` is the export's status URL. Every role may "
    "export handouts, read-only members included (as in the portal).",
)
def handout_export_start(
    request: HttpRequest, company_id: UUID, payload: HandoutIn, response: HttpResponse
) -> Status[HandoutExport]:
    actor, company = api_actor_company(request, company_id, write=False)
    options = services.HandoutOptions.from_dict(
        {"sections": payload.sections, "not_active": payload.not_active}
    )
    export = services.handout_export_start(
        actor=actor, company=company, fmt=payload.format, options=options
    )
    response["Location"] = status_url(request, export)
    return Status(202, export)


@router.get(
    "/handout-exports/{export_id}",
    response={200: HandoutExportOut, **errors(404)},
    summary="A handout export's status (and its download URL once done)",
)
def handout_export_read(request: HttpRequest, export_id: UUID) -> HandoutExport:
    api_actor(request, write=False)
    return export_of(request, export_id)


@router.get(
    "/handout-exports/{export_id}/download",
    response=errors(404, 409),
    openapi_extra={
        "responses": {
            200: {
                "description": "The handout file.",
                "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            }
        }
    },
    summary="Download a generated handout (409 until it is ready)",
)
def handout_export_download(request: HttpRequest, export_id: UUID) -> Any:
    api_actor(request, write=False)
    export = export_of(request, export_id)
    if export.status == ExportStatus.FAILED:
        return problem(
            409, "Conflict", detail=f"The handout could not be generated: {export.error}"
        )
    if export.status != ExportStatus.DONE or not export.file:
        return problem(
            409,
            "Conflict",
            detail="The handout is not ready yet: follow its status URL until it is done.",
        )
    response = FileResponse(
        export.file.open("rb"), as_attachment=True, filename=export.file.name.rsplit("/", 1)[-1]
    )
    if export.fmt == "html":
        response["Content-Security-Policy"] = HANDOUT_CSP
    return response
