from __future__ import annotations

from django.apps import AppConfig


class ConsumersConfig(AppConfig):
    name = "consumers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from licensing.holders import seat_holders_register

        from . import activity
        from .seats import ConsumerSeatHolders

        # Licensing counts and releases seats through this (licensing.holders explains why).
        seat_holders_register(ConsumerSeatHolders())
        # The activity log names consumers and batches through this (portal.activity).
        activity.register()
