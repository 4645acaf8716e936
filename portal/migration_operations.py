"""Migration operations the apps share."""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


def _on_postgres(schema_editor) -> bool:  # type: ignore[no-untyped-def]
    return schema_editor.connection.vendor == "postgresql"


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, so that a large table keeps taking writes while
    the index builds (the migration must be `atomic = False`); a plain CREATE INDEX on SQLite."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if _on_postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if _on_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


def drop_indexes_concurrently(
    table: str, indexes: dict[str, str], postgres_only: frozenset[str] = frozenset()
) -> migrations.RunPython:
    """Drop indexes the models no longer declare (name → the column list they covered, to build
    them again on the way back): CONCURRENTLY on PostgreSQL, so that the table keeps taking
    writes (the migration must be `atomic = False`); plainly on SQLite, where the indexes named
    in `postgres_only` never existed. Pair it with the models' state change in a
    SeparateDatabaseAndState."""

    def concurrently(schema_editor) -> str:  # type: ignore[no-untyped-def]
        return "CONCURRENTLY " if _on_postgres(schema_editor) else ""

    def drop(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        for name in indexes:
            schema_editor.execute(f'DROP INDEX {concurrently(schema_editor)}IF EXISTS "{name}"')

    def create(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        for name, columns in indexes.items():
            if name in postgres_only and not _on_postgres(schema_editor):
                continue
            schema_editor.execute(
                f'CREATE INDEX {concurrently(schema_editor)}IF NOT EXISTS "{name}" '
                f'ON "{table}" ({columns})'
            )

    return migrations.RunPython(drop, create)
