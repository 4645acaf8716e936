from __future__ import annotations

from django.apps import AppConfig


class HandoutsConfig(AppConfig):
    name = "handouts"
    default_auto_field = "django.db.models.BigAutoField"
