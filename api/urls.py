"""The API's pages in the portal (namespace "api"): API tokens; project.urls mounts them."""

from __future__ import annotations

from django.urls import path

from . import views
from .webhooks import urls as webhook_urls

app_name = "api"

urlpatterns = [
    path("api-tokens/", views.api_token_list, name="token_list"),
    path("api-tokens/new/", views.api_token_create, name="token_create"),
    path("api-tokens/<uuid:token_id>/revoke/", views.api_token_revoke, name="token_revoke"),
    *webhook_urls.urlpatterns,
]
