from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.access import get_company, partner_view


@partner_view()
def domain_list(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    return render(
        request,
        "portal/company_tab_empty.html",
        {"company": company, "tab": "domains", "title": "Calling Domains"},
    )
