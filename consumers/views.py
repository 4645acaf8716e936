from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import get_company, partner_view
from portal.csvexport import csv_response
from portal.ratelimit import client_ip, rate_limited
from portal.web import add_service_errors, paginate, querystring_without

from . import exports, selectors, services
from .forms import BulkInviteForm, ConsumerEditForm, EndpointForm, TeamVmrForm, UserInviteForm
from .models import ConsumerKind, ConsumerStatus, seat_family
from .seats import seat_allocation
from .services import bulk, invitations


@dataclass(frozen=True)
class KindPage:
    kind: str
    tab: str
    title: str
    singular: str
    list_url: str
    add_url: str
    add_label: str


KINDS = {
    ConsumerKind.USER: KindPage(
        ConsumerKind.USER,
        "users",
        "Users",
        "user",
        "consumers:user_list",
        "consumers:user_invite",
        "Invite User",
    ),
    ConsumerKind.TEAM_VMR: KindPage(
        ConsumerKind.TEAM_VMR,
        "team_vmrs",
        "Team VMRs",
        "team VMR",
        "consumers:team_vmr_list",
        "consumers:team_vmr_add",
        "Add Team VMR",
    ),
    ConsumerKind.ENDPOINT: KindPage(
        ConsumerKind.ENDPOINT,
        "endpoints",
        "Endpoints",
        "endpoint",
        "consumers:endpoint_list",
        "consumers:endpoint_add",
        "Add Endpoint",
    ),
}


def _list(request: HttpRequest, company_id: str, kind: str) -> HttpResponse:
    company = get_company(request, company_id)
    page_info = KINDS[kind]
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    sort = request.GET.get("sort", "alias")
    pending = request.GET.get("pending") == "1"
    consumers = selectors.consumer_list(
        company=company, kind=kind, query=query, status=status, sort=sort, pending_only=pending
    )
    return render(
        request,
        "consumers/consumer_list.html",
        {
            "company": company,
            "tab": page_info.tab,
            "info": page_info,
            "page": paginate(request, consumers, count_with_rows=bool(query)),
            "query": query,
            "status": status if status in ConsumerStatus.values else "",
            "statuses": ConsumerStatus.choices,
            "sort": sort,
            "pending": pending,
            "qs_page": querystring_without(request, "page"),
            "qs_sort": querystring_without(request, "page", "sort"),
        },
    )


@partner_view()
def user_list(request: HttpRequest, company_id: str) -> HttpResponse:
    return _list(request, company_id, ConsumerKind.USER)


@partner_view()
def team_vmr_list(request: HttpRequest, company_id: str) -> HttpResponse:
    return _list(request, company_id, ConsumerKind.TEAM_VMR)


@partner_view()
def endpoint_list(request: HttpRequest, company_id: str) -> HttpResponse:
    return _list(request, company_id, ConsumerKind.ENDPOINT)


