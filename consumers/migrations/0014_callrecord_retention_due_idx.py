"""The partial index of the call records not yet anonymised, which the retention job reads
(consumers.services.retention). Built CONCURRENTLY on PostgreSQL, so that call records keep
coming in while it builds on a large table; SQLite builds it plainly."""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


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
