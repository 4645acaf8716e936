"""The audit log's partner and company keys lose their single-column indexes: the (partner,
created_at) and (company, created_at) indexes serve the foreign keys, and every index is written
on every event. Dropped concurrently on PostgreSQL, and without touching the constraints
(Django's AlterField would drop and re-add them, checking every row of the log under lock)."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "portal_auditevent_company_id_6334d65e": "company_id",
    "portal_auditevent_partner_id_abbf6e47": "partner_id",
}


def _concurrently(schema_editor) -> str:  # type: ignore[no-untyped-def]
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def drop(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX {_concurrently(schema_editor)}IF EXISTS "{name}"')


def create(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS "{name}" '
            f'ON "portal_auditevent" ("{column}")'
        )


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("portal", "0007_auditevent_filters"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, create)],
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
