"""The audit log's partner and company keys lose their single-column indexes: the (partner,
created_at) and (company, created_at) indexes serve the foreign keys, and every index is written
on every event. Dropped concurrently on PostgreSQL, and without touching the constraints
(Django's AlterField would drop and re-add them, checking every row of the log under lock)."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

from portal.migration_operations import drop_indexes_concurrently

class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("portal", "0007_auditevent_filters"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_indexes_concurrently(
                    "portal_auditevent",
                    {
                        "portal_auditevent_company_id_6334d65e": '"company_id"',
                        "portal_auditevent_partner_id_abbf6e47": '"partner_id"',
                    },
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="audit_events",
                        to="portal.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="partner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="audit_events",
                        to="portal.partner",
                    ),
                ),
            ],
        ),
    ]
