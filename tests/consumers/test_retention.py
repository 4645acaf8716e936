"""Call history retention: anonymise (Shared) or delete (Personal) after 3 calendar months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consumers import tasks
from consumers.models import CallRecord
from consumers.services import endpoints, retention
from tests.conftest import raised, requires_postgres, run_at_once

NOW = datetime(2027, 6, 1, tzinfo=UTC)


@pytest.fixture
def shared(make):
    return make.endpoint("shared-room", display_name="Shared")


@pytest.fixture
def personal(make):
    return make.personal(make.endpoint("personal-desk", display_name="Desk"))


def old_calls(consumer, n: int) -> None:
    """n calls of the consumer from 100 days before NOW, a minute apart."""
    CallRecord.objects.bulk_create(
        [
            CallRecord(
                consumer=consumer,
                started_at=NOW - timedelta(days=100, minutes=i),
                direction="in",
                remote_address=f"p{i}@x.example",
            )
            for i in range(n)
        ]
    )


def call(consumer, started_at, **extra):
    return CallRecord.objects.create(
        consumer=consumer,
        started_at=started_at,
        duration_seconds=42,
        direction="out",
        remote_address="peer@x.example",
        remote_display_name="Peer",
        remote_ip="203.0.113.9",
        **extra,
    )


@pytest.mark.parametrize(
    ("now", "boundary"),
    [
        (datetime(2027, 6, 15, 12, 0, tzinfo=UTC), datetime(2027, 3, 15, 12, 0, tzinfo=UTC)),
        (datetime(2027, 5, 31, 8, 0, tzinfo=UTC), datetime(2027, 2, 28, 8, 0, tzinfo=UTC)),
        (datetime(2028, 5, 31, 8, 0, tzinfo=UTC), datetime(2028, 2, 29, 8, 0, tzinfo=UTC)),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), datetime(2026, 10, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_the_boundary_is_three_calendar_months(shared, personal, now, boundary):
    assert retention.retention_cutoff(now) == boundary
    minute = timedelta(minutes=1)
    old_shared = call(shared, boundary - minute)
    kept_shared = call(shared, boundary + minute)
    old_personal = call(personal, boundary - minute)
    kept_personal = call(personal, boundary + minute)
    run = retention.call_history_retention_run(now=now)
    assert (run.anonymized, run.deleted) == (1, 1)

    old_shared.refresh_from_db()
    assert old_shared.anonymized_at == now
    assert (old_shared.remote_address, old_shared.remote_display_name, old_shared.remote_ip) == (
        "",
        "",
        None,
    )
    assert (old_shared.started_at, old_shared.duration_seconds, old_shared.direction) == (
        boundary - minute,
        42,
        "out",
    ), "time, duration and direction are kept"
    kept_shared.refresh_from_db()
    assert kept_shared.anonymized_at is None and kept_shared.remote_address == "peer@x.example"
    assert not CallRecord.objects.filter(pk=old_personal.pk).exists()
    assert CallRecord.objects.filter(pk=kept_personal.pk).exists()


def test_a_second_run_changes_nothing(shared, personal):
    for days in (100, 120, 10):
        call(shared, NOW - timedelta(days=days))
        call(personal, NOW - timedelta(days=days))
    first = retention.call_history_retention_run(now=NOW)
    assert (first.anonymized, first.deleted) == (2, 2)
    snapshot = list(CallRecord.objects.order_by("pk").values())
    second = retention.call_history_retention_run(now=NOW + timedelta(hours=1))
    assert (second.anonymized, second.deleted) == (0, 0)
    assert list(CallRecord.objects.order_by("pk").values()) == snapshot


def test_the_task_runs_the_job(shared):
    call(shared, datetime(2020, 1, 1, tzinfo=UTC))
    assert tasks.call_history_retention_run.apply().get() == {"anonymized": 1, "deleted": 0}


def test_switching_personal_back_to_shared_does_not_bring_data_back(personas, personal):
    call(personal, NOW - timedelta(days=100))
    retention.call_history_retention_run(now=NOW)
    endpoints.endpoint_set_usage_model(
        actor=personas.regular, consumer=personal, usage_model="shared"
    )
    retention.call_history_retention_run(now=NOW)
    assert not CallRecord.objects.filter(consumer=personal).exists()


def test_batches_are_bounded(shared, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 7)
    old_calls(shared, 30)
    run = retention.call_history_retention_run(now=NOW)
    assert run.anonymized == 30
    assert not CallRecord.objects.filter(anonymized_at__isnull=True).exists()


def test_a_batch_takes_every_record_of_its_last_instant(shared, personal, monkeypatch):
    """Batches are ranges of start times: records starting at the same instant as a batch's
    last one, more than a batch holds, go in that batch rather than between two."""
    monkeypatch.setattr(retention, "BATCH_SIZE", 3)
    same = NOW - timedelta(days=100)
    for consumer in (shared, personal):
        for _ in range(4):
            call(consumer, same)
    old_calls(shared, 5)
    run = retention.call_history_retention_run(now=NOW)
    assert (run.anonymized, run.deleted) == (9, 4)
    assert not CallRecord.objects.filter(anonymized_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_split_the_work(shared, monkeypatch):
    requires_postgres()
    monkeypatch.setattr(retention, "BATCH_SIZE", 50)
    old_calls(shared, 1000)
    run = partial(retention.call_history_retention_run, now=NOW)
    runs = run_at_once(run, run)
    assert raised(runs) == []
    assert sum(r.anonymized for r in runs) == 1000, "each record anonymised exactly once"
    assert not CallRecord.objects.filter(anonymized_at__isnull=True).exists()


def test_a_nightly_run_reads_the_newly_aged_records_not_the_table(shared, personal):
    """The steady state: the backlog was anonymised on earlier nights and the last 3 months
    are not due yet. The run must find the few records that have just aged through the index
    of the records still to do: neither walk the anonymised past or the recent months nor step
    through the table's key span (its cost would then grow with the table: at 2M records,
    seconds every night). The past's keys are spread wide, as years of ingestion leave them."""
    requires_postgres()
    day_before = NOW - timedelta(days=1)
    past = [
        CallRecord(
            pk=10_000_000 + i * 100_000,
            consumer=shared,
            started_at=NOW - timedelta(days=100, minutes=i),
            direction="in",
            anonymized_at=day_before,
        )
        for i in range(2000)
    ]
    recent = [
        CallRecord(
            consumer=consumer, started_at=NOW - timedelta(days=10, minutes=i), direction="in"
        )
        for i in range(1000)
        for consumer in (shared, personal)
    ]
    CallRecord.objects.bulk_create(past + recent)
    aged = retention.retention_cutoff(NOW) - timedelta(hours=1)
    for i in range(5):
        call(shared, aged - timedelta(minutes=i))
        call(personal, aged - timedelta(minutes=i))
    read_before = _call_records_read()

    with CaptureQueriesContext(connection) as queries:
        run = retention.call_history_retention_run(now=NOW)

    assert (run.anonymized, run.deleted) == (5, 5)
    read = _call_records_read() - read_before
    assert read <= 100, f"{read} call records read for 10 due among 4,010"
    statements = [q for q in queries.captured_queries if "callrecord" in q["sql"]]
    assert len(statements) <= 3, f"{len(statements)} statements for one batch of 10"


def _call_records_read() -> int:
    """Call records this transaction has read so far, by sequential and index scans
    (PostgreSQL's per-transaction statistics). ANALYZE first, as autovacuum would have, so
    that the planner knows the table's shape."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {CallRecord._meta.db_table}")
        cursor.execute(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = %s",
            [CallRecord._meta.db_table],
        )
        return cursor.fetchone()[0]
