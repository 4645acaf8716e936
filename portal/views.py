from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from . import activity, display, selectors, services, twofactor
from .access import get_company, get_member, partner_view
from .db import replica_view
from .forms import (
    CodeForm,
    CompanyDeleteForm,
    CompanyForm,
    MemberInviteForm,
    MemberRoleForm,
    PasswordResetForm,
)
from .models import Company, CompanyState
from .ratelimit import client_ip, rate_limited
from .selectors import COMPANY_SORTS
from .web import (
    act,
    day_start,
    paginate,
    query_day,
    query_param,
    query_uuid,
    querystring_without,
    submit,
)

# The password reset limits (settings.PASSWORD_RESET_RATE_LIMIT, _IP_RATE_LIMIT) count per hour.
PASSWORD_RESET_WINDOW_SECONDS = 3600


@partner_view()
def home(request: HttpRequest) -> HttpResponse:
    return redirect("portal:company_list")


@partner_view()
@replica_view
def company_list(request: HttpRequest) -> HttpResponse:
    query = query_param(request, "q")
    state = request.GET.get("state", "")
    sort = request.GET.get("sort", "name")
    companies, counts = selectors.company_directory(
        partner=request.partner, query=query, state=state, sort=sort
    )
    state = state if state in CompanyState.values else ""
    return render(
        request,
        "portal/company_list.html",
        {
            "page": paginate(request, companies, count=counts[state or "all"]),
            "query": query,
            "state": state,
            "sort": sort if sort in COMPANY_SORTS else "name",
            "states": CompanyState.choices,
            "counts": counts,
            "qs_page": querystring_without(request, "page"),
            "qs_state": querystring_without(request, "page", "state"),
            "qs_sort": querystring_without(request, "page", "sort"),
        },
    )


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def company_create(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None)
    done, company = submit(
        request,
        form,
        lambda data: services.company_create(actor=request.user, partner=request.partner, **data),
    )
    if done:
        messages.success(request, _created_message(company))
        return redirect("portal:company_detail", company_id=company.public_id)
    context = {"form": form, "company": None, "trial_days": settings.NEW_COMPANY_EVALUATION_DAYS}
    return render(request, "portal/company_form.html", context)


def _created_message(company: Company) -> str:
    if company.evaluation_ends_on is None:
        return f"Company “{company.name}” created."
    return (
        f"Company “{company.name}” created. It is in trial mode: the evaluation is open until "
        f"{display.day(company.evaluation_ends_on)}, and {company.contact_email} was told."
    )


