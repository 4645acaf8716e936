"""The Domains tab: calling domains (add, verify, DNS records, delete), Microsoft 365 domains
and interop configurations."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from portal import activity
from portal.access import get_company, partner_view
from portal.db import replica_view
from portal.display import unicode_domain
from portal.models import Company
from portal.web import act, submit

from . import records, selectors, services
from .activity import calling_domain_subject
from .forms import CallingDomainForm, InteropForm, Microsoft365DomainForm
from .models import CLAIM_LIFETIME, CallingDomain


def _page(request: HttpRequest, template: str, company: Company, **context: object) -> HttpResponse:
    """A page (or panel) of the Domains tab."""
    context = {
        "company": company,
        "tab": "domains",
        "txt_prefix": settings.DOMAIN_VERIFICATION_PREFIX,
        "claim_lifetime_days": CLAIM_LIFETIME.days,
        **context,
    }
    return render(request, f"domains/{template}.html", context)


def _to_list(company: Company) -> HttpResponse:
    return redirect("domains:domain_list", company_id=company.public_id)


def _to_detail(company: Company, domain: CallingDomain) -> HttpResponse:
    return redirect(
        "domains:domain_detail", company_id=company.public_id, domain_id=domain.public_id
    )


def _domain(request: HttpRequest, company_id: str, domain_id: str) -> tuple[Company, CallingDomain]:
    company = get_company(request, company_id)
    return company, selectors.calling_domain_get(company=company, public_id=domain_id)


@partner_view()
@replica_view
def domain_list(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    return _page(
        request,
        "domain_list",
        company,
        domains=selectors.calling_domain_list(company=company),
        m365=selectors.microsoft365_domain_list(company=company),
        interops=selectors.interop_list(company=company),
    )


def _added_message(company: Company, domain: CallingDomain) -> str:
    if domain.is_verified:
        method = domain.get_verification_method_display().lower()
        return f"{domain.name} added and verified automatically ({method})."
    return (
        f"{domain.name} added. The DNS records to publish were emailed to {company.contact_email}."
    )


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def domain_add(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    form = CallingDomainForm(request.POST or None)
    done, domain = submit(
        request,
        form,
        lambda data: services.calling_domain_add(
            actor=request.user, company=company, name=data["name"]
        ),
    )
    if done:
        messages.success(request, _added_message(company, domain))
        return _to_detail(company, domain)
    return _page(request, "domain_add", company, form=form)


def _detail_page(
    request: HttpRequest, company: Company, domain: CallingDomain, **extra: object
) -> HttpResponse:
    return _page(
        request,
        "domain_detail",
        company,
        domain=domain,
        records=records.required_records(domain),
        consumer_count=domain.consumers.count(),  # type: ignore[attr-defined]
        timeline=activity.timeline(
            company=company,
            object_type="callingdomain",
            object_id=domain.public_id,
            subject=calling_domain_subject(domain),
        ),
        **extra,
    )


@partner_view()
def domain_detail(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company, domain = _domain(request, company_id, domain_id)
    return _detail_page(request, company, domain)


@partner_view()
@vary_on_headers("HX-Request")
def domain_status(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    """The status panel that the detail page polls while a check is running."""
    company, domain = _domain(request, company_id, domain_id)
    if request.htmx:  # type: ignore[attr-defined]
        return _page(request, "includes/domain_status", company, domain=domain)
    return _to_detail(company, domain)


@partner_view()
@vary_on_headers("HX-Request")
def domain_dns_check(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    """The live DNS panel, loaded once the detail page is shown; without JavaScript, the
    detail page with the panel filled in."""
    company, domain = _domain(request, company_id, domain_id)
    checks = records.check_records(domain)
    if request.htmx:  # type: ignore[attr-defined]
        return _page(request, "includes/dns_check", company, domain=domain, checks=checks)
    return _detail_page(request, company, domain, checks=checks)


@partner_view(write=True)
@require_POST
def domain_verify(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company, domain = _domain(request, company_id, domain_id)
    services.calling_domain_request_check(actor=request.user, calling_domain=domain)
    if request.htmx:  # type: ignore[attr-defined]
        # The page swaps this status panel in; it polls until the check is done. Re-read the
        # domain: where tasks run in-process (`make run`), the check has already run.
        domain.refresh_from_db()
        return _page(request, "includes/domain_status", company, domain=domain)
    return _to_detail(company, domain)


@partner_view(write=True)
@require_POST
def domain_resend_email(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company, domain = _domain(request, company_id, domain_id)
    act(
        request,
        lambda: services.calling_domain_dns_email_resend(actor=request.user, calling_domain=domain),
        f"DNS requirements for {domain.name} sent to {company.contact_email}.",
    )
    return _to_detail(company, domain)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def domain_delete(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company, domain = _domain(request, company_id, domain_id)
    if request.method == "POST":
        if act(
            request,
            lambda: services.calling_domain_delete(actor=request.user, calling_domain=domain),
            f"{domain.name} deleted.",
        ):
            return _to_list(company)
        return _to_detail(company, domain)
    count = domain.consumers.count()  # type: ignore[attr-defined]
    return _page(request, "domain_delete", company, domain=domain, consumer_count=count)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def m365_add(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    form = Microsoft365DomainForm(request.POST or None)
    done, domain = submit(
        request,
        form,
        lambda data: services.microsoft365_domain_add(
            actor=request.user, company=company, name=data["name"]
        ),
    )
    if done:
        messages.success(request, f"Microsoft 365 domain {unicode_domain(domain.name)} added.")
        return _to_list(company)
    return _page(request, "simple_form", company, form=form, title="Add Microsoft 365 domain")


@partner_view(write=True)
@require_POST
def m365_verify(request: HttpRequest, company_id: str, m365_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.microsoft365_domain_get(company=company, public_id=m365_id)
    domain = services.microsoft365_domain_verify(actor=request.user, microsoft365_domain=domain)
    if domain.is_verified:
        messages.success(request, f"{unicode_domain(domain.name)} is verified.")
    else:
        messages.error(
            request, f"{unicode_domain(domain.name)} is not verified yet: {domain.last_error}"
        )
    return _to_list(company)


@partner_view(write=True)
@require_POST
def m365_delete(request: HttpRequest, company_id: str, m365_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.microsoft365_domain_get(company=company, public_id=m365_id)
    act(
        request,
        lambda: services.microsoft365_domain_delete(actor=request.user, microsoft365_domain=domain),
        f"Microsoft 365 domain {domain.name} removed.",
    )
    return _to_list(company)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def interop_add(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    form = InteropForm(request.POST or None, company=company)
    done, _ = submit(
        request,
        form,
        lambda data: services.interop_configuration_create(
            actor=request.user, company=company, **data
        ),
    )
    if done:
        messages.success(request, "Interop configuration added.")
        return _to_list(company)
    title = "Add Microsoft Teams interop configuration"
    return _page(request, "simple_form", company, form=form, title=title)


@partner_view(write=True)
@require_POST
def interop_delete(request: HttpRequest, company_id: str, interop_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    config = selectors.interop_get(company=company, public_id=interop_id)
    act(
        request,
        lambda: services.interop_configuration_delete(actor=request.user, configuration=config),
        f"Interop configuration {config.name} deleted.",
    )
    return _to_list(company)
