"""The batch update tool: Delete or Reactivate many consumers, previewed before anything
changes, then run by a task in chunks through the same services as the single actions."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from portal.access import Actor, ensure_can_write
from portal.audit import audit_record
from portal.display import day
from portal.events import event_emit
from portal.jobs import enqueue_on_commit, requeue_stalled
from portal.models import Company

from .. import selectors
from ..models import (
    Address,
    BatchAction,
    BatchItem,
    BatchJob,
    BatchStatus,
    Consumer,
    ConsumerKind,
    ConsumerStatus,
    ItemOutcome,
    seat_family,
)
from ..seats import seat_allocation
from .activation import (
    CANDIDATE_FIELDS,
    Candidate,
    candidate,
    consumers_activate,
    reactivation_blocker,
)
from .common import csv_lines
from .deletion import consumers_delete

logger = logging.getLogger(__name__)

MAX_ITEMS = 50_000
# Items per transaction: big enough to be set-based, small enough to keep locks short. A chunk
# costs about 10 ms of fixed work whatever its size (claim, lock, stamps); an endpoint brings its
# call history (hundreds of rows each), so endpoints go in smaller chunks.
CHUNK_SIZE = 5000
ENDPOINT_CHUNK_SIZE = 500
# Runs that may take a batch (the first, then one per interruption: a worker killed, a time limit)
# before what is left is failed: a batch that kills its worker every time ends instead of
# looping for ever.
MAX_ATTEMPTS = 5
GAVE_UP_MESSAGE = "not run: the batch was interrupted too often"


class BatchInputError(ValidationError):
    """Bad lines in a pasted or uploaded list: nothing is created."""

    def __init__(self, line_errors: list[tuple[int, str]]):
        self.line_errors = line_errors
        super().__init__([f"Line {n}: {m}" for n, m in line_errors])


# A plausible address: one @, a dot in the domain, no white space. Control and format
# characters are refused by the character check below, since they cannot be seen in the list.
_PLAUSIBLE_ADDRESS = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@.][^\s@]*")
MAX_ADDRESS_LENGTH = 320  # Address.address


def _address_problem(value: str) -> str:
    """Why the (lower-cased) cell is not an address, or ""."""
    if len(value) > MAX_ADDRESS_LENGTH:
        return f"an address has at most {MAX_ADDRESS_LENGTH} characters"
    if any(unicodedata.category(c).startswith("C") for c in value):
        return f"{value!r} contains control or invisible characters"
    if not _PLAUSIBLE_ADDRESS.fullmatch(value):
        return f"{value!r} is not an address like name@example.com"
    return ""


def parse_address_list(text: str) -> list[str]:
    """One address per line, or a CSV whose first column is the address (a header is allowed),
    lower-cased. Every bad line is reported; if there is one, nothing is returned."""
    addresses: list[str] = []
    errors: list[tuple[int, str]] = []
    for number, cells, problem in csv_lines(text):
        if not problem and not any(cells):
            continue
        value = cells[0].lower() if cells else ""
        if number == 1 and value in {"address", "video address", "alias"}:
            continue
        problem = problem or _address_problem(value)
        if problem:
            errors.append((number, problem))
        else:
            addresses.append(value)
    if errors:
        raise BatchInputError(errors)
    if not addresses:
        raise BatchInputError([(0, "the list has no addresses")])
    if len(addresses) > MAX_ITEMS:
        raise BatchInputError([(0, f"at most {MAX_ITEMS} addresses per batch")])
    return addresses


def _candidates(qs: QuerySet[Any], key: str, prefix: str = "") -> list[tuple[str, Candidate]]:
    """(the row's `key` column as text, Candidate) for each row of qs; `prefix` leads from the
    queried model to the consumer."""
    rows = qs.values_list(key, *(prefix + f for f in CANDIDATE_FIELDS))
    return [(str(value), candidate(*row)) for value, *row in rows]


def _resolve_addresses(
    company: Company, kind: str, addresses: list[str]
) -> list[tuple[str, Candidate | None, str]]:
    """Only this company's addresses are looked up: one that is not in the company is "not
    found", whether it exists in another company or nowhere (another partner must not learn
    which addresses exist)."""
    rows = dict(
        _candidates(
            Address.objects.filter(address__any_of=set(addresses), consumer__company=company),
            key="address",
            prefix="consumer__",
        )
    )
    kind_label = ConsumerKind(kind).label
    resolved: list[tuple[str, Candidate | None, str]] = []
    seen: set[str] = set()
    for address in addresses:
        if address in seen:
            resolved.append((address, None, "listed twice"))
            continue
        seen.add(address)
        consumer = rows.get(address)
        if consumer is None:
            resolved.append((address, None, "not found"))
        elif consumer.address != address:
            resolved.append((address, None, "is a personal VMR address: list the user's address"))
        elif consumer.kind != kind:
            kind_of = ConsumerKind(consumer.kind).label
            resolved.append((address, None, f"is a {kind_of}, not a {kind_label}"))
        else:
            resolved.append((address, consumer, ""))
    return resolved


class PlannedItem(NamedTuple):
    position: int
    label: str
    consumer_id: int | None
    will_run: bool
    message: str


def _plan(
    company: Company, action: str, kind: str, resolved: list[tuple[str, Candidate | None, str]]
) -> list[PlannedItem]:
    """What the batch will do to each listed consumer, decided as the run will decide it."""
    plan: list[PlannedItem] = []
    reactivating: list[int] = []  # positions waiting for the seat allocation
    for position, (label, consumer, problem) in enumerate(resolved):
        item = PlannedItem(position, label, consumer.id if consumer else None, False, problem)
        blocker = reactivation_blocker(consumer) if consumer else None
        if consumer is None:
            pass
        elif action == BatchAction.DELETE:
            item = item._replace(will_run=True, message="will be deleted")
        elif blocker == "domain":
            item = item._replace(message="domain not verified")
        elif blocker:
            item = item._replace(message=f"already {ConsumerStatus(blocker).label.lower()}")
        else:
            reactivating.append(position)
        plan.append(item)
    if reactivating:
        allocation = seat_allocation(
            company=company, family=seat_family(kind), count=len(reactivating)
        )
        for index, position in enumerate(reactivating):
            plan[position] = plan[position]._replace(**_reactivation_item(allocation, index))
    return plan


def _reactivation_item(allocation: Any, index: int) -> dict[str, Any]:
    trial = allocation.trial_at(index)
    if trial is None:
        return {"message": f"no licence seat left for {allocation.refused} of {allocation.count}"}
    if trial:
        return {
            "will_run": True,
            "message": f"will be reactivated as a trial until {day(allocation.trial_until)}",
        }
    return {"will_run": True, "message": "will be reactivated"}


def _write_items(batch: BatchJob, items: list[PlannedItem]) -> None:
    """The plan's rows with COPY on PostgreSQL (a 10,000-item plan in about 15 ms, where
    model objects took half a second), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        BatchItem.objects.bulk_create(
            [BatchItem(batch=batch, **item._asdict()) for item in items], batch_size=2000
        )
        return
    columns = ", ".join(["batch_id", *PlannedItem._fields, "outcome"])
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {BatchItem._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for item in items:
            copy.write_row((batch.pk, *item, ItemOutcome.PENDING))


def _resolve_selection(
    company: Company,
    kind: str,
    consumer_ids: Iterable[str] | None,
    addresses: list[str] | None,
    matching: dict[str, str] | None,
) -> list[tuple[str, Candidate | None, str]]:
    """(label, consumer or None, why not) per selected item, from one of the three sources:
    rows ticked on a list page, "all matching the filter", or a list of addresses."""
    if addresses is not None:
        return _resolve_addresses(company, kind, addresses)
    if matching is not None:
        qs = selectors.consumer_list(
            company=company,
            kind=kind,
            query=matching.get("q", ""),
            status=matching.get("status", ""),
            pending_only=matching.get("pending") == "1",
        )
        return [(c.address, c, "") for _, c in _candidates(qs[: MAX_ITEMS + 1], key="pk")]
    ids = list(dict.fromkeys(consumer_ids or []))
    found = dict(
        _candidates(
            Consumer.objects.filter(company=company, kind=kind, public_id__any_of=ids),
            key="public_id",
        )
    )
    return [(found[i].address, found[i], "") if i in found else (i, None, "not found") for i in ids]


@transaction.atomic
def batch_preview(
    *,
    actor: Actor,
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
    resolved = _resolve_selection(company, kind, consumer_ids, addresses, matching)
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
    _write_items(batch, _plan(company, action, kind, resolved))
    return batch


@transaction.atomic
def batch_confirm(*, actor: Actor, batch: BatchJob) -> BatchJob:
    ensure_can_write(actor, batch.company.partner)
    claimed = BatchJob.objects.filter(pk=batch.pk, status=BatchStatus.PREVIEW).update(
        status=BatchStatus.QUEUED, heartbeat_at=timezone.now()
    )
    if not claimed:
        raise ValidationError("This batch was already confirmed or cancelled.")
    skipped = batch.items.filter(will_run=False).update(outcome=ItemOutcome.SKIPPED)
    BatchJob.objects.filter(pk=batch.pk).update(processed=skipped)
    audit_record(
        actor,
        f"batch.{batch.action}",
        batch,
        data={"kind": batch.kind, "items": batch.total, "to_run": batch.total - skipped},
    )
    enqueue_on_commit("consumers.tasks.batch_run", batch.pk)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def batch_cancel(*, actor: Actor, batch: BatchJob) -> None:
    ensure_can_write(actor, batch.company.partner)
    BatchJob.objects.filter(pk=batch.pk, status=BatchStatus.PREVIEW).update(
        status=BatchStatus.CANCELLED, finished_at=timezone.now()
    )


Outcomes = dict[tuple[str, str], list[int]]  # (outcome, message) -> batch item ids


def _run_chunk(batch: BatchJob, consumer_ids: dict[int, int | None], actor: Actor) -> Outcomes:
    """Run one chunk ({item id: consumer id}) through the same set-based services the single
    actions use."""
    ids = [pk for pk in consumer_ids.values() if pk is not None]
    outcomes: Outcomes = {}
    try:
        if batch.action == BatchAction.DELETE:
            deleted = consumers_delete(actor=actor, company=batch.company, consumer_ids=ids)
            activated, failures = dict.fromkeys(deleted, False), {}
        else:
            activated, failures = consumers_activate(
                actor=actor, company=batch.company, consumer_ids=ids
            )
    except (ValidationError, PermissionDenied) as exc:
        reason = " ".join(getattr(exc, "messages", None) or [str(exc)])[:300]
        return {(ItemOutcome.FAILED, reason): list(consumer_ids)}
    done = "deleted" if batch.action == BatchAction.DELETE else "reactivated"
    for item_id, consumer_id in consumer_ids.items():
        if consumer_id in activated:
            trial = " as a trial" if activated[consumer_id] else ""
            key = (ItemOutcome.SUCCEEDED, done + trial)
        else:
            key = (ItemOutcome.FAILED, failures.get(consumer_id, "no longer exists")[:300])  # type: ignore[arg-type]
        outcomes.setdefault(key, []).append(item_id)
    return outcomes


def batch_run(*, batch_id: int) -> BatchJob | None:
    """Run the pending items chunk by chunk, each chunk its own transaction. A run resumes
    where an interrupted one stopped: only pending items are claimed (SKIP LOCKED) and each
    chunk stamps its items' outcomes, the counts and the heartbeat as it commits.

    One run at a time takes the batch (`LongJobQuerySet.take`): a second message for it (a
    redelivery, a re-queue) finds it taken and returns. The claim walks the (batch, position)
    index from where this run's last chunk ended, and the stamp changes no indexed column, so
    PostgreSQL rewrites the items in place (a HOT update; the table keeps room for it, see
    migration 0008)."""
    # Started: the first run's start, kept by the next ones.
    taken = BatchJob.objects.take(batch_id, started_at=Coalesce("started_at", Now()))
    batch = (
        BatchJob.objects.select_related("company__partner", "created_by")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None or not taken:
        return batch
    if batch.attempts > MAX_ATTEMPTS:
        _give_up(batch)
    else:
        size = ENDPOINT_CHUNK_SIZE if batch.kind == ConsumerKind.ENDPOINT else CHUNK_SIZE
        after = -1
        while (after := _run_next_chunk(batch, after, size)) is not None:
            pass
    if not BatchItem.objects.filter(batch=batch, outcome=ItemOutcome.PENDING).exists():
        _finish(batch)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def _finish(batch: BatchJob) -> None:
    """Done, once: only the run whose UPDATE finds it unfinished emits `batch.finished`."""
    finished = (
        BatchJob.objects.filter(pk=batch.pk)
        .exclude(status=BatchStatus.DONE)
        .update(status=BatchStatus.DONE, finished_at=timezone.now())
    )
    if not finished:
        return
    batch.refresh_from_db()
    company = batch.company
    data = {
        "id": str(batch.public_id),
        "company_id": str(company.public_id),
        "kind": batch.kind,
        "action": batch.action,
        "total": batch.total,
        "succeeded": batch.succeeded,
        "failed": batch.failed,
    }
    event_emit("batch.finished", partner=company.partner_id, company=company, data=data)


@transaction.atomic
def _give_up(batch: BatchJob) -> None:
    left = BatchItem.objects.filter(batch=batch, outcome=ItemOutcome.PENDING).update(
        outcome=ItemOutcome.FAILED, message=GAVE_UP_MESSAGE
    )
    BatchJob.objects.filter(pk=batch.pk).update(
        processed=F("processed") + left, failed=F("failed") + left
    )
    logger.error(
        "batch %s: %d items failed after %d interrupted runs", batch.pk, left, MAX_ATTEMPTS
    )


def batches_recover() -> int:
    """The recovery job: queue again every batch that is queued or running with a stale
    heartbeat (a worker died mid-run, or the broker was down when it was confirmed). Its next
    run resumes with the items still pending."""
    return requeue_stalled(BatchJob.objects.all(), "consumers.tasks.batch_run")


@transaction.atomic
def _run_next_chunk(batch: BatchJob, after: int, size: int) -> int | None:
    """Claim, run and stamp the next chunk after position `after`; returns the chunk's last
    position, or None when nothing is left."""
    claimed = list(
        BatchItem.objects.select_for_update(skip_locked=True)
        .filter(batch=batch, position__gt=after, outcome=ItemOutcome.PENDING)
        .order_by("position")
        .values_list("pk", "position", "consumer_id")[:size]
    )
    if not claimed:
        return None
    chunk = {pk: consumer_id for pk, _position, consumer_id in claimed}
    try:
        with transaction.atomic():
            outcomes = _run_chunk(batch, chunk, batch.created_by)
    except SoftTimeLimitExceeded:
        raise  # the run stops here; the chunk rolls back and the next run takes it again
    except Exception:  # a broken chunk never stops the batch
        logger.exception("batch %s: chunk failed", batch.pk)
        outcomes = {(ItemOutcome.FAILED, "unexpected error"): list(chunk)}
    # One UPDATE per distinct (outcome, message): usually one or two per chunk.
    for (outcome, message), pks in outcomes.items():
        BatchItem.objects.filter(pk__any_of=pks).update(outcome=outcome, message=message)
    ok = sum(len(pks) for (outcome, _), pks in outcomes.items() if outcome == ItemOutcome.SUCCEEDED)
    BatchJob.objects.filter(pk=batch.pk).update(
        processed=F("processed") + len(chunk),
        succeeded=F("succeeded") + ok,
        failed=F("failed") + (len(chunk) - ok),
        heartbeat_at=timezone.now(),
    )
    return claimed[-1][1]
