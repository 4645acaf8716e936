from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.access import get_company, partner_view
from portal.db import replica_view

from . import selectors


@partner_view()
@replica_view
def licence_list(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    today = timezone.localdate()
    return render(
        request,
        "licensing/licence_list.html",
        {
            "company": company,
            "tab": "licences",
            "licences": selectors.licence_list(company=company),
            "seats": selectors.company_seats(company=company, today=today),
            "today": today,
        },
    )
