"""The waiting emails by subject (`about`, `name`): what a re-send replaces is found without
reading every waiting message. Built concurrently on PostgreSQL (the outbox takes writes)."""

from __future__ import annotations

from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("portal", "0008_auditevent_fk_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["about", "name"],
                name="outbox_pending_about_idx",
            ),
        ),
    ]
