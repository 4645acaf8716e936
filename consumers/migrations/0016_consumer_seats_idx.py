"""The partial index of the consumers holding a paid seat, by company and kind: the seat counts
(consumers.seats.seats_used) read it alone. Built CONCURRENTLY on PostgreSQL, so that consumers
can be added while it builds; SQLite builds it plainly."""

from __future__ import annotations

from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("consumers", "0015_callrecord_fewer_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="consumer",
            index=models.Index(
                condition=models.Q(("is_trial", False), ("status__in", ["invited", "active"])),
                fields=["company", "kind"],
                name="consumer_seats_idx",
            ),
        ),
    ]
