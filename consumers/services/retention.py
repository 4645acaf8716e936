"""Endpoint call history retention: older than 3 calendar months, Shared endpoints keep the
record anonymised in place (time, duration, direction kept), Personal endpoints lose it.

The work is found through a partial index of the records not yet anonymised, on their start
(`callrecord_retention_due_idx`): a record leaves it once anonymised (or deleted), so the
nightly run reads the day's newly aged records and nothing of the anonymised past or of the
last 3 months. Its cost is that of the rows it changes, however large the table has grown.

Set-based SQL in batches of about BATCH_SIZE records in order of start, each in its own
transaction. A batch is the range of start times of the next BATCH_SIZE records due, read from
that index: it begins after the last batch ended, never at the start of the index, so it does
not walk the entries of the batches before it, which stay in the index (dead) until VACUUM.
Both ends are the records' own: PostgreSQL estimates how many records a range holds from the
whole table and takes every record as equally likely to be anonymised, so under an open-ended
`started_at < cutoff` it would expect a quarter of the table and scan all of it. (A record that
arrives months late widens the first batch of one night back to it, and that night may scan.)
Each statement is a conditional UPDATE / DELETE: a second or concurrent run finds nothing left
to change and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.utils import timezone

from ..models import CallRecord, EndpointSettings, UsageModel

RETENTION = relativedelta(months=3)
BATCH_SIZE = 50_000  # records per batch (more where several start at the same instant)


def retention_cutoff(now: datetime) -> datetime:
    """Three calendar months back; month ends clamp (31 May -> 28/29 Feb)."""
    return now - RETENTION


@dataclass
class RetentionRun:
    anonymized: int = 0
    deleted: int = 0


# Each statement repeats the partial index's condition (`anonymized_at IS NULL`) so that
# PostgreSQL can answer it from that index. The delete may too: a Personal endpoint has no
# anonymised record, as switching an endpoint to Personal deletes its records older than 3
# months at once (endpoint_set_usage_model) and the Django admin cannot change the usage model.
_DUE = "anonymized_at IS NULL AND started_at < %s"


def _sql(after: bool) -> tuple[str, str, str]:
    """The next batch (its first and last start, and how many records it takes), its anonymise
    and its delete; `after`: it starts after an earlier batch's end."""
    cr, ep = CallRecord._meta.db_table, EndpointSettings._meta.db_table
    personal = f"SELECT consumer_id FROM {ep} WHERE usage_model = %s"
    start = " AND started_at > %s" if after else ""
    batch = f"""
        SELECT min(started_at), max(started_at), count(*) FROM (
            SELECT started_at FROM {cr} WHERE {_DUE}{start} ORDER BY started_at LIMIT %s
        ) batch
    """
    # Records starting at the same instant as the batch's last one go in it, however many.
    anonymize = f"""
        UPDATE {cr} SET remote_address = '', remote_display_name = '', remote_ip = NULL,
               anonymized_at = %s
        WHERE {_DUE} AND started_at BETWEEN %s AND %s AND consumer_id NOT IN ({personal})
    """
    delete = f"""
        DELETE FROM {cr}
        WHERE {_DUE} AND started_at BETWEEN %s AND %s AND consumer_id IN ({personal})
    """
    return batch, anonymize, delete


def call_history_retention_run(*, now: datetime | None = None) -> RetentionRun:
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    run = RetentionRun()
    after: datetime | None = None
    while True:
        batch, anonymize, delete = _sql(after is not None)
        since = [after] if after is not None else []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(batch, [cutoff, *since, BATCH_SIZE])
            first, last, count = cursor.fetchone()
            if not count:
                return run
            cursor.execute(anonymize, [now, cutoff, first, last, UsageModel.PERSONAL])
            run.anonymized += cursor.rowcount
            cursor.execute(delete, [cutoff, first, last, UsageModel.PERSONAL])
            run.deleted += cursor.rowcount
        if count < BATCH_SIZE:
            return run
        after = last