def _add(request: HttpRequest, company_id: str, kind: str, form_class, service) -> HttpResponse:  # type: ignore[no-untyped-def]
    company = get_company(request, company_id)
    info = KINDS[kind]
    form = form_class(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        try:
            consumer = service(actor=request.user, company=company, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            trial = " as a trial" if consumer.is_trial else ""
            verb = "invited" if kind == ConsumerKind.USER else "added"
            messages.success(request, f"{consumer.address} {verb}{trial}.")
            return redirect(info.list_url, company_id=company.public_id)
    return render(
        request,
        "consumers/consumer_form.html",
        {
            "company": company,
            "tab": info.tab,
            "info": info,
            "form": form,
            "decision": seat_allocation(company=company, family=seat_family(kind)),
        },
    )


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def user_invite(request: HttpRequest, company_id: str) -> HttpResponse:
    return _add(request, company_id, ConsumerKind.USER, UserInviteForm, services.user_invite)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def team_vmr_add(request: HttpRequest, company_id: str) -> HttpResponse:
    return _add(request, company_id, ConsumerKind.TEAM_VMR, TeamVmrForm, services.team_vmr_create)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def endpoint_add(request: HttpRequest, company_id: str) -> HttpResponse:
    return _add(request, company_id, ConsumerKind.ENDPOINT, EndpointForm, services.endpoint_create)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def consumer_edit(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    consumer = selectors.consumer_get(company=company, public_id=consumer_id)
    info = KINDS[consumer.kind]
    form = ConsumerEditForm(request.POST or None, consumer=consumer)
    if request.method == "POST" and form.is_valid():
        try:
            services.consumer_update(actor=request.user, consumer=consumer, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Changes saved.")
            return redirect(info.list_url, company_id=company.public_id)
    return render(
        request,
        "consumers/consumer_edit.html",
        {"company": company, "tab": info.tab, "info": info, "form": form, "consumer": consumer},
    )


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def consumer_delete(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    consumer = selectors.consumer_get(company=company, public_id=consumer_id)
    info = KINDS[consumer.kind]
    if request.method == "POST":
        address = consumer.address
        services.consumer_delete(actor=request.user, consumer=consumer)
        messages.success(request, f"{address} deleted.")
        return redirect(info.list_url, company_id=company.public_id)
    return render(
        request,
        "consumers/consumer_delete.html",
        {"company": company, "tab": info.tab, "info": info, "consumer": consumer},
    )


@partner_view(write=True)
@require_POST
def consumer_activate(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    consumer = selectors.consumer_get(company=company, public_id=consumer_id)
    info = KINDS[consumer.kind]
    try:
        consumer = services.consumer_activate(actor=request.user, consumer=consumer)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        trial = " as a trial" if consumer.is_trial else ""
        messages.success(request, f"{consumer.address} activated{trial}.")
    return redirect(info.list_url, company_id=company.public_id)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def user_bulk_invite(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    info = KINDS[ConsumerKind.USER]
    form = BulkInviteForm(request.POST or None, request.FILES or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        try:
            rows = bulk.parse_invite_csv(text)
            if request.POST.get("confirm") == "1":
                created = bulk.users_bulk_invite(actor=request.user, company=company, rows=rows)
                messages.success(request, f"{len(created)} users invited.")
                return redirect(info.list_url, company_id=company.public_id)
            plan = bulk.bulk_invite_plan(company=company, rows=rows)
        except bulk.BulkInviteError as exc:
            plan = exc.plan
        except ValidationError as exc:
            add_service_errors(form, exc)
        form = BulkInviteForm(initial={"text": text}) if plan is not None else form
    return render(
        request,
        "consumers/bulk_invite.html",
        {"company": company, "tab": info.tab, "info": info, "form": form, "plan": plan},
    )


@partner_view(write=True)
@require_POST
def invitation_resend(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    consumer = selectors.consumer_get(company=company, public_id=consumer_id)
    try:
        invitations.invitation_resend(actor=request.user, consumer=consumer)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Invitation to {consumer.address} sent again. Reminders now follow 10 and 30 days "
            "from today, and it expires 60 days from today.",
        )
    return redirect(KINDS[ConsumerKind.USER].list_url, company_id=company.public_id)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def invitation_revoke(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    consumer = selectors.consumer_get(company=company, public_id=consumer_id)
    info = KINDS[ConsumerKind.USER]
    if request.method == "POST":
        try:
            invitations.invitation_revoke(actor=request.user, consumer=consumer)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Invitation to {consumer.address} revoked.")
        return redirect(info.list_url, company_id=company.public_id)
    return render(
        request,
        "consumers/invitation_revoke.html",
        {"company": company, "tab": info.tab, "info": info, "consumer": consumer},
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's page (no login). Every kind of invalid link gets the same page."""
    if rate_limited(f"invite-ip:{client_ip(request)}", settings.INVITATION_RATE_LIMIT):
        return render(
            request,
            "consumers/invitation_invalid.html",
            {"message": "Too many attempts from your network. Try again in a minute."},
            status=429,
        )
    invitation = invitations.invitation_lookup(token)
    if invitation is None:
        return render(
            request,
            "consumers/invitation_invalid.html",
            {"message": invitations.INVALID_LINK_MESSAGE},
            status=404,
        )
    if request.method == "POST":
        try:
            consumer = invitations.invitation_accept(token=token)
        except ValidationError:
            return render(
                request,
                "consumers/invitation_invalid.html",
                {"message": invitations.INVALID_LINK_MESSAGE},
                status=404,
            )
        return render(
            request,
            "consumers/invitation_accepted.html",
            {
                "consumer": consumer,
                "company": consumer.company,
                "partner": consumer.company.partner,
            },
        )
    consumer = invitation.consumer
    return render(
        request,
        "consumers/invitation_accept.html",
        {
            "invitation": invitation,
            "consumer": consumer,
            "company": consumer.company,
            "partner": consumer.company.partner,
        },
    )


# --- licence consumers (what billing uses) -------------------------------------------------------


@partner_view()
def licence_consumers_export(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    return csv_response(
        filename=f"{company.slug}-licence-consumers.csv",
        header=exports.LICENCE_CONSUMERS_HEADER,
        rows=exports.licence_consumer_rows(partner=request.partner, company=company),
    )


@partner_view()
def partner_licence_consumers_export(request: HttpRequest) -> HttpResponse:
    return csv_response(
        filename="licence-consumers.csv",
        header=exports.LICENCE_CONSUMERS_HEADER,
        rows=exports.licence_consumer_rows(partner=request.partner, company=None),
    )
