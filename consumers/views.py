"""The Users, Team VMRs and Endpoints tabs: lists, add, edit, delete, activate, the CSV invite,
invitation actions and the invitee's page; the licence consumers exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import get_company, partner_view
from portal.csvexport import csv_response
from portal.db import replica_view
from portal.display import counted, unicode_domain
from portal.errors import too_many_requests
from portal.models import Company
from portal.ratelimit import client_ip, rate_limited
from portal.web import (
    act,
    add_service_errors,
    paginate,
    query_param,
    querystring_without,
    submit,
)

from . import exports, selectors, services
from .csv_input import csv_reading
from .forms import BulkInviteForm, ConsumerEditForm, EndpointForm, TeamVmrForm, UserInviteForm
from .models import Consumer, ConsumerKind, ConsumerStatus, seat_family
from .seats import seat_allocation
from .services import bulk, invitations


@dataclass(frozen=True)
class KindPage:
    """What the pages of one kind of consumer are called, and where they are."""

    kind: str
    tab: str
    title: str
    singular: str
    list_url: str
    add_url: str
    add_label: str

    @property
    def plural(self) -> str:
        """ "users", "team VMRs", "endpoints": the kind as it reads in a sentence (see the
        `counted` template filter)."""
        return f"{self.singular}s"


KINDS = {
    kind: KindPage(kind, tab, title, singular, f"consumers:{tab[:-1]}_list", add_url, label)
    for kind, tab, title, singular, add_url, label in (
        (ConsumerKind.USER, "users", "Users", "user", "consumers:user_invite", "Invite User"),
        (
            ConsumerKind.TEAM_VMR,
            "team_vmrs",
            "Team VMRs",
            "team VMR",
            "consumers:team_vmr_add",
            "Add Team VMR",
        ),
        (
            ConsumerKind.ENDPOINT,
            "endpoints",
            "Endpoints",
            "endpoint",
            "consumers:endpoint_add",
            "Add Endpoint",
        ),
    )
}


def _tab_page(
    request: HttpRequest, template: str, company: Company, kind_page: KindPage, **context: Any
) -> HttpResponse:
    """A page of one kind's tab."""
    context = {"company": company, "tab": kind_page.tab, "kind_page": kind_page, **context}
    return render(request, f"consumers/{template}.html", context)


def _to_list(company: Company, kind_page: KindPage) -> HttpResponse:
    return redirect(kind_page.list_url, company_id=company.public_id)


def _consumer(
    request: HttpRequest, company_id: str, consumer_id: str
) -> tuple[Company, Consumer, KindPage]:
    company = get_company(request, company_id)
    consumer = selectors.consumer_get(company=company, public_id=consumer_id)
    return company, consumer, KINDS[consumer.kind]


def _list_view(kind: str) -> Callable[..., HttpResponse]:
    @partner_view()
    @replica_view
    def view(request: HttpRequest, company_id: str) -> HttpResponse:
        company = get_company(request, company_id)
        query, status = query_param(request, "q"), query_param(request, "status")
        sort = query_param(request, "sort") or "alias"
        pending = request.GET.get("pending") == "1"
        consumers = selectors.consumer_list(
            company=company, kind=kind, query=query, status=status, sort=sort, pending_only=pending
        )
        return _tab_page(
            request,
            "consumer_list",
            company,
            KINDS[kind],
            page=paginate(request, consumers, count_with_rows=bool(query)),
            query=query,
            status=status if status in ConsumerStatus.values else "",
            statuses=ConsumerStatus.choices,
            sort=sort,
            pending=pending,
            qs_page=querystring_without(request, "page"),
            qs_sort=querystring_without(request, "page", "sort"),
            add_gate=_add_gate(request, company, kind),
        )

    return view


