"""The root URLconf: every app's pages. It sits above all the apps (they never import it)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from api import v1 as api_v1
from consumers import endpoint_views
from consumers import views as consumer_views
from portal import errors, health
from portal.admin import OpsAdminSite
from portal.urls import account_patterns

# Every app registers with the default site; it becomes the ops site, behind the portal's sign-in
# and second factor (the way django-otp's documentation swaps in its admin site).
admin.site.__class__ = OpsAdminSite

COMPANY = "companies/<uuid:company_id>/"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    *account_patterns,
    path("invite/<str:token>/", consumer_views.invitation_accept, name="invitation_accept"),
    re_path(
        r"^provision/(?P<token>[0-9a-f]{64})/config\.(?P<config_format>json|cisco|poly)$",
        endpoint_views.endpoint_provision,
        name="endpoint_provision",
    ),
    path("api/v1/", api_v1.api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", api_v1.not_found),
    path("api/call-records/", endpoint_views.call_records_ingest, name="call_records_ingest"),
    path(
        "companies/consumers.csv",
        consumer_views.partner_licence_consumers_export,
        name="partner_licence_consumers_export",
    ),
    path("", include("portal.urls")),
    path("", include("api.urls")),
    path(COMPANY, include("consumers.urls")),
    path(COMPANY, include("domains.urls")),
    path(COMPANY, include("licensing.urls")),
    path(COMPANY, include("handouts.urls")),
]

# The product's error pages (portal.errors), in the layout with a way back.
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
