from __future__ import annotations

from django.urls import path

from . import views

app_name = "licensing"

urlpatterns = [
    path("licences/", views.licence_list, name="licence_list"),
]
