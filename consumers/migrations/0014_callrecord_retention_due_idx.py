"""The partial index of the call records not yet anonymised, which the retention job reads
(consumers.services.retention). Built CONCURRENTLY on PostgreSQL, so that call records keep
coming in while it builds on a large table; SQLite builds it plainly."""

from __future__ import annotations

from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("consumers", "0013_settings_verbose_names"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="callrecord",
            index=models.Index(
                condition=models.Q(("anonymized_at__isnull", True)),
                fields=["started_at"],
                name="callrecord_retention_due_idx",
            ),
        ),
    ]