def _add_gate(request: HttpRequest, company: Company, kind: str) -> Any:
    """What the next add of `kind` would do to the seats (the seat allocation, two queries
    whatever the page shows), so that an Add button the licence gate would refuse is disabled
    with its reason; None for read-only staff, who see no Add button."""
    if not request.membership.can_write:  # type: ignore[attr-defined]
        return None
    return seat_allocation(company=company, family=seat_family(kind))


user_list = _list_view(ConsumerKind.USER)
team_vmr_list = _list_view(ConsumerKind.TEAM_VMR)
endpoint_list = _list_view(ConsumerKind.ENDPOINT)


def _add_view(kind: str, form_class: type, service: Callable[..., Consumer]) -> Callable[..., Any]:
    """The add page of a kind: the form, what the next one would do to the seats, the
    service."""

    @partner_view(write=True)
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, company_id: str) -> HttpResponse:
        company = get_company(request, company_id)
        form = form_class(request.POST or None, company=company)
        done, consumer = submit(
            request,
            form,
            lambda _data: service(actor=request.user, company=company, **form.service_kwargs()),
        )
        if done:
            trial = " as a trial" if consumer.is_trial else ""
            verb = "invited" if kind == ConsumerKind.USER else "added"
            messages.success(request, f"{unicode_domain(consumer.address)} {verb}{trial}.")
            return _to_list(company, KINDS[kind])
        decision = seat_allocation(company=company, family=seat_family(kind))
        if not decision.allowed:
            _drop_seat_refusal(form)
        return _tab_page(
            request, "consumer_form", company, KINDS[kind], form=form, decision=decision
        )

    return view


def _drop_seat_refusal(form: forms.BaseForm) -> None:
    """A forced submit (a POST past the disabled button) is refused by the seat allocation: the
    page's seat notice already says so, so the same refusal is not shown again above the form."""
    errors = form.errors.get(NON_FIELD_ERRORS)
    if errors is None:
        return
    kept = [error for error in errors.as_data() if error.code != "no_seat"]
    if kept:
        form.errors[NON_FIELD_ERRORS] = form.error_class(kept, error_class="nonfield")
    else:
        del form.errors[NON_FIELD_ERRORS]


