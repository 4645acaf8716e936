from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.access import get_company, partner_view


def _tab(request: HttpRequest, company_id: str, tab: str, title: str) -> HttpResponse:
    company = get_company(request, company_id)
    return render(
        request, "portal/company_tab_empty.html", {"company": company, "tab": tab, "title": title}
    )


@partner_view()
def user_list(request: HttpRequest, company_id: str) -> HttpResponse:
    return _tab(request, company_id, "users", "Users")


@partner_view()
def team_vmr_list(request: HttpRequest, company_id: str) -> HttpResponse:
    return _tab(request, company_id, "team_vmrs", "Team VMRs")


@partner_view()
def endpoint_list(request: HttpRequest, company_id: str) -> HttpResponse:
    return _tab(request, company_id, "endpoints", "Endpoints")
