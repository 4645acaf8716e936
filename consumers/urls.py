from __future__ import annotations

from django.urls import path

from . import views

app_name = "consumers"

urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("team-vmrs/", views.team_vmr_list, name="team_vmr_list"),
    path("endpoints/", views.endpoint_list, name="endpoint_list"),
]
