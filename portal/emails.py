"""Every email the product sends, one short function each, over one `send()`.

Each email is a template triple in templates/emails/: `<name>_subject.txt`, `<name>_body.txt`
and `<name>_body.html`. Subjects and text bodies are plain text, rendered by the "text"
template engine (settings.TEMPLATES: no HTML autoescaping); the HTML body is escaped as usual.
The context of every email is assembled here, from the objects the caller passes: the caller
decides *when* to send, this module *what*.

`send()` renders the email at once and writes it to the outbox (portal.outbox) in the caller's
transaction: call it in the transaction of the change that causes the email, and the email
leaves exactly when that change commits, once (the worker sends it after the commit).

Portal sits below the other apps, so the objects arrive as arguments (a consumer's invitation,
a calling domain with its DNS records) and are read by attribute; nothing here imports them.
The password reset email is Django's (PasswordResetView, with the `password_reset_*`
templates and Django's context), written to the outbox by portal.forms.PasswordResetForm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import Company, OutboxMessage, Partner, PartnerMembership, Role
from .outbox import about_key, outbox_write


def render(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of an email: the subject and text as typed, the HTML escaped."""
    ctx = {"SITE_URL": settings.SITE_URL, **context}
    plain = engines["text"]
    subject = " ".join(plain.get_template(f"emails/{name}_subject.txt").render(ctx).split())
    text = plain.get_template(f"emails/{name}_body.txt").render(ctx)
    html = render_to_string(f"emails/{name}_body.html", ctx)
    return subject, text, html


def send(
    name: str,
    *,
    to: Sequence[str],
    context: dict[str, Any],
    cc: Sequence[str] = (),
    reply_to: Sequence[str] = (),
    about: str = "",
    holds_secret: bool = False,
    replaces_pending: bool = False,
) -> OutboxMessage:
    """Render now and write to the outbox, in the caller's transaction (see the module's doc).
    `about`: what the email concerns, when deleting that must delete the email (an invitee);
    `holds_secret`: a sign-in link, not kept once sent; `replaces_pending`: the same email
    about the same thing still waiting to go is dropped for this one."""
    return outbox_write(
        name=name,
        rendered=render(name, context),
        to=to,
        cc=cc,
        reply_to=reply_to,
        about=about,
        holds_secret=holds_secret,
        replaces_pending=replaces_pending,
    )


def _support(partner: Partner) -> list[str]:
    return [partner.support_email] if partner.support_email else []


def _to_company(name: str, company: Company, **context: Any) -> None:
    """An email to a customer company's contact, with its partner's support address copied
    (to the partner alone when the company has no contact address)."""
    to, cc = [company.contact_email] if company.contact_email else [], _support(company.partner)
    if not to:
        to, cc = cc, []
    if to:
        send(
            name, to=to, cc=cc, context={"company": company, "partner": company.partner, **context}
        )


# --- partner staff ------------------------------------------------------------------------------


def staff_invitation(membership: PartnerMembership) -> None:
    """A new colleague's link to choose a password (Django's password reset token)."""
    user = membership.user
    link = settings.SITE_URL + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    send(
        "staff_invitation",
        to=[user.email],
        context={"partner": membership.partner, "membership": membership, "link": link},
        holds_secret=True,
    )


def account_exists(*, email: str, partner: Partner) -> None:
    """Sent instead of a staff invitation to an address that already has an account."""
    send(
        "account_exists",
        to=[email],
        context={
            "partner": partner,
            "login_url": settings.SITE_URL + reverse("login"),
            "reset_url": settings.SITE_URL + reverse("password_reset"),
        },
    )


def password_reset(*, to: str, context: dict[str, Any]) -> None:
    """Django's password reset email; `context` is the one PasswordResetForm builds (email,
    protocol, domain, uid, token)."""
    send("password_reset", to=[to], context=context, holds_secret=True)


def webhook_disabled(endpoint: Any, *, link: str) -> None:
    """A webhook endpoint (api.models.WebhookEndpoint) failed for too long and was disabled:
    to the partner's active managers, with `link` to its delivery log."""
    partner = endpoint.partner
    managers = PartnerMembership.objects.filter(
        partner=partner, role=Role.MANAGER, user__is_active=True
    ).values_list("user__email", flat=True)
    to = sorted(set(managers))
    if to:
        send(
            "webhook_disabled",
            to=to,
            context={"partner": partner, "endpoint": endpoint, "link": link},
        )


# --- customers ----------------------------------------------------------------------------------


def invitation(invitation: Any, *, link: str, reminder: bool) -> None:
    """A user's invitation (`reminder`: the 10- or 30-day re-send). `invitation` is a
    consumers.models.Invitation; `link` its acceptance URL. It holds the invitee's personal
    data: deleting the consumer deletes it (`about`), and a newer one replaces it if it is
    still waiting to go. The link activates the account for whoever opens it: not kept once
    sent, never shown in admin (`holds_secret`)."""
    consumer = invitation.consumer
    company = consumer.company
    send(
        "invitation",
        to=[invitation.email],
        reply_to=_support(company.partner),
        about=about_key("consumer", consumer.pk),
        replaces_pending=True,
        holds_secret=True,
        context={
            "invitation": invitation,
            "consumer": consumer,
            "company": company,
            "partner": company.partner,
            "link": link,
            "reminder": reminder,
        },
    )


def calling_domain_dns(domain: Any, *, records: Sequence[Any]) -> None:
    """The DNS records a company publishes for a hosted calling domain (domains.records)."""
    _to_company(
        "calling_domain_dns",
        domain.company,
        domain=domain,
        records=records,
        prefix=settings.DOMAIN_VERIFICATION_PREFIX,
    )


def calling_domain_verified(domain: Any) -> None:
    _to_company("calling_domain_verified", domain.company, domain=domain)


def calling_domain_claim_expiring(domain: Any, *, expires_at: Any, lifetime_days: int) -> None:
    """A calling domain still pending is removed at `expires_at` unless verified before."""
    _to_company(
        "calling_domain_claim_expiring",
        domain.company,
        domain=domain,
        expires_at=expires_at,
        lifetime_days=lifetime_days,
        prefix=settings.DOMAIN_VERIFICATION_PREFIX,
    )


def company_created_in_trial(company: Company) -> None:
    """A new company, in trial mode: its evaluation is open until `company.evaluation_ends_on`."""
    _to_company("company_created_in_trial", company)


def trial_reminder(company: Company, *, days_left: int) -> None:
    _to_company("trial_reminder", company, days_left=days_left)


def trial_ended(company: Company, *, days_left: int, deactivated: int = 0) -> None:
    """The evaluation ended: the one email of that event, saying how many trial consumers
    became inactive with it (`deactivated`)."""
    _to_company("trial_ended", company, days_left=days_left, deactivated=deactivated)


def trial_extended(company: Company) -> None:
    """Operations extended the evaluation: it now ends on `company.evaluation_ends_on`."""
    _to_company("trial_extended", company)


def consumers_deactivated(company: Company, *, count: int, reason: str) -> None:
    """A job made consumers inactive (evaluation over, licence ended): `reason` completes
    "… were deactivated because <reason>"."""
    _to_company("consumers_deactivated", company, count=count, reason=reason)
