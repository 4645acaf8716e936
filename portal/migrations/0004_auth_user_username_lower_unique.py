"""Sign-in addresses compare in any case: one account per lower-cased username (portal.auth).

Partner staff accounts are stored lower-case already (invitations lower-case the address). If two
accounts differ only by case, this migration stops and names them: merging or renaming accounts
is a decision for the operations staff, never one to take silently here."""

from __future__ import annotations

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

INDEX = "portal_auth_user_username_lower_uniq"


def refuse_usernames_differing_only_by_case(apps, schema_editor):
    User = apps.get_model("auth", "User")
    clashes = (
        User.objects.annotate(username_lower=Lower("username"))
        .values("username_lower")
        .annotate(accounts=Count("id"))
        .filter(accounts__gt=1)
    )
    if clashes.exists():
        ids = sorted(
            User.objects.annotate(username_lower=Lower("username"))
            .filter(username_lower__in=clashes.values("username_lower"))
            .values_list("id", flat=True)
        )
        raise RuntimeError(
            "Sign-in addresses now compare in any case, but these accounts (auth_user ids "
            f"{ids}) have usernames that differ only by case. Rename or remove all but one "
            "of each (Django admin), then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("portal", "0003_alter_partner_brand_color"),
    ]

    operations = [
        migrations.RunPython(refuse_usernames_differing_only_by_case, migrations.RunPython.noop),
        # An expression index: PostgreSQL and SQLite both have them, with this same SQL.
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (LOWER(username))",
            f"DROP INDEX {INDEX}",
        ),
    ]
