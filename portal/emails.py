"""One helper renders every email from `emails/<name>_subject.txt`, `_body.txt`, `_body.html`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def render_email(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    ctx = {"SITE_URL": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", ctx).split())
    text = render_to_string(f"emails/{name}_body.txt", ctx)
    html = render_to_string(f"emails/{name}_body.html", ctx)
    return subject, text, html


def send_email(
    name: str,
    *,
    to: Sequence[str],
    context: dict[str, Any],
    cc: Sequence[str] = (),
    reply_to: Sequence[str] = (),
    connection: Any = None,
) -> None:
    """Render and send now (raises on SMTP failure, so that callers do not stamp a failed send)."""
    subject, text, html = render_email(name, context)
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
