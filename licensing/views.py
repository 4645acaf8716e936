from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.access import get_company, partner_view

from . import selectors
from .exports import consumers_csv_response
from .seats import seats_summary


@partner_view()
def licence_list(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    return render(
        request,
        "licensing/licence_list.html",
        {
            "company": company,
            "tab": "licences",
            "licences": selectors.licence_list(company=company),
            "seats": seats_summary(company=company),
            "today": timezone.localdate(),
        },
    )


@partner_view()
def consumers_export(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    return consumers_csv_response(
        partner=request.partner, company=company, filename=f"{company.slug}-licence-consumers.csv"
    )


@partner_view()
def partner_consumers_export(request: HttpRequest) -> HttpResponse:
    return consumers_csv_response(
        partner=request.partner, company=None, filename="licence-consumers.csv"
    )
