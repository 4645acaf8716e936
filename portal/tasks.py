"""Tasks of the tenancy app: load by id, then call the email or service."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from . import emails
from .models import Partner, PartnerMembership


@shared_task
def staff_invitation_send(membership_id: int) -> None:
    membership = (
        PartnerMembership.objects.select_related("user", "partner").filter(pk=membership_id).first()
    )
    if membership is not None and membership.user.is_active:
        emails.staff_invitation(membership)


@shared_task
def account_exists_notice_send(user_id: int, partner_id: int) -> None:
    user = get_user_model().objects.filter(pk=user_id).first()
    partner = Partner.objects.filter(pk=partner_id).first()
    if user is not None and partner is not None:
        emails.account_exists(email=user.email, partner=partner)
