from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            lookups,  # noqa: F401  (registers the any_of lookup)
            observability,
            signals,  # noqa: F401  (drops cached tab counts on changes)
        )

        observability.install()  # job summary lines, request ids into tasks, Celery's logging
