"""Endpoint call history retention: older than 3 calendar months, Shared endpoints keep the
record anonymised in place (time, duration, direction kept), Personal endpoints lose it.

Set-based SQL in bounded batches, each in its own transaction, claimed with
FOR UPDATE SKIP LOCKED so that concurrent runs split the work instead of repeating it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.utils import timezone

from .models import CallRecord, EndpointSettings, UsageModel

RETENTION = relativedelta(months=3)
BATCH_SIZE = 20_000


def retention_cutoff(now: datetime) -> datetime:
    """Three calendar months back; month ends clamp (31 May -> 28/29 Feb)."""
    return now - RETENTION


@dataclass
class RetentionRun:
    anonymized: int = 0
    deleted: int = 0


def _skip_locked() -> str:
    return " FOR UPDATE OF cr SKIP LOCKED" if connection.vendor == "postgresql" else ""


def _tables() -> dict[str, str]:
    return {
        "cr": CallRecord._meta.db_table,
        "ep": EndpointSettings._meta.db_table,
    }


def _anonymize_batch(cutoff: datetime, now: datetime) -> int:
    t = _tables()
    sql = f"""
        UPDATE {t["cr"]} SET remote_address = '', remote_display_name = '', remote_ip = NULL,
               anonymized_at = %s
        WHERE id IN (
            SELECT cr.id FROM {t["cr"]} cr
            LEFT JOIN {t["ep"]} ep ON ep.consumer_id = cr.consumer_id
            WHERE cr.anonymized_at IS NULL AND cr.started_at < %s
              AND COALESCE(ep.usage_model, %s) = %s
            LIMIT %s{_skip_locked()}
        )
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [now, cutoff, UsageModel.SHARED, UsageModel.SHARED, BATCH_SIZE])
        return cursor.rowcount


def _delete_batch(cutoff: datetime) -> int:
    t = _tables()
    sql = f"""
        DELETE FROM {t["cr"]} WHERE id IN (
            SELECT cr.id FROM {t["cr"]} cr
            JOIN {t["ep"]} ep ON ep.consumer_id = cr.consumer_id
            WHERE cr.started_at < %s AND ep.usage_model = %s
            LIMIT %s{_skip_locked()}
        )
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [cutoff, UsageModel.PERSONAL, BATCH_SIZE])
        return cursor.rowcount


def call_history_retention_run(*, now: datetime | None = None) -> RetentionRun:
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    run = RetentionRun()
    while (n := _anonymize_batch(cutoff, now)) > 0:
        run.anonymized += n
        if n < BATCH_SIZE:
            break
    while (n := _delete_batch(cutoff)) > 0:
        run.deleted += n
        if n < BATCH_SIZE:
            break
    return run
