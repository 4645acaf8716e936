from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The partner REST API (/api/v1/): tokens, resources over the apps' services, webhooks."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "Partner API"

    def ready(self) -> None:
        # Events of the apps below become webhook deliveries (portal.events).
        from portal.events import events_handler_register

        from .webhooks.delivery import events_record, partners_subscribed

        events_handler_register(events_record, listening=partners_subscribed)
