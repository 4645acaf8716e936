"""The root URLconf: every app's pages. It sits above all the apps (they never import it)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from consumers import endpoint_views
from consumers import views as consumer_views
from portal.urls import account_patterns

admin.site.site_header = "Video service operations"
admin.site.site_title = "Operations"

COMPANY = "companies/<uuid:company_id>/"

urlpatterns = [
    path("admin/", admin.site.urls),
    *account_patterns,
    path("invite/<str:token>/", consumer_views.invitation_accept, name="invitation_accept"),
    re_path(
        r"^provision/(?P<token>[0-9a-f]{64})/config\.(?P<config_format>json|cisco|poly)$",
        endpoint_views.endpoint_provision,
        name="endpoint_provision",
    ),
    path("api/call-records/", endpoint_views.call_records_ingest, name="call_records_ingest"),
    path(
        "companies/consumers.csv",
        consumer_views.partner_licence_consumers_export,
        name="partner_licence_consumers_export",
    ),
    path("", include("portal.urls")),
    path(COMPANY, include("consumers.urls")),
    path(COMPANY, include("domains.urls")),
    path(COMPANY, include("licensing.urls")),
    path(COMPANY, include("handouts.urls")),
]
