"""Trigram indexes for the consumer search (PostgreSQL only; SQLite, the embedded default,
searches by scanning, which is fine at its size)."""

from __future__ import annotations

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS consumer_alias_trgm ON consumers_consumer "
    "USING gin (alias gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS consumer_display_name_trgm ON consumers_consumer "
    "USING gin (upper(display_name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS invitation_email_trgm ON consumers_invitation "
    "USING gin (upper(email::text) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS invitation_email_trgm",
    "DROP INDEX IF EXISTS consumer_display_name_trgm",
    "DROP INDEX IF EXISTS consumer_alias_trgm",
]


def run(statements):  # type: ignore[no-untyped-def]
    def apply(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("consumers", "0003_batchjob_batchitem_and_more")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
