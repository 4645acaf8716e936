"""Two indexes fewer on the call records, each written for every record ingested and every
record the retention job anonymises: the consumer key's own (the (consumer, started_at) index
serves it) and the `_like` index of `call_id` (looked up by equality only). Dropped
concurrently on PostgreSQL, without touching the foreign key (Django's AlterField would drop
and re-add it, checking every record under lock)."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

from portal.migration_operations import drop_indexes_concurrently


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("consumers", "0014_callrecord_retention_due_idx"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_indexes_concurrently(
                    "consumers_callrecord",
                    {
                        "consumers_callrecord_consumer_id_a940ad14": '"consumer_id"',
                        "consumers_callrecord_call_id_46af9629_like": (
                            '"call_id" varchar_pattern_ops'
                        ),
                    },
                    postgres_only=frozenset({"consumers_callrecord_call_id_46af9629_like"}),
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="callrecord",
                    name="consumer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="call_records",
                        to="consumers.consumer",
                    ),
                ),
            ],
        ),
    ]
