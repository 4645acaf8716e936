from __future__ import annotations

from django.urls import path

from . import views

app_name = "domains"

D = "domains/<uuid:domain_id>/"

urlpatterns = [
    path("domains/", views.domain_list, name="domain_list"),
    path("domains/add/", views.domain_add, name="domain_add"),
    path(D, views.domain_detail, name="domain_detail"),
    path(D + "status/", views.domain_status, name="domain_status"),
    path(D + "dns-check/", views.domain_dns_check, name="domain_dns_check"),
    path(D + "verify/", views.domain_verify, name="domain_verify"),
    path(D + "resend-email/", views.domain_resend_email, name="domain_resend_email"),
    path(D + "delete/", views.domain_delete, name="domain_delete"),
    path("microsoft365/add/", views.m365_add, name="m365_add"),
    path("microsoft365/<uuid:m365_id>/verify/", views.m365_verify, name="m365_verify"),
    path("microsoft365/<uuid:m365_id>/delete/", views.m365_delete, name="m365_delete"),
    path("interop/add/", views.interop_add, name="interop_add"),
    path("interop/<uuid:interop_id>/delete/", views.interop_delete, name="interop_delete"),
]
