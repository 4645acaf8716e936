from __future__ import annotations

from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import activity

        # The activity log names domains through this (portal.activity).
        activity.register()
