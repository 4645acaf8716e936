from __future__ import annotations

from django.urls import path

import portal.converters  # noqa: F401 - registers the format converters

from . import batch_views, endpoint_views, views

app_name = "consumers"

urlpatterns = [
    path("batch/new/", batch_views.batch_new, name="batch_new"),
    path("batch/<uuid:batch_id>/", batch_views.batch_detail, name="batch_detail"),
    path("batch/<uuid:batch_id>/progress/", batch_views.batch_progress, name="batch_progress"),
    path("batch/<uuid:batch_id>/confirm/", batch_views.batch_confirm, name="batch_confirm"),
    path("batch/<uuid:batch_id>/cancel/", batch_views.batch_cancel, name="batch_cancel"),
    path("batch/<uuid:batch_id>/report.csv", batch_views.batch_report, name="batch_report"),
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/import/", views.user_bulk_invite, name="user_bulk_invite"),
    path("team-vmrs/", views.team_vmr_list, name="team_vmr_list"),
    path("team-vmrs/add/", views.team_vmr_add, name="team_vmr_add"),
    path("endpoints/", views.endpoint_list, name="endpoint_list"),
    path("endpoints/add/", views.endpoint_add, name="endpoint_add"),
    path("consumers/<uuid:consumer_id>/edit/", views.consumer_edit, name="consumer_edit"),
    path("consumers/<uuid:consumer_id>/delete/", views.consumer_delete, name="consumer_delete"),
    path(
        "consumers/<uuid:consumer_id>/activate/", views.consumer_activate, name="consumer_activate"
    ),
    path("endpoints/<uuid:consumer_id>/", endpoint_views.endpoint_detail, name="endpoint_detail"),
    path(
        "endpoints/<uuid:consumer_id>/usage-model/",
        endpoint_views.endpoint_usage_model,
        name="endpoint_usage_model",
    ),
    path(
        "endpoints/<uuid:consumer_id>/sip-password/",
        endpoint_views.endpoint_regenerate_password,
        name="endpoint_regenerate_password",
    ),
    path(
        "endpoints/<uuid:consumer_id>/provisioning/rotate/",
        endpoint_views.endpoint_rotate_provisioning,
        name="endpoint_rotate_provisioning",
    ),
    path(
        "endpoints/<uuid:consumer_id>/qr.<qrfmt:qr_format>",
        endpoint_views.endpoint_qr,
        name="endpoint_qr",
    ),
    path(
        "endpoints/<uuid:consumer_id>/qr/print/",
        endpoint_views.endpoint_qr_print,
        name="endpoint_qr_print",
    ),
    path(
        "endpoints/<uuid:consumer_id>/config.<configfmt:config_format>",
        endpoint_views.endpoint_config,
        name="endpoint_config",
    ),
    path(
        "endpoints/<uuid:consumer_id>/calls/", endpoint_views.endpoint_calls, name="endpoint_calls"
    ),
    path("consumers/<uuid:consumer_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path(
        "licences/consumers.csv",
        views.licence_consumers_export,
        name="licence_consumers_export",
    ),
    path("consumers/<uuid:consumer_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
]
