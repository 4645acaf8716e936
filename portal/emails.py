"""Every email the product sends, one short function each, over one `send()`.

Each email is a template triple in templates/emails/: `<name>_subject.txt`, `<name>_body.txt`
and `<name>_body.html`. Subjects and text bodies are plain text, rendered by the "text"
template engine (settings.TEMPLATES: no HTML autoescaping); the HTML body is escaped as usual.
The context of every email is assembled here, from the objects the caller passes: the caller
decides *when* to send, this module *what*.

Portal sits below the other apps, so the objects arrive as arguments (a consumer's invitation,
a calling domain with its DNS records) and are read by attribute; nothing here imports them.
The password reset email is sent by Django's PasswordResetView with the `password_reset_*`
templates (Django renders them with the HTML engine: their text templates turn autoescaping
off themselves), and is the one email not listed below.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import Company, Partner, PartnerMembership


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
    connection: Any = None,
) -> None:
    """Render and send now. Raises on SMTP failure, so that callers do not stamp a failed send."""
    subject, text, html = render(name, context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        cc=list(cc),
        reply_to=list(reply_to),
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)


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


# --- customers ----------------------------------------------------------------------------------


def invitation(invitation: Any, *, link: str, reminder: bool, connection: Any = None) -> None:
    """A user's invitation (`reminder`: the 10- or 30-day re-send). `invitation` is a
    consumers.models.Invitation; `link` its acceptance URL."""
    consumer = invitation.consumer
    company = consumer.company
    send(
        "invitation",
        to=[invitation.email],
        reply_to=_support(company.partner),
        connection=connection,
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


def trial_reminder(company: Company, *, days_left: int) -> None:
    _to_company("trial_reminder", company, days_left=days_left)


def trial_ended(company: Company, *, days_left: int) -> None:
    _to_company("trial_ended", company, days_left=days_left)


def consumers_deactivated(company: Company, *, count: int, reason: str) -> None:
    """A job made consumers inactive (evaluation over, licence ended): `reason` completes
    "… were deactivated because <reason>"."""
    _to_company("consumers_deactivated", company, count=count, reason=reason)
