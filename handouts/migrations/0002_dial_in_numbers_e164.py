"""Dial-in numbers become phone numbers stored as E.164 (django-phonenumber-field).

Each stored number is read with its row's country as the region (so "020 7946 0000" in GB
becomes +442079460000) and written back in E.164. A number that is not a valid phone number
stops the migration with the rows to fix: it would otherwise be printed in customer handouts.
Fix or delete them in Django admin, then migrate again."""

import phonenumbers
from django.db import migrations
import phonenumber_field.modelfields


def to_e164(apps, schema_editor):
    DialInNumber = apps.get_model("handouts", "DialInNumber")
    refused = []
    for row in DialInNumber.objects.order_by("pk"):
        region = str(row.country or "").upper() or None
        try:
            parsed = phonenumbers.parse(row.number, region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            refused.append(f"#{row.pk} ({row.country}, {row.label}): {row.number!r}")
            continue
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if e164 != row.number:
            DialInNumber.objects.filter(pk=row.pk).update(number=e164)
    if refused:
        raise RuntimeError(
            "These dial-in numbers are not valid phone numbers; fix or delete them, then "
            "migrate again:\n" + "\n".join(refused)
        )


class Migration(migrations.Migration):

    dependencies = [
        ("handouts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_e164, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="dialinnumber",
            name="number",
            field=phonenumber_field.modelfields.PhoneNumberField(
                help_text="In international form (+44 20 7946 0000), or national for the country.",
                max_length=40,
                region=None,
            ),
        ),
    ]
