"""Endpoint call history retention: older than 3 calendar months, Shared endpoints keep the
record anonymised in place (time, duration, direction kept), Personal endpoints lose it.

Set-based SQL over bounded ranges of primary keys, each range in its own transaction: a range is
an index range scan, so the work per batch stays flat however far the job has got (a LIMIT over
the rows still to do would rescan the ones already done). Each statement is a conditional
UPDATE / DELETE: a second or concurrent run finds nothing left to change in a range and changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.utils import timezone

from ..models import CallRecord, EndpointSettings, UsageModel

RETENTION = relativedelta(months=3)
BATCH_SIZE = 50_000  # primary keys per range


def retention_cutoff(now: datetime) -> datetime:
    """Three calendar months back; month ends clamp (31 May -> 28/29 Feb)."""
    return now - RETENTION


@dataclass
class RetentionRun:
    anonymized: int = 0
    deleted: int = 0


def _sql() -> tuple[str, str]:
    cr, ep = CallRecord._meta.db_table, EndpointSettings._meta.db_table
    personal = f"SELECT consumer_id FROM {ep} WHERE usage_model = %s"
    anonymize = f"""
        UPDATE {cr} SET remote_address = '', remote_display_name = '', remote_ip = NULL,
               anonymized_at = %s
        WHERE id BETWEEN %s AND %s AND anonymized_at IS NULL AND started_at < %s
          AND consumer_id NOT IN ({personal})
    """
    delete = f"""
        DELETE FROM {cr}
        WHERE id BETWEEN %s AND %s AND started_at < %s AND consumer_id IN ({personal})
    """
    return anonymize, delete


def call_history_retention_run(*, now: datetime | None = None) -> RetentionRun:
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    anonymize, delete = _sql()
    run = RetentionRun()
    with connection.cursor() as cursor:
        # The whole key range (two primary-key index probes); ranges without old rows cost an
        # empty index range scan each.
        cursor.execute(f"SELECT min(id), max(id) FROM {CallRecord._meta.db_table}")
        low, high = cursor.fetchone()
    if low is None:
        return run
    for start in range(low, high + 1, BATCH_SIZE):
        end = start + BATCH_SIZE - 1
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(anonymize, [now, start, end, cutoff, UsageModel.PERSONAL])
            run.anonymized += cursor.rowcount
            cursor.execute(delete, [start, end, cutoff, UsageModel.PERSONAL])
            run.deleted += cursor.rowcount
    return run
