from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import get_company, partner_view
from portal.web import add_service_errors

from . import records, selectors, services
from .forms import CallingDomainForm, InteropForm, Microsoft365DomainForm


def _ctx(company, **extra):  # type: ignore[no-untyped-def]
    return {
        "company": company,
        "tab": "domains",
        "txt_prefix": settings.DOMAIN_VERIFICATION_PREFIX,
        **extra,
    }


@partner_view()
def domain_list(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    return render(
        request,
        "domains/domain_list.html",
        _ctx(
            company,
            domains=selectors.calling_domain_list(company=company),
            m365=selectors.microsoft365_domain_list(company=company),
            interops=selectors.interop_list(company=company),
        ),
    )


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def domain_add(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    form = CallingDomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain = services.calling_domain_add(
                actor=request.user, company=company, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if domain.is_verified:
                messages.success(
                    request,
                    f"{domain.name} added and verified automatically "
                    f"({domain.get_verification_method_display().lower()}).",
                )
            else:
                messages.success(
                    request,
                    f"{domain.name} added. The DNS records to publish were emailed to "
                    f"{company.contact_email}.",
                )
            return redirect(
                "domains:domain_detail", company_id=company.public_id, domain_id=domain.public_id
            )
    return render(request, "domains/domain_add.html", _ctx(company, form=form))


@partner_view()
def domain_detail(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.calling_domain_get(company=company, public_id=domain_id)
    return render(
        request,
        "domains/domain_detail.html",
        _ctx(
            company,
            domain=domain,
            records=records.required_records(domain),
            consumer_count=domain.consumers.count(),
        ),
    )


@partner_view()
def domain_status(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    """The status fragment the detail page polls while a check is running."""
    company = get_company(request, company_id)
    domain = selectors.calling_domain_get(company=company, public_id=domain_id)
    return render(request, "domains/includes/domain_status.html", _ctx(company, domain=domain))


@partner_view()
def domain_dns_check(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.calling_domain_get(company=company, public_id=domain_id)
    return render(
        request,
        "domains/includes/dns_check.html",
        _ctx(company, domain=domain, checks=records.check_records(domain)),
    )


@partner_view(write=True)
@require_POST
def domain_verify(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.calling_domain_get(company=company, public_id=domain_id)
    services.calling_domain_request_check(actor=request.user, calling_domain=domain)
    if request.headers.get("X-Requested-With") == "fetch":
        # The page asked in the background: answer with the status panel it swaps in and
        # polls until the check is done (no page reload).
        domain.refresh_from_db()
        return render(request, "domains/includes/domain_status.html", _ctx(company, domain=domain))
    return redirect(
        "domains:domain_detail", company_id=company.public_id, domain_id=domain.public_id
    )


@partner_view(write=True)
@require_POST
def domain_resend_email(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.calling_domain_get(company=company, public_id=domain_id)
    services.calling_domain_dns_email_resend(actor=request.user, calling_domain=domain)
    messages.success(
        request, f"DNS requirements for {domain.name} sent to {company.contact_email}."
    )
    return redirect(
        "domains:domain_detail", company_id=company.public_id, domain_id=domain.public_id
    )


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def domain_delete(request: HttpRequest, company_id: str, domain_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.calling_domain_get(company=company, public_id=domain_id)
    if request.method == "POST":
        try:
            services.calling_domain_delete(actor=request.user, calling_domain=domain)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(
                "domains:domain_detail", company_id=company.public_id, domain_id=domain.public_id
            )
        messages.success(request, f"{domain.name} deleted.")
        return redirect("domains:domain_list", company_id=company.public_id)
    return render(
        request,
        "domains/domain_delete.html",
        _ctx(company, domain=domain, consumer_count=domain.consumers.count()),
    )


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def m365_add(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    form = Microsoft365DomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain = services.microsoft365_domain_add(
                actor=request.user, company=company, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Microsoft 365 domain {domain.name} added.")
            return redirect("domains:domain_list", company_id=company.public_id)
    return render(
        request,
        "domains/simple_form.html",
        _ctx(company, form=form, title="Add Microsoft 365 domain"),
    )


@partner_view(write=True)
@require_POST
def m365_verify(request: HttpRequest, company_id: str, m365_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.microsoft365_domain_get(company=company, public_id=m365_id)
    domain = services.microsoft365_domain_verify(actor=request.user, microsoft365_domain=domain)
    if domain.is_verified:
        messages.success(request, f"{domain.name} is verified.")
    else:
        messages.error(request, f"{domain.name} is not verified yet: {domain.last_error}")
    return redirect("domains:domain_list", company_id=company.public_id)


@partner_view(write=True)
@require_POST
def m365_delete(request: HttpRequest, company_id: str, m365_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    domain = selectors.microsoft365_domain_get(company=company, public_id=m365_id)
    services.microsoft365_domain_delete(actor=request.user, microsoft365_domain=domain)
    messages.success(request, f"Microsoft 365 domain {domain.name} removed.")
    return redirect("domains:domain_list", company_id=company.public_id)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def interop_add(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    form = InteropForm(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        try:
            services.interop_configuration_create(
                actor=request.user, company=company, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Interop configuration added.")
            return redirect("domains:domain_list", company_id=company.public_id)
    return render(
        request,
        "domains/simple_form.html",
        _ctx(company, form=form, title="Add Microsoft Teams interop configuration"),
    )


@partner_view(write=True)
@require_POST
def interop_delete(request: HttpRequest, company_id: str, interop_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    config = selectors.interop_get(company=company, public_id=interop_id)
    services.interop_configuration_delete(actor=request.user, configuration=config)
    messages.success(request, f"Interop configuration {config.name} deleted.")
    return redirect("domains:domain_list", company_id=company.public_id)
