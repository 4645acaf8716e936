"""The Webhooks pages, included in api.urls (its "api" namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

ENDPOINT = "webhooks/<uuid:webhook_id>/"

urlpatterns = [
    path("webhooks/", views.webhook_list, name="webhook_list"),
    path("webhooks/new/", views.webhook_create, name="webhook_create"),
    path(ENDPOINT, views.webhook_detail, name="webhook_detail"),
    path(f"{ENDPOINT}edit/", views.webhook_edit, name="webhook_edit"),
    path(f"{ENDPOINT}delete/", views.webhook_delete, name="webhook_delete"),
    path(
        f"{ENDPOINT}deliveries/<uuid:delivery_id>/redeliver/",
        views.webhook_redeliver,
        name="webhook_redeliver",
    ),
]
