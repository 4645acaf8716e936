from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .emails import send_email
from .models import PartnerMembership

User = get_user_model()


@shared_task
def staff_invitation_send(membership_id: int) -> None:
    membership = (
        PartnerMembership.objects.select_related("user", "partner").filter(pk=membership_id).first()
    )
    if membership is None or not membership.user.is_active:
        return
    user = membership.user
    link = settings.SITE_URL + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    send_email(
        "staff_invitation",
        to=[user.email],
        context={"partner": membership.partner, "membership": membership, "link": link},
    )


@shared_task
def account_exists_notice_send(user_id: int, partner_id: int) -> None:
    from .models import Partner

    user = User.objects.filter(pk=user_id).first()
    partner = Partner.objects.filter(pk=partner_id).first()
    if user is None or partner is None:
        return
    send_email(
        "account_exists",
        to=[user.email],
        context={
            "partner": partner,
            "login_url": settings.SITE_URL + reverse("login"),
            "reset_url": settings.SITE_URL + reverse("password_reset"),
        },
    )
