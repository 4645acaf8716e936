"""Endpoint actions: settings, provisioning URL, SIP password and usage model."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.access import Actor, ensure_can_write
from portal.audit import audit_record

from .. import tokens
from ..models import (
    CallRecord,
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    EndpointSettings,
    UsageModel,
    new_nonce,
    new_sip_password,
)
from .retention import retention_cutoff

PROVISIONING = "provisioning"


def endpoint_settings(consumer: Consumer) -> EndpointSettings:
    """The endpoint's settings row, created on first use for plainly created endpoints."""
    if consumer.kind != ConsumerKind.ENDPOINT:
        raise ValidationError(f"{consumer.address} is not an endpoint.")
    endpoint, _ = EndpointSettings.objects.get_or_create(consumer=consumer)
    return endpoint


def provisioning_token(endpoint: EndpointSettings) -> str:
    """The provisioning URL's token (derived from the nonce); stores its hash for lookup."""
    token = tokens.token_for(endpoint.provisioning_nonce, PROVISIONING)
    token_hash = tokens.token_hash(token)
    if endpoint.provisioning_token_hash != token_hash:
        EndpointSettings.objects.filter(pk=endpoint.pk).update(provisioning_token_hash=token_hash)
        endpoint.provisioning_token_hash = token_hash
    return token


def provisioning_url(endpoint: EndpointSettings) -> str:
    return settings.SITE_URL + reverse(
        "endpoint_provision",
        kwargs={"token": provisioning_token(endpoint), "config_format": "json"},
    )


def endpoint_by_provisioning_token(token: str) -> EndpointSettings | None:
    """The active endpoint a provisioning URL belongs to, or None for any invalid one."""
    if not tokens.looks_like_token(token or ""):
        return None
    endpoint = (
        EndpointSettings.objects.select_related("consumer__company__partner")
        .filter(provisioning_token_hash=tokens.token_hash(token))
        .first()
    )
    if endpoint is None or not tokens.matches(endpoint.provisioning_nonce, token, PROVISIONING):
        return None
    if endpoint.consumer.status != ConsumerStatus.ACTIVE:
        return None
    return endpoint


def _endpoint_change(
    actor: Actor, consumer: Consumer, action: str, **values: str
) -> EndpointSettings:
    """Set the endpoint's `values` (credentials) and record `action`."""
    ensure_can_write(actor, consumer.company.partner)
    endpoint = endpoint_settings(consumer)
    for name, value in values.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=list(values))
    audit_record(actor, action, consumer)
    return endpoint


@transaction.atomic
def endpoint_rotate_provisioning(*, actor: Actor, consumer: Consumer) -> EndpointSettings:
    """A new provisioning URL: the old one stops working at once."""
    endpoint = _endpoint_change(
        actor,
        consumer,
        "endpoint.provisioning_rotate",
        provisioning_nonce=new_nonce(),
        provisioning_token_hash=None,
    )
    provisioning_token(endpoint)
    return endpoint


@transaction.atomic
def endpoint_regenerate_sip_password(*, actor: Actor, consumer: Consumer) -> EndpointSettings:
    return _endpoint_change(
        actor, consumer, "endpoint.sip_password_regenerate", sip_password=new_sip_password()
    )


def _validate_usage_model(
    consumer: Consumer,
    endpoint: EndpointSettings,
    usage_model: str,
    personal_user: Consumer | None,
    confirmed: bool,
) -> None:
    if usage_model not in UsageModel.values:
        raise ValidationError({"usage_model": "Choose Shared or Personal."})
    if usage_model != UsageModel.PERSONAL:
        return
    if (
        personal_user is None
        or personal_user.kind != ConsumerKind.USER
        or personal_user.company_id != consumer.company_id
    ):
        raise ValidationError({"personal_user": "Choose one of this company's users."})
    if endpoint.usage_model != UsageModel.PERSONAL and not confirmed:
        raise ValidationError(
            {"confirmed": "Confirm that call history older than 3 months will be removed."}
        )


@transaction.atomic
def endpoint_set_usage_model(
    *,
    actor: Actor,
    consumer: Consumer,
    usage_model: str,
    personal_user: Consumer | None = None,
    confirmed: bool = False,
) -> EndpointSettings:
    """Shared (default) or Personal (twinned to one of the company's users). Switching to
    Personal removes call history older than 3 months at once; switching back does not bring
    it back, so the switch must be confirmed."""
    ensure_can_write(actor, consumer.company.partner)
    endpoint = endpoint_settings(consumer)
    _validate_usage_model(consumer, endpoint, usage_model, personal_user, confirmed)
    removed = 0
    if usage_model == UsageModel.PERSONAL and endpoint.usage_model != UsageModel.PERSONAL:
        removed, _ = CallRecord.objects.filter(
            consumer=consumer, started_at__lt=retention_cutoff(timezone.now())
        ).delete()
    endpoint.usage_model = usage_model
    endpoint.personal_user = personal_user if usage_model == UsageModel.PERSONAL else None
    endpoint.save(update_fields=["usage_model", "personal_user"])
    audit_record(
        actor,
        "endpoint.usage_model",
        consumer,
        data={"usage_model": usage_model, "removed": removed},
    )
    return endpoint
