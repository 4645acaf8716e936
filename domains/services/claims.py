"""Pending claims of calling domains expire, so that they do not pile up: a claim not verified
within CLAIM_LIFETIME of being added is removed, and its company is warned CLAIM_WARNING_NOTICE
before (domains.models).

The job is safe to run twice or concurrently. Each warning is claimed with a conditional UPDATE
stamping `expiry_warned_at`, in the transaction that writes its email to the outbox (which
sends it once, retrying a mail server that is down). Expired claims are locked with SKIP LOCKED
and deleted in bounded batches, each with its audit event; a concurrent run skips what this one
holds.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from portal import emails
from portal.audit import audit_record

from ..models import CLAIM_LIFETIME, CallingDomain, DomainStatus

logger = logging.getLogger(__name__)

CLAIMS_BATCH = 200


def calling_domain_claims_expire(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: remove expired claims, warn the companies of claims expiring soon."""
    now = now or timezone.now()
    return {"removed": _remove_expired(now), "warned": _send_warnings(now)}


def _remove_expired(now: datetime) -> int:
    removed = 0
    while True:
        with transaction.atomic():
            claims = list(
                CallingDomain.objects.claims_expired(now)
                # A pending domain cannot carry addresses or interop configurations; should one
                # ever do, it is kept rather than deleted from under them.
                .filter(consumers__isnull=True, interop_configurations__isnull=True)
                .select_related("company__partner")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:CLAIMS_BATCH]
            )
            for claim in claims:
                audit_record(None, "calling_domain.claim_expired", claim, data={"name": claim.name})
            CallingDomain.objects.filter(
                pk__in=[claim.pk for claim in claims], status=DomainStatus.PENDING
            ).delete()
        removed += len(claims)
        # A short batch: nothing is left that another run is not already removing.
        if len(claims) < CLAIMS_BATCH:
            return removed


def _send_warnings(now: datetime) -> int:
    warned = 0
    failed: set[int] = set()
    while True:
        ids = list(
            CallingDomain.objects.claims_warning_due(now)
            .exclude(pk__in=failed)
            .order_by("pk")
            .values_list("pk", flat=True)[:CLAIMS_BATCH]
        )
        for pk in ids:
            try:
                warned += _warn(pk, now)
            except Exception:
                logger.exception("calling domain %s: expiry warning failed", pk)
                failed.add(pk)
        if len(ids) < CLAIMS_BATCH:
            return warned


@transaction.atomic
def _warn(pk: int, now: datetime) -> int:
    """Claim one warning (only one run's UPDATE finds it still due) and write its email."""
    claimed = (
        CallingDomain.objects.claims_warning_due(now).filter(pk=pk).update(expiry_warned_at=now)
    )
    if not claimed:
        return 0
    domain = CallingDomain.objects.select_related("company__partner").get(pk=pk)
    emails.calling_domain_claim_expiring(
        domain, expires_at=domain.claim_expires_at, lifetime_days=CLAIM_LIFETIME.days
    )
    return 1