@partner_view()
def company_detail(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    return redirect("consumers:user_list", company_id=company.public_id)


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def company_edit(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    form = CompanyForm(request.POST or None, instance=company)
    done, _ = submit(
        request,
        form,
        lambda data: services.company_update(actor=request.user, company=company, **data),
    )
    if done:
        messages.success(request, "Company details saved.")
        return redirect("portal:company_detail", company_id=company.public_id)
    return render(request, "portal/company_form.html", {"form": form, "company": company})


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def company_delete(request: HttpRequest, company_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    # Bound on every POST, an empty one included: the typed name is always checked.
    form = CompanyDeleteForm(request.POST if request.method == "POST" else None, company=company)
    if request.method == "POST" and form.is_valid():
        name = company.name
        services.company_delete(actor=request.user, company=company)
        messages.success(request, f"Company “{name}” deleted.")
        return redirect("portal:company_list")
    return render(
        request,
        "portal/company_delete.html",
        {
            "company": company,
            "form": form,
            "impact": selectors.company_delete_impact(company=company),
        },
    )


@partner_view()
@replica_view
def company_activity(request: HttpRequest, company_id: str) -> HttpResponse:
    """The Activity tab: the company's audit log in sentences, filtered by action, days, a
    search and one object (a detail page's "see all")."""
    company = get_company(request, company_id)
    action = query_param(request, "action")
    action = action if action in activity.ACTIONS else ""
    since_day, until_day = query_day(request, "from"), query_day(request, "to")
    object_id = query_uuid(request, "object")
    query = query_param(request, "q")
    events = selectors.company_activity(
        company=company,
        action=action,
        since=day_start(since_day),
        until=day_start(until_day + timedelta(days=1)) if until_day else None,
        query=query,
        object_id=object_id,
    )
    page = paginate(request, events, count_with_rows=bool(query))
    subjects = activity.subjects_for(company, page.object_list)
    filtered = bool(action or since_day or until_day or object_id or query)
    return render(
        request,
        "portal/company_activity.html",
        {
            "company": company,
            "tab": "activity",
            "page": page,
            "rows": [(e, activity.describe(e, subjects, company=company)) for e in page],
            "action_choices": activity.action_choices(),
            "action": action,
            "since": since_day,
            "until": until_day,
            "query": query,
            "object_id": object_id,
            "filtered": filtered,
            "qs_page": querystring_without(request, "page"),
        },
    )


# --- partner staff ------------------------------------------------------------------------------


@partner_view(manager=True)
@replica_view
def member_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/member_list.html",
        {
            "members": selectors.member_list(partner=request.partner),
            "role_form": MemberRoleForm(),
        },
    )


@partner_view(manager=True)
@require_http_methods(["GET", "POST"])
def member_invite(request: HttpRequest) -> HttpResponse:
    form = MemberInviteForm(request.POST or None)
    done, _ = submit(
        request,
        form,
        lambda data: services.member_invite(actor=request.user, partner=request.partner, **data),
    )
    if done:
        # The same words whether or not the address already had an account.
        messages.success(request, f"Invitation sent to {form.cleaned_data['email'].lower()}.")
        return redirect("portal:member_list")
    return render(request, "portal/member_invite.html", {"form": form})


@partner_view(manager=True)
@require_POST
def member_role(request: HttpRequest, member_id: str) -> HttpResponse:
    member = get_member(request, member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("portal:member_list")
    role = form.cleaned_data["role"]
    if act(
        request,
        lambda: services.member_change_role(actor=request.user, membership=member, role=role),
    ):
        messages.success(
            request, f"{member.user.email} is now {member.get_role_display().lower()}."
        )
    return redirect("portal:member_list")


@partner_view(manager=True)
@require_http_methods(["GET", "POST"])
def member_deactivate(request: HttpRequest, member_id: str) -> HttpResponse:
    return _member_set_active(request, member_id, active=False)


@partner_view(manager=True)
@require_http_methods(["GET", "POST"])
def member_reactivate(request: HttpRequest, member_id: str) -> HttpResponse:
    return _member_set_active(request, member_id, active=True)


def _member_set_active(request: HttpRequest, member_id: str, *, active: bool) -> HttpResponse:
    member = get_member(request, member_id)
    if request.method == "POST":
        verb = "reactivated" if active else "deactivated"
        act(
            request,
            lambda: services.member_set_active(
                actor=request.user, membership=member, active=active
            ),
            f"{member.user.email} {verb}.",
        )
        return redirect("portal:member_list")
    return render(request, "portal/member_confirm.html", {"member": member, "active": active})


@partner_view(manager=True)
@require_POST
def member_resend(request: HttpRequest, member_id: str) -> HttpResponse:
    member = get_member(request, member_id)
    act(
        request,
        lambda: services.member_invitation_resend(actor=request.user, membership=member),
        f"Invitation sent again to {member.user.email}.",
    )
    return redirect("portal:member_list")


@partner_view(manager=True)
@require_http_methods(["GET", "POST"])
def member_reset_2fa(request: HttpRequest, member_id: str) -> HttpResponse:
    member = get_member(request, member_id)
    if request.method == "POST":
        act(
            request,
            lambda: services.member_reset_second_factor(actor=request.user, membership=member),
            f"Two-factor sign-in of {member.user.email} reset: they set it up again at their "
            "next sign-in.",
        )
        return redirect("portal:member_list")
    return render(request, "portal/member_reset_2fa.html", {"member": member})


# --- password reset -----------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, rate limited per address and per client. The answer is the same page whether
    or not an account has the address and whether or not a limit was hit: neither is revealed.
    An invited colleague who never chose a password gets the link too (PasswordResetForm)."""

    form_class = PasswordResetForm
    # The link goes to SITE_URL, never to whatever Host the request named.
    domain_override = urlsplit(settings.SITE_URL).netloc
    use_https = settings.SITE_URL.startswith("https://")
    email_template_name = "emails/password_reset_body.txt"
    html_email_template_name = "emails/password_reset_body.html"
    subject_template_name = "emails/password_reset_subject.txt"

    def form_valid(self, form: Any) -> HttpResponse:
        if _password_reset_limited(self.request, form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


def _password_reset_limited(request: HttpRequest, email: str) -> bool:
    # Both are counted on every request; the address is hashed, so no key holds it.
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    window = PASSWORD_RESET_WINDOW_SECONDS
    by_client = rate_limited(
        f"pwreset-ip:{client_ip(request)}", settings.PASSWORD_RESET_IP_RATE_LIMIT, window=window
    )
    by_address = rate_limited(
        f"pwreset-address:{address}", settings.PASSWORD_RESET_RATE_LIMIT, window=window
    )
    return by_client or by_address


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's. A link that expired, was used or was lost offers to send a new one, right on
    its page (an invited colleague's first link included)."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if not context.get("validlink"):
            context["reset_form"] = PasswordResetForm()
        return context


# --- two-factor sign-in -------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify with a code, or enrol on first sign-in."""
    next_url = _next_url(request)
    if getattr(request.user, "is_verified", lambda: False)():
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    if twofactor.is_enrolled(request.user):
        if request.method == "POST" and form.is_valid():
            device = twofactor.second_factor_verify(
                user=request.user, code=form.cleaned_data["code"]
            )
            if device is not None:
                otp_login(request, device)
                return redirect(next_url)
            form.add_error("code", "That code is not valid. Try the current one from your app.")
        context = {"form": form, "next": next_url}
        return render(request, "registration/two_factor_verify.html", context)
    return _two_factor_enrol(request, form, next_url)


def _two_factor_enrol(request: HttpRequest, form: CodeForm, next_url: str) -> HttpResponse:
    enrolment = twofactor.enrolment_start(user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.enrolment_confirm(
                user=request.user, device=enrolment.device, code=form.cleaned_data["code"]
            )
        except twofactor.EnrolmentRefused as exc:
            form.add_error("code", exc.message)
        else:
            otp_login(request, enrolment.device)
            context = {"codes": codes, "next": next_url}
            return render(request, "registration/two_factor_codes.html", context)
    return render(
        request,
        "registration/two_factor_enrol.html",
        {"form": form, "qr": enrolment.qr_svg, "secret": enrolment.secret, "next": next_url},
    )
