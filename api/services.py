"""Writes of the API's own rows: tokens. Each checks the actor's role, runs in a transaction
and records an AuditEvent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.access import Actor, ensure_can_manage_staff, is_ops, membership_of
from portal.audit import audit_record

from .models import LAST_USED_PRECISION, ApiToken, Scope
from .tokens import HINT_LENGTH, secret_hash, secret_new

TOKEN_NAME_MAX = 100


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = set(scopes)
    if not chosen:
        raise ValidationError({"scopes": "Choose at least one scope."})
    unknown = chosen - set(Scope.values)
    if unknown:
        raise ValidationError({"scopes": f"Unknown scopes: {', '.join(sorted(unknown))}."})
    return [s for s in Scope.values if s in chosen]


@transaction.atomic
def api_token_create(
    *,
    actor: Actor,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A partner manager creates a token that acts as them. Returns the token and its secret,
    which is shown once: only its hash is stored."""
    membership = membership_of(actor)
    if membership is None or is_ops(actor):
        # An ops account acts as a manager of every partner: its token would carry that power
        # (ApiTokenQuerySet.usable refuses it too).
        raise PermissionDenied("Only partner staff can create API tokens.")
    ensure_can_manage_staff(actor, membership.partner)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Name the token (what uses it)."})
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationError({"name": f"Use at most {TOKEN_NAME_MAX} characters."})
    clean_scopes = _clean_scopes(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Choose a time in the future."})
    secret = secret_new()
    token = ApiToken.objects.create(
        partner=membership.partner,
        created_by=membership,
        name=name,
        scopes=clean_scopes,
        hint=secret[:HINT_LENGTH],
        secret_hash=secret_hash(secret),
        expires_at=expires_at,
    )
    audit_record(
        actor, "api_token.create", token, partner=membership.partner, data={"scopes": clean_scopes}
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """A partner manager (or ops, in admin) revokes a token: it answers 401 from now on.
    Revoking a revoked token changes nothing (a double click)."""
    if not is_ops(actor):
        ensure_can_manage_staff(actor, token.partner)
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        token.revoked_at = locked.revoked_at
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor, "api_token.revoke", token, partner=token.partner)
    return token


def api_token_touch(*, token: ApiToken, now: datetime) -> None:
    """Stamp the token used, at most once per LAST_USED_PRECISION: a conditional UPDATE, and
    none at all while the loaded stamp is recent, so that most requests write nothing."""
    if token.last_used_at is not None and token.last_used_at > now - LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION),
        pk=token.pk,
    ).update(last_used_at=now)
    token.last_used_at = now


# Webhook endpoints (api.webhooks.services), under the names the contract gives.
from .webhooks.services import (  # noqa: E402, F401
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_disable,
    webhook_endpoint_enable,
    webhook_endpoint_update,
    webhook_redeliver,
)
