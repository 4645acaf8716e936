"""Every existing room (a user's personal VMR, a team VMR) gets its conference ID, as new rooms
get one when they are created (consumers.conference_ids)."""

from django.db import migrations


def backfill(apps, schema_editor):
    from consumers.conference_ids import conference_ids_backfill

    conference_ids_backfill(apps.get_model("consumers", "Consumer"))


class Migration(migrations.Migration):

    dependencies = [
        ("consumers", "0011_consumer_conference_id"),
    ]

    operations = [
        # Nothing to undo: going back drops the column with its values.
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