user_invite = _add_view(ConsumerKind.USER, UserInviteForm, services.user_invite)
team_vmr_add = _add_view(ConsumerKind.TEAM_VMR, TeamVmrForm, services.team_vmr_create)
endpoint_add = _add_view(ConsumerKind.ENDPOINT, EndpointForm, services.endpoint_create)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def consumer_edit(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer, kind_page = _consumer(request, company_id, consumer_id)
    form = ConsumerEditForm(request.POST or None, consumer=consumer)
    done, _ = submit(
        request,
        form,
        lambda data: services.consumer_update(actor=request.user, consumer=consumer, **data),
    )
    if done:
        messages.success(request, "Changes saved.")
        return _to_list(company, kind_page)
    return _tab_page(request, "consumer_edit", company, kind_page, form=form, consumer=consumer)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def consumer_delete(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer, kind_page = _consumer(request, company_id, consumer_id)
    if request.method == "POST":
        act(
            request,
            lambda: services.consumer_delete(actor=request.user, consumer=consumer),
            f"{consumer.address} deleted.",
        )
        return _to_list(company, kind_page)
    return _tab_page(request, "consumer_delete", company, kind_page, consumer=consumer)


@partner_view(write=True)
@require_POST
def consumer_activate(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer, kind_page = _consumer(request, company_id, consumer_id)
    if act(request, lambda: services.consumer_activate(actor=request.user, consumer=consumer)):
        consumer.refresh_from_db()
        trial = " as a trial" if consumer.is_trial else ""
        messages.success(request, f"{unicode_domain(consumer.address)} activated{trial}.")
    return _to_list(company, kind_page)


def _bulk_invite(
    request: HttpRequest, company: Company, form: BulkInviteForm
) -> tuple[bulk.BulkPlan | None, int | None]:
    """(the plan to show, or how many were invited once confirmed)."""
    try:
        rows = bulk.parse_invite_csv(form.cleaned_data["text"])
        if request.POST.get("confirm") == "1":
            created = bulk.users_bulk_invite(actor=request.user, company=company, rows=rows)
            return None, len(created)
        return bulk.bulk_invite_plan(company=company, rows=rows), None
    except bulk.BulkInviteError as exc:
        return exc.plan, None
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None, None


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def user_bulk_invite(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    kind_page = KINDS[ConsumerKind.USER]
    form = BulkInviteForm(request.POST or None, request.FILES or None)
    plan, reading = None, ""
    if request.method == "POST" and form.is_valid():
        plan, invited = _bulk_invite(request, company, form)
        if invited is not None:
            messages.success(request, f"{counted(invited, 'user', 'users')} invited.")
            return _to_list(company, kind_page)
        # Which encoding and separator the file was read with, said beside what it gave.
        reading = csv_reading(
            text=form.cleaned_data["text"], encoding=form.cleaned_data["encoding"]
        )
        if plan is not None:
            form = BulkInviteForm(initial={"text": form.cleaned_data["text"]})
    return _tab_page(
        request, "bulk_invite", company, kind_page, form=form, plan=plan, reading=reading
    )


@partner_view(write=True)
@require_POST
def invitation_resend(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer, kind_page = _consumer(request, company_id, consumer_id)
    act(
        request,
        lambda: invitations.invitation_resend(actor=request.user, consumer=consumer),
        f"Invitation to {consumer.address} sent again. Reminders now follow 10 and 30 days "
        "from today, and it expires 60 days from today.",
    )
    return _to_list(company, kind_page)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def invitation_revoke(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company, consumer, kind_page = _consumer(request, company_id, consumer_id)
    if request.method == "POST":
        act(
            request,
            lambda: invitations.invitation_revoke(actor=request.user, consumer=consumer),
            f"Invitation to {consumer.address} revoked.",
        )
        return _to_list(company, kind_page)
    return _tab_page(request, "invitation_revoke", company, kind_page, consumer=consumer)


def _invitee_page(request: HttpRequest, template: str, status: int = 200, **context: Any) -> Any:
    return render(request, f"consumers/{template}.html", context, status=status)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's page (no login). Every kind of invalid link gets the same page."""
    if rate_limited(f"invite-ip:{client_ip(request)}", settings.INVITATION_RATE_LIMIT):
        message = "Too many attempts came from your network."
        return too_many_requests(request, message=message)
    invitation = invitations.invitation_lookup(token)
    invalid = {"message": invitations.INVALID_LINK_MESSAGE}
    if invitation is None:
        return _invitee_page(request, "invitation_invalid", 404, **invalid)
    consumer = invitation.consumer
    if request.method == "POST":
        try:
            consumer = invitations.invitation_accept(token=token)
        except ValidationError:
            return _invitee_page(request, "invitation_invalid", 404, **invalid)
        template = "invitation_accepted"
    else:
        template = "invitation_accept"
    return _invitee_page(
        request,
        template,
        invitation=invitation,
        consumer=consumer,
        company=consumer.company,
        partner=consumer.company.partner,
    )


# --- licence consumers (what billing uses) -------------------------------------------------------


def _licence_consumers(
    request: HttpRequest, filename: str, company: Company | None
) -> HttpResponse:
    return csv_response(
        filename=filename,
        header=exports.LICENCE_CONSUMERS_HEADER,
        rows=exports.licence_consumer_rows(partner=request.partner, company=company),  # type: ignore[attr-defined]
    )


@partner_view()
@replica_view
def licence_consumers_export(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    return _licence_consumers(request, f"{company.slug}-licence-consumers.csv", company)


@partner_view()
@replica_view
def partner_licence_consumers_export(request: HttpRequest) -> HttpResponse:
    return _licence_consumers(request, "licence-consumers.csv", None)
