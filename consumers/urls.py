from __future__ import annotations

from django.urls import path

from . import views

app_name = "consumers"

urlpatterns = [
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
    path("consumers/<uuid:consumer_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("consumers/<uuid:consumer_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
]
