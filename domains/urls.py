from __future__ import annotations

from django.urls import path

from . import views

app_name = "domains"

urlpatterns = [
    path("domains/", views.domain_list, name="domain_list"),
]
