from __future__ import annotations

from django.urls import path

import portal.converters  # noqa: F401 - registers the format converters

from . import batch_views, detail_views, endpoint_views, views

app_name = "consumers"

BATCH = "batch/<uuid:batch_id>/"
CONSUMER = "consumers/<uuid:consumer_id>/"
ENDPOINT = "endpoints/<uuid:consumer_id>/"

urlpatterns = [
    path("batch/new/", batch_views.batch_new, name="batch_new"),
    path(BATCH, batch_views.batch_detail, name="batch_detail"),
    path(BATCH + "progress/", batch_views.batch_progress, name="batch_progress"),
    path(BATCH + "confirm/", batch_views.batch_confirm, name="batch_confirm"),
    path(BATCH + "cancel/", batch_views.batch_cancel, name="batch_cancel"),
    path(BATCH + "report.csv", batch_views.batch_report, name="batch_report"),
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/import/", views.user_bulk_invite, name="user_bulk_invite"),
    path("team-vmrs/", views.team_vmr_list, name="team_vmr_list"),
    path("team-vmrs/add/", views.team_vmr_add, name="team_vmr_add"),
    path("endpoints/", views.endpoint_list, name="endpoint_list"),
    path("endpoints/add/", views.endpoint_add, name="endpoint_add"),
    path(CONSUMER, detail_views.consumer_detail, name="consumer_detail"),
    path(CONSUMER + "edit/", views.consumer_edit, name="consumer_edit"),
    path(CONSUMER + "delete/", views.consumer_delete, name="consumer_delete"),
    path(CONSUMER + "activate/", views.consumer_activate, name="consumer_activate"),
    path(CONSUMER + "resend/", views.invitation_resend, name="invitation_resend"),
    path(CONSUMER + "revoke/", views.invitation_revoke, name="invitation_revoke"),
    path(ENDPOINT, endpoint_views.endpoint_detail, name="endpoint_detail"),
    path(
        ENDPOINT + "usage-model/", endpoint_views.endpoint_usage_model, name="endpoint_usage_model"
    ),
    path(
        ENDPOINT + "sip-password/",
        endpoint_views.endpoint_regenerate_password,
        name="endpoint_regenerate_password",
    ),
    path(
        ENDPOINT + "provisioning/rotate/",
        endpoint_views.endpoint_rotate_provisioning,
        name="endpoint_rotate_provisioning",
    ),
    path(ENDPOINT + "qr.<qrfmt:qr_format>", endpoint_views.endpoint_qr, name="endpoint_qr"),
    path(ENDPOINT + "qr/print/", endpoint_views.endpoint_qr_print, name="endpoint_qr_print"),
    path(
        ENDPOINT + "config.<configfmt:config_format>",
        endpoint_views.endpoint_config,
        name="endpoint_config",
    ),
    path(ENDPOINT + "calls/", endpoint_views.endpoint_calls, name="endpoint_calls"),
    path("licences/consumers.csv", views.licence_consumers_export, name="licence_consumers_export"),
]
