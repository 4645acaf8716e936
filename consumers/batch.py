"""The batch update tool: Delete or Reactivate many consumers, previewed before anything
changes, then run by a task in chunks through the same services as the single actions."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from licensing.seats import family_of_consumer_kind, seats_of
from portal.access import ensure_can_write
from portal.audit import audit_record
from portal.models import Company

from . import selectors
from .models import (
    Address,
    BatchAction,
    BatchItem,
    BatchJob,
    BatchStatus,
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    ItemOutcome,
)

logger = logging.getLogger(__name__)

MAX_ITEMS = 50_000
# Items per transaction: big enough to be set-based, small enough to keep locks short.
CHUNK_SIZE = 500


class BatchInputError(ValidationError):
    """Bad lines in a pasted or uploaded list: nothing is created."""

    def __init__(self, line_errors: list[tuple[int, str]]):
        self.line_errors = line_errors
        super().__init__([f"Line {n}: {m}" for n, m in line_errors])


def parse_address_list(text: str) -> list[str]:
    """One address per line, or a CSV whose first column is the address (a header is allowed).
    Every bad line is reported; if there is one, nothing is returned."""
    addresses: list[str] = []
    errors: list[tuple[int, str]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells):
            continue
        value = cells[0].lower()
        if number == 1 and value in {"address", "video address", "alias"}:
            continue
        local, at, domain = value.partition("@")
        if not at or not local or "." not in domain or " " in value:
            errors.append((number, f"{cells[0]!r} is not an address like name@example.com"))
            continue
        addresses.append(value)
    if errors:
        raise BatchInputError(errors)
    if not addresses:
        raise BatchInputError([(0, "the list has no addresses")])
    if len(addresses) > MAX_ITEMS:
        raise BatchInputError([(0, f"at most {MAX_ITEMS} addresses per batch")])
    return addresses


def _resolve_addresses(
    company: Company, kind: str, addresses: list[str]
) -> list[tuple[str, Consumer | None, str]]:
    rows = {
        a.address: a.consumer
        for a in Address.objects.filter(address__in=set(addresses)).select_related("consumer")
    }
    kind_label = ConsumerKind(kind).label
    resolved: list[tuple[str, Consumer | None, str]] = []
    seen: set[str] = set()
    for address in addresses:
        if address in seen:
            resolved.append((address, None, "listed twice"))
            continue
        seen.add(address)
        consumer = rows.get(address)
        if consumer is None:
            resolved.append((address, None, "not found"))
        elif consumer.company_id != company.pk:
            resolved.append((address, None, "another company's address"))
        elif consumer.address != address:
            resolved.append((address, None, "is a personal VMR address: list the user's address"))
        elif consumer.kind != kind:
            resolved.append(
                (address, None, f"is a {consumer.get_kind_display()}, not a {kind_label}")
            )
        else:
            resolved.append((address, consumer, ""))
    return resolved


def _plan(
    company: Company, action: str, kind: str, resolved: list[tuple[str, Consumer | None, str]]
) -> list[BatchItem]:
    items: list[BatchItem] = []
    reactivating: list[BatchItem] = []
    for position, (label, consumer, problem) in enumerate(resolved):
        item = BatchItem(position=position, label=label, consumer=consumer)
        if consumer is None:
            item.message = problem
        elif action == BatchAction.DELETE:
            item.will_run, item.message = True, "will be deleted"
        elif consumer.status != ConsumerStatus.INACTIVE:
            item.message = f"already {consumer.get_status_display().lower()}"
        elif consumer.calling_domain_id and not consumer.calling_domain.is_verified:
            item.message = "domain not verified"
        else:
            reactivating.append(item)
        items.append(item)
    if reactivating:
        seats = seats_of(company=company, family=family_of_consumer_kind(kind))
        free = None if seats.unlimited else (seats.remaining or 0)
        lacking = 0 if free is None else max(0, len(reactivating) - free)
        for index, item in enumerate(reactivating):
            if free is None or index < free:
                item.will_run, item.message = True, "will be reactivated"
            elif company.evaluation_open:
                item.will_run = True
                item.message = f"will be reactivated as a trial until {company.evaluation_ends_on}"
            else:
                item.message = f"no licence seat left for {lacking} of {len(reactivating)}"
    return items


@transaction.atomic
def batch_preview(
    *,
    actor: Any,
    company: Company,
    kind: str,
    action: str,
    consumer_ids: Iterable[str] | None = None,
    addresses: list[str] | None = None,
    matching: dict[str, str] | None = None,
) -> BatchJob:
    """Resolve the selection and say, per consumer, what will and will not happen. Writes the
    plan only: no consumer changes until the batch is confirmed."""
    ensure_can_write(actor, company.partner)
    if action not in BatchAction.values:
        raise ValidationError({"action": "Choose Delete or Reactivate."})
    if kind not in ConsumerKind.values:
        raise ValidationError("Unknown kind of consumer.")
    base = Consumer.objects.select_related("calling_domain")
    if addresses is not None:
        resolved = _resolve_addresses(company, kind, addresses)
    elif matching is not None:
        qs = selectors.consumer_list(
            company=company,
            kind=kind,
            query=matching.get("q", ""),
            status=matching.get("status", ""),
            pending_only=matching.get("pending") == "1",
        ).select_related("calling_domain")
        resolved = [(c.address, c, "") for c in qs[: MAX_ITEMS + 1]]
    else:
        ids = list(dict.fromkeys(consumer_ids or []))
        found = {
            str(c.public_id): c for c in base.filter(company=company, kind=kind, public_id__in=ids)
        }
        resolved = [
            (found[i].address, found[i], "") if i in found else (i, None, "not found") for i in ids
        ]
    if not resolved:
        raise ValidationError("Select at least one consumer.")
    if len(resolved) > MAX_ITEMS:
        raise ValidationError(f"At most {MAX_ITEMS} consumers per batch.")
    batch = BatchJob.objects.create(
        company=company,
        created_by=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        action=action,
        total=len(resolved),
    )
    items = _plan(company, action, kind, resolved)
    for item in items:
        item.batch = batch
    BatchItem.objects.bulk_create(items, batch_size=2000)
    return batch


@transaction.atomic
def batch_confirm(*, actor: Any, batch: BatchJob) -> BatchJob:
    ensure_can_write(actor, batch.company.partner)
    claimed = BatchJob.objects.filter(pk=batch.pk, status=BatchStatus.PREVIEW).update(
        status=BatchStatus.QUEUED
    )
    if not claimed:
        raise ValidationError("This batch was already confirmed or cancelled.")
    skipped = batch.items.filter(will_run=False).update(outcome=ItemOutcome.SKIPPED)
    BatchJob.objects.filter(pk=batch.pk).update(processed=skipped)
    audit_record(
        actor=actor,
        action=f"batch.{batch.action}",
        obj=batch,
        company=batch.company,
        data={"kind": batch.kind, "items": batch.total, "to_run": batch.total - skipped},
    )
    batch_id = batch.pk

    def enqueue() -> None:
        from .tasks import batch_run

        batch_run.delay(batch_id)

    transaction.on_commit(enqueue)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def batch_cancel(*, actor: Any, batch: BatchJob) -> None:
    ensure_can_write(actor, batch.company.partner)
    BatchJob.objects.filter(pk=batch.pk, status=BatchStatus.PREVIEW).update(
        status=BatchStatus.CANCELLED, finished_at=timezone.now()
    )


def _run_chunk(batch: BatchJob, chunk: list[BatchItem], actor: Any) -> None:
    """Run one chunk through the same set-based services the single actions use."""
    from . import services

    ids = [item.consumer_id for item in chunk if item.consumer_id is not None]
    try:
        if batch.action == BatchAction.DELETE:
            deleted = services.consumers_delete(
                actor=actor, company=batch.company, consumer_ids=ids
            )
            for item in chunk:
                ok = item.consumer_id in deleted
                item.outcome = ItemOutcome.SUCCEEDED if ok else ItemOutcome.FAILED
                item.message = "deleted" if ok else "no longer exists"
        else:
            activated, failures = services.consumers_activate(
                actor=actor, company=batch.company, consumer_ids=ids
            )
            for item in chunk:
                if item.consumer_id in activated:
                    item.outcome = ItemOutcome.SUCCEEDED
                    item.message = (
                        "reactivated as a trial" if activated[item.consumer_id] else "reactivated"
                    )
                else:
                    item.outcome = ItemOutcome.FAILED
                    item.message = failures.get(item.consumer_id, "no longer exists")[:300]
    except (ValidationError, PermissionDenied) as exc:
        reason = " ".join(getattr(exc, "messages", None) or [str(exc)])[:300]
        for item in chunk:
            item.outcome, item.message = ItemOutcome.FAILED, reason


def batch_run(*, batch_id: int) -> BatchJob | None:
    """Run the pending items chunk by chunk. Items are claimed with SKIP LOCKED and stamped,
    so a second or concurrent run only takes what is left; each chunk is its own transaction."""
    batch = (
        BatchJob.objects.select_related("company__partner", "created_by")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None or batch.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        return batch
    BatchJob.objects.filter(pk=batch.pk, status=BatchStatus.QUEUED).update(
        status=BatchStatus.RUNNING, started_at=timezone.now()
    )
    actor = batch.created_by
    while True:
        with transaction.atomic():
            chunk = list(
                BatchItem.objects.select_for_update(skip_locked=True)
                .filter(batch=batch, outcome=ItemOutcome.PENDING)
                .order_by("position")[:CHUNK_SIZE]
            )
            if not chunk:
                break
            try:
                with transaction.atomic():
                    _run_chunk(batch, chunk, actor)
            except Exception:  # a broken chunk never stops the batch
                logger.exception("batch %s: chunk failed", batch.pk)
                for item in chunk:
                    item.outcome, item.message = ItemOutcome.FAILED, "unexpected error"
            ok = sum(item.outcome == ItemOutcome.SUCCEEDED for item in chunk)
            # One UPDATE per distinct (outcome, message): usually one or two per chunk.
            groups: dict[tuple[str, str], list[int]] = {}
            for item in chunk:
                groups.setdefault((item.outcome, item.message), []).append(item.pk)
            for (outcome, message), pks in groups.items():
                BatchItem.objects.filter(pk__in=pks).update(outcome=outcome, message=message)
            BatchJob.objects.filter(pk=batch.pk).update(
                processed=F("processed") + len(chunk),
                succeeded=F("succeeded") + ok,
                failed=F("failed") + (len(chunk) - ok),
            )
    if not BatchItem.objects.filter(batch=batch, outcome=ItemOutcome.PENDING).exists():
        BatchJob.objects.filter(pk=batch.pk).exclude(status=BatchStatus.DONE).update(
            status=BatchStatus.DONE, finished_at=timezone.now()
        )
    batch.refresh_from_db()
    return batch


def batch_get(*, company: Company, public_id: object) -> BatchJob:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        BatchJob.objects.select_related("company"), company=company, public_id=public_id
    )
